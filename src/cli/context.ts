/**
 * What every command's action gets: the resolved global flags (flag > env > config file >
 * default), the Output, a lazily opened daemon client, stdin, and the exit code to end with. Built
 * by main.ts and bound to the command being run in a preAction hook, so commands never read
 * process state themselves.
 */
import type { Command } from 'commander';
import { createDaemonClient } from '../shared/daemon-client.js';
import type { DaemonClient } from '../shared/daemon-client.js';
import { resolvePaths } from '../shared/paths.js';
import type { Paths } from '../shared/paths.js';
import { readCliConfig } from './config-file.js';
import type { CliConfig } from './config-file.js';
import { Output } from './output.js';
import type { GatewayFlags } from './gateway-flags.js';
import type { OutputStreams } from './output.js';

export interface GlobalFlags {
  json?: boolean;
  socket?: string;
  home?: string;
}

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  streams: OutputStreams;
  /** registers a one-time Ctrl-C handler (only commands that run until interrupted ask) */
  onInterrupt?: (cb: () => void) => void;
}

/** Default answer deadline for the control API; `channel test` asks for more. */
const DEFAULT_TIMEOUT_MS = 30_000;

export class CliContext {
  readonly io: CliIo;
  /** the exit code main.ts ends with once the action returns */
  exitCode = 0;
  /** `--gateway`/`--key` before the command (gateway-flags.ts): `bc` as a tenant against a gateway */
  gatewayFlags: GatewayFlags = {};
  private flags: GlobalFlags = {};
  private command: Command | undefined;
  private outCache: Output | undefined;
  private configCache: CliConfig | undefined;
  private clientCache: DaemonClient | undefined;
  private readonly abort = new AbortController();
  private interruptHooked = false;

  constructor(io: CliIo) {
    this.io = io;
  }

  /** Called before an action runs: the command and its (and its parents') parsed flags. */
  bind(command: Command): void {
    this.command = command;
    this.flags = command.optsWithGlobals<GlobalFlags>();
    this.outCache = undefined;
  }

  get env(): NodeJS.ProcessEnv {
    return this.io.env;
  }

  /** `bc channel add`, for hints. */
  commandPath(): string {
    const names: string[] = [];
    for (let c: Command | null = this.command ?? null; c; c = c.parent) names.unshift(c.name());
    return names.length > 0 ? names.join(' ') : 'bc';
  }

  get home(): string {
    return resolvePaths({ home: this.flags.home }, this.env).home;
  }

  /** The explicit `--home` flag, to pass on to a daemon we spawn. */
  get homeFlag(): string | undefined {
    return this.flags.home;
  }

  /** The explicit `--socket` flag or the config file's socket (env is inherited by children anyway). */
  get socketOverride(): string | undefined {
    return this.flags.socket ?? (this.env.BC_SOCKET ? undefined : this.config().socket);
  }

  config(): CliConfig {
    this.configCache ??= readCliConfig(this.home);
    return this.configCache;
  }

  paths(): Paths {
    const socket = this.flags.socket ?? this.env.BC_SOCKET ?? this.config().socket;
    return resolvePaths({ home: this.flags.home, socket: socket || undefined }, this.env);
  }

  get out(): Output {
    if (!this.outCache) {
      let config: CliConfig = {};
      try {
        config = this.config();
      } catch {
        // No readable home: print plainly rather than fail on the way to reporting an error.
      }
      this.outCache = new Output({
        json: this.flags.json === true || (this.flags.json === undefined && config.json === true),
        color: config.color ?? 'auto',
        env: this.env,
        streams: this.io.streams,
      });
    }
    return this.outCache;
  }

  client(timeoutMs: number = DEFAULT_TIMEOUT_MS): DaemonClient {
    this.clientCache ??= createDaemonClient({ socket: this.paths().socket, timeoutMs });
    return this.clientCache;
  }

  /** Aborted by Ctrl-C, for commands that run until interrupted (`bc logs -f`). */
  get signal(): AbortSignal {
    if (!this.interruptHooked) {
      this.interruptHooked = true;
      this.io.onInterrupt?.(() => this.abort.abort());
    }
    return this.abort.signal;
  }

  async readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.io.stdin) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async close(): Promise<void> {
    const c = this.clientCache;
    this.clientCache = undefined;
    if (c) await c.close().catch(() => undefined);
  }
}
