/**
 * `bc logs export`: the request log of a window as NDJSON (the rows `bc logs --json` prints) or
 * CSV (RFC 4180: a header row, CRLF, fields quoted when they need it, lists as JSON text in one
 * cell), on stdout or into `--output FILE`. Rows are written as the daemon streams them, waiting
 * while the output is full, so memory stays flat whatever the size. A file is written beside its
 * target (owner-only) and moved into place only once the daemon's trailer line says the export is
 * complete: a failed or cut export leaves no half file, and an existing file is never replaced
 * without `--force`. Bad input is refused before anything is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { LogRow } from '../../shared/control-api.js';
import { BcError } from '../../shared/errors.js';
import { LOG_EXPORT_FIELDS, type LogExportQuery } from '../../shared/log-export.js';
import type { CliContext } from '../context.js';
import { arg } from '../options.js';
import { parseName, parseSince, UsageError } from '../parse.js';

type Format = 'ndjson' | 'csv';

interface ExportFlags {
  key?: string;
  user?: string;
  model?: string;
  channel?: string;
  errors?: boolean;
  since?: string;
  until?: string;
  format: Format;
  output?: string;
  force?: boolean;
}

/** Progress on a terminal's stderr every this many rows. */
const PROGRESS_ROWS = 10_000;

function parseFormat(input: string): Format {
  if (input === 'ndjson' || input === 'csv') return input;
  throw new UsageError(`unknown format "${input}": use ndjson or csv`);
}

/** One RFC 4180 field: empty for null, JSON for lists, quoted when it holds a quote, comma or line break. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/** Writes, then waits while the stream is full. */
async function put(out: Writable, text: string): Promise<void> {
  if (out.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', done);
      out.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}

/** The file the rows go to until the export is complete, created owner-only beside the target. */
function openTemp(target: string, force: boolean): { temp: string; stream: fs.WriteStream } {
  if (!force && fs.existsSync(target))
    throw new UsageError(`${target} exists: choose another --output or add --force to replace it`);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.partial`);
  let fd: number;
  try {
    fd = fs.openSync(temp, 'wx', 0o600);
  } catch (e) {
    throw new UsageError(`cannot write ${target}: ${(e as Error).message}`);
  }
  return { temp, stream: fs.createWriteStream(temp, { fd }) };
}

function finish(stream: fs.WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

/** Moves the complete file into place; without --force, never over a file that appeared meanwhile. */
function place(temp: string, target: string, force: boolean): void {
  if (force) return fs.renameSync(temp, target);
  try {
    fs.linkSync(temp, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`${target} appeared during the export: add --force to replace it`);
    throw e;
  }
  fs.unlinkSync(temp);
}

function toQuery(f: ExportFlags): LogExportQuery {
  const q: LogExportQuery = {};
  for (const k of ['key', 'user', 'model', 'channel', 'since', 'until'] as const)
    if (f[k] !== undefined) q[k] = f[k];
  if (f.errors) q.errors = true;
  if (q.since !== undefined && q.until !== undefined && q.since >= q.until)
    throw new UsageError(`--since ${q.since} is not before --until ${q.until}`);
  return q;
}

async function exportLogs(ctx: CliContext, flags: ExportFlags): Promise<void> {
  const query = toQuery(flags);
  const file = flags.output === undefined ? null : openTemp(path.resolve(flags.output), flags.force === true);
  const out: Writable = file?.stream ?? process.stdout;
  let rows = 0;
  let complete = false;
  try {
    if (flags.format === 'csv') await put(out, csvLine(LOG_EXPORT_FIELDS));
    for await (const doc of ctx.client().logsExport(query, ctx.signal)) {
      // a row has a request id (and may have an `error` of its own); the last line has none
      const row = doc as LogRow;
      if (row.request_id === undefined) {
        const d = doc as { end?: { rows: number }; error?: { message: string } };
        if (d.error)
          throw new BcError('INTERNAL', `the export failed after ${rows} rows: ${d.error.message}`);
        complete = d.end?.rows === rows;
        break;
      }
      await put(
        out,
        flags.format === 'csv' ? csvLine(LOG_EXPORT_FIELDS.map((k) => row[k])) : JSON.stringify(row) + '\n',
      );
      if (++rows % PROGRESS_ROWS === 0) ctx.out.progress(`exported ${rows} rows…`);
    }
    if (!complete)
      throw new BcError('INTERNAL', `the export was cut short after ${rows} rows: nothing was saved`);
    if (file) {
      await finish(file.stream);
      place(file.temp, path.resolve(flags.output!), flags.force === true);
    }
  } catch (err) {
    if (file) {
      file.stream.destroy();
      fs.rmSync(file.temp, { force: true });
    }
    throw err;
  }
  ctx.out.clearProgress();
  ctx.out.warn(`exported ${rows} rows${flags.output === undefined ? '' : ` to ${flags.output}`}`);
}

export function registerLogsExport(program: Command, ctx: CliContext): void {
  const logs = program.commands.find((c) => c.name() === 'logs')!;
  logs
    .command('export')
    .description('stream the log rows of a window as NDJSON or CSV (oldest first)')
    .option('--since <when>', 'from this time: a duration back from now (24h) or a date', arg(parseSince))
    .option('--until <when>', 'up to this time (default: now)', arg(parseSince))
    .option('--format <format>', 'ndjson or csv', arg(parseFormat), 'ndjson')
    .option('--output <file>', 'write to this file (owner-only) instead of stdout')
    .option('--force', 'replace --output if it exists')
    .option('--key <key>', 'only this key (id or name)', arg(parseName))
    .option('--user <user>', "only this user's keys (id or name)", arg(parseName))
    .option('--model <model>', 'only this model', arg(parseName))
    .option('--channel <channel>', 'only this channel (id or name)', arg(parseName))
    .option('--errors', 'only failed requests')
    .action(async (_opts: ExportFlags, cmd: Command) => exportLogs(ctx, cmd.optsWithGlobals<ExportFlags>()));
}
