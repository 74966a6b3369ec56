/**
 * Claude Code for the end-to-end test: installs a pinned `@anthropic-ai/claude-code` into a cache
 * folder outside the repository (once; later runs reuse it), finds its native binary (the
 * package's postinstall links it over `bin/claude.exe`; when install scripts did not run, the
 * platform package's binary is used directly), and runs `claude -p` in a throwaway HOME with
 * telemetry and non-essential traffic off, pointed at a gateway by ANTHROPIC_BASE_URL.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensurePinned, firstBinary } from './pinned-install.js';

export const CLAUDE_CODE_VERSION = '2.1.197';
export const CLAUDE_CODE_DIR = path.join(os.tmpdir(), 'bc-claude-code');

const PACKAGE = '@anthropic-ai/claude-code';

function platformPackage(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const musl = process.platform === 'linux' && report?.header?.glibcVersionRuntime === undefined;
  return `${PACKAGE}-${process.platform}-${process.arch}${musl ? '-musl' : ''}`;
}

/** The native binary, or undefined when the install holds only the placeholder stub. */
function binaryPath(dir: string): string | undefined {
  const modules = path.join(dir, 'node_modules');
  const binName = process.platform === 'win32' ? 'claude.exe' : 'claude';
  return firstBinary([
    path.join(modules, PACKAGE, 'bin', 'claude.exe'),
    path.join(modules, platformPackage(), binName),
  ]);
}

/** Installs the pinned Claude Code when missing and returns the path of its binary. */
export function ensureClaudeCode(timeoutMs = 300_000): Promise<string> {
  return ensurePinned(
    { name: PACKAGE, version: CLAUDE_CODE_VERSION, dir: CLAUDE_CODE_DIR, binary: binaryPath },
    timeoutMs,
  );
}

export interface ClaudeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ClaudeRunOptions {
  /** the gateway's base URL (no `/v1`) */
  baseUrl: string;
  /** a gateway client key */
  apiKey: string;
  model: string;
  prompt: string;
  timeoutMs?: number;
  /** more arguments after `-p PROMPT --model MODEL` */
  args?: string[];
  /** more environment (e.g. ANTHROPIC_DEFAULT_HAIKU_MODEL) */
  env?: Record<string, string>;
}

/** The environment without anything that would send Claude Code elsewhere or change its auth. */
function cleanEnv(home: string, o: ClaudeRunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(ANTHROPIC_|CLAUDE_|BC_|AWS_|VERTEX|CLOUD_ML)/.test(k)) continue;
    if (/^(HTTPS?_PROXY|ALL_PROXY|NODE_OPTIONS)$/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    ANTHROPIC_BASE_URL: o.baseUrl,
    ANTHROPIC_API_KEY: o.apiKey,
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    NO_PROXY: '127.0.0.1,localhost',
    CI: '1',
    ...o.env,
  };
}

/** Runs `claude -p PROMPT --model MODEL` in a fresh HOME and working folder; never throws on exit codes. */
export async function runClaude(bin: string, o: ClaudeRunOptions): Promise<ClaudeRun> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-claude-home-'));
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-claude-cwd-'));
  try {
    return await new Promise<ClaudeRun>((resolve, reject) => {
      const child = spawn(bin, ['-p', o.prompt, '--model', o.model, ...(o.args ?? [])], {
        cwd,
        env: cleanEnv(home, o),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `claude timed out after ${o.timeoutMs ?? 90_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
          ),
        );
      }, o.timeoutMs ?? 90_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}
