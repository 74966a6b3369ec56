/**
 * The gateway the live suite talks to: a real daemon started with `bc start` on a temporary
 * BC_HOME (test/support/daemon.ts), one channel per configured provider added with the real
 * `bc channel add` (the upstream secret on stdin, so it is in no argument list), one client key,
 * and the prices the daemon lists. Log rows are read through the CLI's own control-socket client.
 * Anything the CLI says back passes through redact() first, so no upstream secret is printed.
 */
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { createDaemonClient } from '../../src/shared/daemon-client.js';
import type { KeyCreated, LogRow } from '../../src/shared/control-api.js';
import type { ListedPrice } from './usage.js';
import type { LiveProvider } from './providers.js';

export interface LiveGateway {
  url: string;
  /** the client key (sk-bc-...), made for this run only */
  key: string;
  prices: ListedPrice[];
  /** the id of the newest log row (0 when there is none) */
  lastLogId(): Promise<number>;
  /** the rows after `since`, oldest first, once `count` of them are there (at most 10 s) */
  rowsAfter(since: number, count: number): Promise<LogRow[]>;
  close(): Promise<void>;
}

/** Replaces every secret in `text` by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((t, s) => t.split(s).join('***'), text);
}

async function bcOk(daemon: TestDaemon, args: string[], secrets: string[], stdin?: string): Promise<string> {
  const r = await daemon.bc(args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) {
    const said = redact(`${r.stderr}${r.stdout}`, secrets).trim();
    throw new Error(`bc ${args.slice(0, 2).join(' ')} failed (exit ${r.code}): ${said}`);
  }
  return r.stdout;
}

export async function startLiveGateway(providers: LiveProvider[]): Promise<LiveGateway> {
  const secrets = providers.map((p) => p.key);
  const daemon = await startTestDaemon();
  try {
    for (const p of providers) {
      const add = ['channel', 'add', '--name', p.spec.name, '--type', p.spec.type, '--key', '-'];
      await bcOk(daemon, [...add, ...p.channelArgs, '--json'], secrets, `${p.key}\n`);
    }
    const created = JSON.parse(
      await bcOk(daemon, ['key', 'create', '--name', 'live', '--json'], secrets),
    ) as KeyCreated;
    const prices = JSON.parse(await bcOk(daemon, ['price', 'list', '--json'], secrets)) as ListedPrice[];
    const ctl = createDaemonClient({ socket: daemon.socket });
    const lastLogId = async (): Promise<number> => (await ctl.logs({ limit: 1 }))[0]?.id ?? 0;
    return {
      url: daemon.gatewayUrl,
      key: created.key,
      prices,
      lastLogId,
      async rowsAfter(since, count) {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const rows = (await ctl.logs({ after_id: since, limit: 50 })).sort((a, b) => a.id - b.id);
          if (rows.length >= count || Date.now() > deadline) return rows;
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      async close() {
        await ctl.close();
        await daemon.cleanup();
      },
    };
  } catch (err) {
    await daemon.cleanup();
    throw err;
  }
}
