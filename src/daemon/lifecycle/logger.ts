/**
 * The daemon's one pino logger: JSON lines on stdout, level from BC_LOG_LEVEL (default info).
 * Secrets must never reach a log line, so credential headers are redacted wherever they appear
 * and the request serializer drops the `key` query parameter Gemini clients may authenticate with.
 * Fastify apps get this logger as their `loggerInstance` and build children from it. Lines go
 * through a LogSink (log-sink.ts): a log that cannot be written (a full disk) drops lines and
 * counts them, and never blocks or stops the daemon.
 */
import pino, { type Logger } from 'pino';
import { BcError } from '../../shared/errors.js';
import { LogSink } from './log-sink.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const SECRET_HEADERS = [
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'proxy-authorization',
  'cookie',
];

const REDACT_PATHS = SECRET_HEADERS.flatMap((h) => [
  `req.headers["${h}"]`,
  `headers["${h}"]`,
  `request.headers["${h}"]`,
  `upstream.headers["${h}"]`,
]);

/** Reads a level from the environment; throws a one-line BcError for an unknown name. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.BC_LOG_LEVEL?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new BcError('STARTUP_FAILED', `invalid BC_LOG_LEVEL "${raw}": use one of ${LOG_LEVELS.join(', ')}`);
  }
  return raw;
}

export function createDaemonLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { req: serializeRequest },
  };
  return pino(options, destination ?? new LogSink(1));
}

/** What the logger's sink dropped: lines lost since start and the last write error's code. */
export function droppedLogLines(logger: object): { dropped: number; error: string | null } {
  const sink = (logger as Record<symbol, unknown>)[pino.symbols.streamSym];
  return sink instanceof LogSink ? { dropped: sink.dropped, error: sink.error } : { dropped: 0, error: null };
}

interface LoggableRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remotePort?: number | undefined } | undefined;
}

function serializeRequest(req: LoggableRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactUrl(req.url),
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** Replaces the value of a `key` query parameter (Gemini's `?key=`) with `[redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((p) => (/^key=/i.test(p) ? 'key=[redacted]' : p));
  return `${url.slice(0, q)}?${params.join('&')}`;
}
