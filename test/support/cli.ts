/**
 * Runs the real `bc` binary (`node bin/bc.js`, which needs the compiled dist/) as a child process
 * with its own BC_HOME and none of the caller's BC_* settings, and collects its exit code and
 * output. Integration tests drive the CLI only through this, as a user would.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BC_BIN = fileURLToPath(new URL('../../bin/bc.js', import.meta.url));

export interface RunBcOptions {
  /** BC_HOME; a throwaway temporary folder when absent */
  home?: string;
  /** extra environment (wins over everything else) */
  env?: Record<string, string>;
  /** written to the child's stdin, which is then closed (always closed, so `--key -` never waits) */
  stdin?: string;
  /** the child is killed and the call rejects after this long; default 30 s */
  timeoutMs?: number;
}

export interface RunBcResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The parent's environment without anything that would point the CLI at a real installation. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('BC_') || k === 'NO_COLOR' || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  return env;
}

/**
 * The environment for running the daemon process itself (`bc daemon`): the parent's without any
 * BC_* setting, listening on 127.0.0.1:0, probes hourly, at this log level; `extra` wins.
 */
export function daemonEnv(logLevel: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BC_')) env[k] = v;
  return {
    ...env,
    BC_LISTEN: '127.0.0.1:0',
    BC_LOG_LEVEL: logLevel,
    BC_PROBE_INTERVAL_MS: '3600000',
    ...extra,
  };
}

/** `bc channel add` arguments for an OpenAI-type channel; `extra` flags (e.g. `--base-url`) follow. */
export function openaiChannelArgs(name: string, key: string, models: string, ...extra: string[]): string[] {
  return ['channel', 'add', '--name', name, '--type', 'openai', '--key', key, '--models', models, ...extra];
}

export async function runBc(args: string[], opts: RunBcOptions = {}): Promise<RunBcResult> {
  const ownHome = opts.home === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'bc-')) : undefined;
  const home = opts.home ?? ownHome ?? '';
  try {
    return await spawnBc(args, { ...cleanEnv(), BC_HOME: home, ...opts.env }, opts);
  } finally {
    if (ownHome) fs.rmSync(ownHome, { recursive: true, force: true });
  }
}

function spawnBc(args: string[], env: Record<string, string>, opts: RunBcOptions): Promise<RunBcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BC_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `bc ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}
