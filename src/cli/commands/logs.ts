/**
 * `bc logs`: the request log, newest 100 rows unless `--limit` says otherwise, oldest first on
 * screen. `-f` keeps polling for rows after the last one seen (`after_id`) once a second until
 * Ctrl-C; with `--json` it then prints one row per line (NDJSON) instead of one document.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { LogQuery, LogRow } from '../../shared/control-api.js';
import type { CliContext } from '../context.js';
import { arg } from '../options.js';
import { parseName, parsePositiveInt, parseSince } from '../parse.js';
import { renderLogLines, renderLogs } from '../views-activity.js';

interface LogFlags {
  key?: string;
  user?: string;
  model?: string;
  channel?: string;
  errors?: boolean;
  limit?: number;
  since?: string;
  follow?: boolean;
}

const POLL_MS = 1000;

function toQuery(f: LogFlags): LogQuery {
  const q: LogQuery = { limit: f.limit ?? 100 };
  if (f.key !== undefined) q.key = f.key;
  if (f.user !== undefined) q.user = f.user;
  if (f.model !== undefined) q.model = f.model;
  if (f.channel !== undefined) q.channel = f.channel;
  if (f.errors) q.errors = true;
  if (f.since !== undefined) q.since = f.since;
  return q;
}

const byId = (a: LogRow, b: LogRow): number => a.id - b.id;

async function follow(ctx: CliContext, query: LogQuery, first: LogRow[]): Promise<void> {
  const client = ctx.client();
  const print = (rows: LogRow[]): void => {
    if (ctx.out.json) for (const r of rows) ctx.out.ndjson(r);
    else if (rows.length > 0) ctx.out.writeOut(renderLogLines(rows, ctx.out.style) + '\n');
  };
  const sorted = [...first].sort(byId);
  if (ctx.out.json) print(sorted);
  else ctx.out.result(sorted, (s) => renderLogs(sorted, s));
  let lastId = sorted.reduce((m, r) => Math.max(m, r.id), 0);
  while (!ctx.signal.aborted) {
    try {
      await sleep(POLL_MS, undefined, { signal: ctx.signal });
    } catch {
      return;
    }
    const rows = (await client.logs({ ...query, limit: 1000, after_id: lastId })).sort(byId);
    print(rows);
    lastId = rows.reduce((m, r) => Math.max(m, r.id), lastId);
  }
}

export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description('the request log, newest rows')
    .option('--key <key>', 'only this key (id or name)', arg(parseName))
    .option('--user <user>', "only this user's keys (id or name)", arg(parseName))
    .option('--model <model>', 'only this model', arg(parseName))
    .option('--channel <channel>', 'only this channel (id or name)', arg(parseName))
    .option('--errors', 'only failed requests')
    .option('--limit <n>', 'how many rows (default 100)', arg(parsePositiveInt))
    .option('--since <when>', 'a duration back from now (24h) or a date', arg(parseSince))
    .option('-f, --follow', 'keep printing new rows until Ctrl-C (NDJSON with --json)')
    .action(async (flags: LogFlags) => {
      const query = toQuery(flags);
      const rows = await ctx.client().logs(query);
      if (flags.follow) return follow(ctx, query, rows);
      const sorted = [...rows].sort(byId);
      ctx.out.result(rows, (s) => renderLogs(sorted, s));
    });
}
