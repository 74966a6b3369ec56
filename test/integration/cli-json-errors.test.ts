/**
 * `--json` promises one JSON document on stdout, failures included: the real `bc` binary, for
 * each way a command can fail (the daemon refuses: exit 1; bad input, ours or commander's: exit 2;
 * no daemon: exit 3), prints `{"error":{"code","message","hint"?}}` on stdout and still the human
 * message on stderr, with the exit code unchanged. Without `--json`, stdout stays empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBc, type RunBcResult } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon();
});

afterAll(async () => {
  await d?.cleanup();
});

interface ErrorDocument {
  error: { code: string; message: string; hint?: string };
}

function errorDocument(r: RunBcResult): ErrorDocument {
  const doc = JSON.parse(r.stdout) as ErrorDocument;
  expect(Object.keys(doc)).toEqual(['error']);
  expect(typeof doc.error.code).toBe('string');
  expect(doc.error.message.length).toBeGreaterThan(0);
  // the human message is still on stderr
  expect(r.stderr).toContain(doc.error.message);
  return doc;
}

describe('bc --json on failure', () => {
  it('the daemon refuses (exit 1): its code and message', async () => {
    const r = await d.bc(['--json', 'channel', 'show', 'no-such-channel']);
    expect(r.code).toBe(1);
    const doc = errorDocument(r);
    expect(doc.error.code).toBe('not_found');
    expect(doc.error.message).toContain('no-such-channel');
  });

  it('invalid input (exit 2): usage_error with the hint', async () => {
    const r = await d.bc(['key', 'create', '--name', 'x', '--budget', 'lots', '--json']);
    expect(r.code).toBe(2);
    const doc = errorDocument(r);
    expect(doc.error.code).toBe('usage_error');
    expect(doc.error.hint).toMatch(/--help/);
  });

  it("commander's own errors (exit 2), before the flags were read", async () => {
    const r = await d.bc(['--json', 'channel', 'list', '--no-such-flag']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as ErrorDocument;
    expect(doc.error.code).toBe('usage_error');
    expect(doc.error.message).toContain('--no-such-flag');
    expect(r.stderr).toContain('--no-such-flag');
  });

  it('no daemon (exit 3): daemon_unreachable', async () => {
    const r = await runBc(['--json', 'channel', 'list']);
    expect(r.code).toBe(3);
    expect(errorDocument(r).error.code).toBe('daemon_unreachable');
  });

  it('without --json stdout stays empty and stderr says what happened', async () => {
    const r = await d.bc(['channel', 'show', 'no-such-channel']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no-such-channel');
  });
});
