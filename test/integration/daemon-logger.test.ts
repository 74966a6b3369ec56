/**
 * The daemon's logger: JSON lines, level from BC_LOG_LEVEL, and no secret in any line, whether a
 * header is logged by hand or a Fastify app logs a request whose URL carries Gemini's `?key=`.
 */
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createDaemonLogger, logLevelFromEnv, redactUrl } from '../../src/daemon/lifecycle/logger.js';
import { BcError } from '../../src/shared/errors.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const lines = (): Record<string, unknown>[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines, text: () => text };
}

const SECRET = 'sk-live-SECRET-0123456789';

describe('daemon logger', () => {
  it('writes JSON lines with an ISO time and the pid', () => {
    const out = capture();
    createDaemonLogger('info', out.stream).info({ listen: '127.0.0.1:1' }, 'ready');
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 30, pid: process.pid, listen: '127.0.0.1:1', msg: 'ready' });
    expect(Number.isNaN(Date.parse(String(line?.time)))).toBe(false);
  });

  it('redacts credential headers wherever a request or upstream call is logged', () => {
    const out = capture();
    const log = createDaemonLogger('info', out.stream);
    const headers = {
      authorization: `Bearer ${SECRET}`,
      'x-api-key': SECRET,
      'api-key': SECRET,
      'x-goog-api-key': SECRET,
      'content-type': 'application/json',
    };
    log.info({ req: { headers } }, 'a');
    log.info({ headers }, 'b');
    log.info({ upstream: { headers } }, 'c');
    expect(out.text()).not.toContain(SECRET);
    expect(out.lines()[1]).toMatchObject({
      headers: { authorization: '[redacted]', 'content-type': 'application/json' },
    });
  });

  it("strips Gemini's ?key= from request URLs that Fastify logs", async () => {
    const out = capture();
    const app = Fastify({ loggerInstance: createDaemonLogger('info', out.stream) });
    app.get('/v1beta/models', async () => ({ ok: true }));
    const res = await app.inject({ method: 'GET', url: `/v1beta/models?alt=sse&key=${SECRET}` });
    await app.close();
    expect(res.statusCode).toBe(200);
    expect(out.text()).toContain('/v1beta/models?alt=sse&key=[redacted]');
    expect(out.text()).not.toContain(SECRET);
    expect(redactUrl('/a?KEY=1&b=2')).toBe('/a?key=[redacted]&b=2');
    expect(redactUrl('/a')).toBe('/a');
  });

  it('reads the level from BC_LOG_LEVEL, default info, refusing unknown names', () => {
    expect(logLevelFromEnv({})).toBe('info');
    expect(logLevelFromEnv({ BC_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(() => logLevelFromEnv({ BC_LOG_LEVEL: 'chatty' })).toThrow(BcError);
    const out = capture();
    const log = createDaemonLogger('warn', out.stream);
    log.info('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
  });
});
