/**
 * The CLI's only writer to stdout and stderr. A command hands over its result once: with `--json`
 * it becomes one JSON document on stdout (the control API's View objects, money in micro-USD),
 * otherwise the human rendering (tables, USD). Errors and progress go to stderr, so stdout stays
 * parseable; with `--json` a failed command also leaves one document on stdout,
 * `{"error":{"code","message","hint"?}}`, so a script reading stdout always gets JSON. Colour only when stdout is a terminal and NO_COLOR is unset (or `color` says always).
 */
import { makeStyle } from './format.js';
import type { Style } from './format.js';

export type ColorPreference = 'auto' | 'always' | 'never';

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface OutputOptions {
  json: boolean;
  color: ColorPreference;
  env?: NodeJS.ProcessEnv;
  streams?: OutputStreams;
}

/** NO_COLOR (any non-empty value) always wins; otherwise the preference, `auto` meaning a TTY. */
export function wantColor(pref: ColorPreference, isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (pref === 'always') return true;
  if (pref === 'never') return false;
  return isTTY && env.TERM !== 'dumb';
}

export class Output {
  readonly json: boolean;
  readonly style: Style;
  private readonly streams: OutputStreams;
  private progressShown = false;

  constructor(opts: OutputOptions) {
    this.streams = opts.streams ?? { stdout: process.stdout, stderr: process.stderr };
    this.json = opts.json;
    this.style = makeStyle(
      wantColor(opts.color, this.streams.stdout.isTTY === true, opts.env ?? process.env),
    );
  }

  /** A command's result: the JSON document with `--json`, else its human rendering. */
  result(doc: unknown, human: (style: Style) => string): void {
    this.clearProgress();
    if (this.json) this.writeOut(JSON.stringify(doc, null, 2) + '\n');
    else {
      const text = human(this.style);
      if (text !== '') this.writeOut(text.endsWith('\n') ? text : text + '\n');
    }
  }

  /** One compact JSON document per line (`bc logs -f --json`). */
  ndjson(doc: unknown): void {
    this.writeOut(JSON.stringify(doc) + '\n');
  }

  /** A line on stdout for humans only; nothing with `--json`. */
  note(text: string): void {
    if (!this.json) this.writeOut(text + '\n');
  }

  /** Text exactly as given on stdout (a systemd unit for `--print`). */
  raw(text: string): void {
    this.writeOut(text);
  }

  /** "starting…" on a terminal's stderr; rewritten in place, cleared by the next output. */
  progress(text: string): void {
    if (this.streams.stderr.isTTY !== true) return;
    this.streams.stderr.write(`\r\u001b[2K${this.style.dim(text)}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.streams.stderr.write('\r\u001b[2K');
    this.progressShown = false;
  }

  /** A warning or secondary remark on stderr. */
  warn(text: string): void {
    this.clearProgress();
    this.streams.stderr.write(text + '\n');
  }

  /** An error on stderr, with an optional hint on the next line. */
  error(message: string, hint?: string): void {
    this.clearProgress();
    this.streams.stderr.write(`${this.style.red('error:')} ${message}\n`);
    if (hint) this.streams.stderr.write(`${hint}\n`);
  }

  /**
   * A failed command: the error on stderr as `error()` writes it, and with `--json` (or `json`
   * forced, for failures before the flags were read) its JSON document on stdout.
   */
  failure(code: string, message: string, hint?: string, json: boolean = this.json): void {
    this.error(message, hint);
    if (json) this.writeOut(JSON.stringify(errorDocument(code, message, hint), null, 2) + '\n');
  }

  /** The JSON document alone, for a failure whose message is already on stderr. */
  failureDocument(code: string, message: string, hint?: string): void {
    this.writeOut(JSON.stringify(errorDocument(code, message, hint), null, 2) + '\n');
  }

  writeOut(text: string): void {
    this.streams.stdout.write(text);
  }

  writeErr(text: string): void {
    this.clearProgress();
    this.streams.stderr.write(text);
  }
}

/** What `--json` prints on stdout for a failed command. */
export interface ErrorDocument {
  error: { code: string; message: string; hint?: string };
}

function errorDocument(code: string, message: string, hint?: string): ErrorDocument {
  // stderr's "hint: " label is for eyes; the field name says it already
  const h = hint?.replace(/^hint:\s*/i, '');
  return { error: h ? { code, message, hint: h } : { code, message } };
}
