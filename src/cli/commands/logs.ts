/**
 * `bc logs`: the request log, newest 100 rows unless `--limit` says otherwise, oldest first on
 * screen. `-f` keeps polling for rows it has not shown yet (`after_id`, LogFollower) once a second
 * until Ctrl-C; with `--json` it then prints one row per line (NDJSON) instead of one document.
 * `bc logs prune --before 30d|DATE [--dry-run]` deletes older rows by hand (the daemon does it by
 * itself after BC_LOG_RETENTION), one bounded step per call, with progress between the calls.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { LogPruneResult, LogQuery, LogRow } from '../../shared/control-api.js';
import type { CliContext } from '../context.js';
import { arg } from '../options.js';
import { parseName, parsePositiveInt, parseSince } from '../parse.js';
import { renderLogLines, renderLogs } from '../views-activity.js';
import { registerLogsExport } from './logs-export.js';
import { formatCount, formatTime } from '../format.js';

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
  const follower = new LogFollower(sorted);
  const fetch = (afterId: number, limit: number) => client.logs({ ...query, limit, after_id: afterId });
  // rows already there that --limit left out are not new: only what arrives from now on is
  await follower.poll(fetch);
  while (!ctx.signal.aborted) {
    try {
      await sleep(POLL_MS, undefined, { signal: ctx.signal });
    } catch {
      return;
    }
    print(await follower.poll(fetch));
  }
}

/** Ids below the highest seen that a later poll still looks at (see LogFollower). */
export const FOLLOW_LOOKBACK_IDS = 5000;
const FOLLOW_PAGE = 1000;

/**
 * Which rows `-f` has not printed yet. Ids are not committed in order when several processes
 * write (the workers of `--workers N` each take ids of their own; several daemons' PostgreSQL
 * transactions commit out of order), so a row can appear after rows with higher ids were shown:
 * each poll reads again from FOLLOW_LOOKBACK_IDS below the highest id seen, page by page, and
 * prints the rows it has not printed before. The first poll's rows are those that were there
 * before following began (left out by `--limit`): the caller drops them.
 */
export class LogFollower {
  private lastId: number;
  private readonly printed = new Set<number>();

  constructor(first: readonly LogRow[]) {
    this.lastId = first.reduce((m, r) => Math.max(m, r.id), 0);
    for (const r of first) this.printed.add(r.id);
  }

  /** The rows to print now, oldest first; `fetch` answers rows with ids above `afterId`. */
  async poll(fetch: (afterId: number, limit: number) => Promise<LogRow[]>): Promise<LogRow[]> {
    const fresh: LogRow[] = [];
    let after = Math.max(0, this.lastId - FOLLOW_LOOKBACK_IDS);
    for (;;) {
      const rows = (await fetch(after, FOLLOW_PAGE)).sort(byId);
      for (const r of rows) {
        if (this.printed.has(r.id)) continue;
        this.printed.add(r.id);
        fresh.push(r);
      }
      if (rows.length < FOLLOW_PAGE) break;
      after = rows[rows.length - 1]!.id;
    }
    this.lastId = fresh.reduce((m, r) => Math.max(m, r.id), this.lastId);
    // what no later poll reads again need not be remembered
    const floor = this.lastId - FOLLOW_LOOKBACK_IDS;
    for (const id of this.printed) if (id <= floor) this.printed.delete(id);
    return fresh.sort(byId);
  }
}

/** Asks the daemon for one step after another until no row before the cutoff is left. */
async function prune(ctx: CliContext, flags: { before: string; dryRun?: boolean }): Promise<void> {
  const client = ctx.client();
  if (flags.dryRun === true) {
    const r = await client.pruneLogs({ before: flags.before, dry_run: true });
    ctx.out.result(r, () =>
      r.deleted === 0
        ? `no rows before ${formatTime(r.before)}`
        : `would delete ${formatCount(r.deleted)} rows before ${formatTime(r.before)} (${formatTime(r.oldest)} to ${formatTime(r.newest)})`,
    );
    return;
  }
  let deleted = 0;
  let step: LogPruneResult;
  do {
    step = await client.pruneLogs({ before: flags.before });
    deleted += step.deleted;
    if (step.more) ctx.out.progress(`pruning: ${formatCount(deleted)} rows deleted…`);
  } while (step.more);
  const done: LogPruneResult = { before: flags.before, dry_run: false, deleted, more: false };
  ctx.out.result(done, () => `deleted ${formatCount(deleted)} rows before ${formatTime(flags.before)}`);
}

export function registerLogs(program: Command, ctx: CliContext): void {
  const logs = program.command('logs');
  logs
    .command('prune')
    .description('delete the rows older than a time (the daemon also does it after BC_LOG_RETENTION)')
    .requiredOption(
      '--before <when>',
      'a duration back from now (30d) or a date (2026-01-01)',
      arg(parseSince),
    )
    .option('--dry-run', 'count the rows that would go, delete nothing')
    .action(async (flags: { before: string; dryRun?: boolean }) => prune(ctx, flags));
  logs
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
  registerLogsExport(program, ctx);
}
