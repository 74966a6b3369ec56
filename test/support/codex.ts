/**
 * OpenAI's Codex CLI for the end-to-end test: installs a pinned `@openai/codex` into a cache folder
 * outside the repository (once; later runs reuse it) and runs `codex exec` the way its users do,
 * through the package's own `bin/codex.js` launcher (which finds the native binary in the platform
 * package npm installed beside it). Each run gets a throwaway CODEX_HOME whose `config.toml` names
 * one model provider at the gateway (`wire_api = "responses"`, the key read from `env_key`), and
 * the update check and analytics upload are switched off by configuration: there is no network,
 * and the test must not depend on how quickly a failed lookup of OpenAI's or GitHub's hosts fails.
 * Codex also refreshes its curated plugin list (GitHub, chatgpt.com) in the background; only a
 * feature flag stops that, and no feature is turned off here, so it runs and fails at once on a
 * machine without a network, without holding up the run. CODEX_HOME under the temp folder makes
 * Codex warn that it will not create its PATH helper links there; nothing the test uses needs them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensurePinned, firstBinary } from './pinned-install.js';

export const CODEX_VERSION = '0.169.1';
export const CODEX_DIR = path.join(os.tmpdir(), 'bc-codex');

const PACKAGE = '@openai/codex';
/** the environment variable the provider's `env_key` names */
export const CODEX_KEY_ENV = 'BURNCLOUD_API_KEY';

function targetTriple(): string {
  const cpu = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  if (process.platform === 'linux') return `${cpu}-unknown-linux-musl`;
  if (process.platform === 'darwin') return `${cpu}-apple-darwin`;
  return `${cpu}-pc-windows-msvc`;
}

/** The native binary the launcher will run: in the platform package, or (older layouts) the main one. */
function binaryPath(dir: string): string | undefined {
  const modules = path.join(dir, 'node_modules');
  const name = process.platform === 'win32' ? 'codex.exe' : 'codex';
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const triple = targetTriple();
  return firstBinary([
    path.join(modules, '@openai', `codex-${process.platform}-${arch}`, 'vendor', triple, 'bin', name),
    path.join(modules, PACKAGE, 'vendor', triple, 'bin', name),
  ]);
}

/** Installs the pinned Codex when missing and returns the path of its launcher (`bin/codex.js`). */
export async function ensureCodex(timeoutMs = 300_000): Promise<string> {
  await ensurePinned(
    { name: PACKAGE, version: CODEX_VERSION, dir: CODEX_DIR, binary: binaryPath },
    timeoutMs,
  );
  return path.join(CODEX_DIR, 'node_modules', PACKAGE, 'bin', 'codex.js');
}

export interface CodexRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** the command line, for failure messages and the report */
  argv: string[];
  /** the config.toml the run used */
  config: string;
}

export interface CodexRunOptions {
  /** the gateway's base URL (no `/v1`) */
  baseUrl: string;
  /** a gateway client key, handed over in the variable the provider's `env_key` names */
  apiKey: string;
  prompt: string;
  /** `model = ...` in config.toml; omitted, Codex uses its own default model */
  model?: string;
  timeoutMs?: number;
}

/**
 * What a user adds to `~/.codex/config.toml` to use the gateway, plus the two settings that keep
 * Codex from calling home (the GitHub release check and the analytics upload).
 */
export function codexConfig(o: Pick<CodexRunOptions, 'baseUrl' | 'model'>): string {
  return [
    ...(o.model === undefined ? [] : [`model = ${JSON.stringify(o.model)}`]),
    'model_provider = "burncloud"',
    'check_for_update_on_startup = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[model_providers.burncloud]',
    'name = "BurnCloud"',
    `base_url = ${JSON.stringify(`${o.baseUrl}/v1`)}`,
    `env_key = "${CODEX_KEY_ENV}"`,
    'wire_api = "responses"',
    '',
  ].join('\n');
}

/** The environment without anything that would send Codex elsewhere or change its auth. */
function cleanEnv(home: string, codexHome: string, o: CodexRunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OPENAI_|CODEX_|BC_|AZURE_|AWS_)/.test(k)) continue;
    if (/^(HTTPS?_PROXY|ALL_PROXY|NODE_OPTIONS|npm_.*)$/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    CODEX_HOME: codexHome,
    [CODEX_KEY_ENV]: o.apiKey,
    NO_PROXY: '127.0.0.1,localhost',
    CI: 'true',
  };
}

function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs `codex exec --skip-git-repo-check PROMPT` in a fresh HOME, CODEX_HOME and working folder. */
export async function runCodex(launcher: string, o: CodexRunOptions): Promise<CodexRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-codex-run-'));
  const home = path.join(root, 'home');
  const codexHome = path.join(home, '.codex');
  const cwd = path.join(root, 'work');
  fs.mkdirSync(codexHome, { recursive: true });
  fs.mkdirSync(cwd);
  const config = codexConfig(o);
  fs.writeFileSync(path.join(codexHome, 'config.toml'), config);
  const argv = [launcher, 'exec', '--skip-git-repo-check', o.prompt];
  const timeoutMs = o.timeoutMs ?? 60_000;
  try {
    return await new Promise<CodexRun>((resolve, reject) => {
      const child = spawn(process.execPath, argv, {
        cwd,
        env: cleanEnv(home, codexHome, o),
        stdio: ['ignore', 'pipe', 'pipe'],
        // its own process group, so a timeout also ends the native binary the launcher started
        detached: process.platform !== 'win32',
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const timer = setTimeout(() => {
        killTree(child.pid);
        reject(new Error(`codex timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, argv: ['codex', ...argv.slice(1)], config });
      });
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
