import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProcessAlive, parsePidfile, readPidfile } from '../../src/shared/pidfile.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('readPidfile', () => {
  it('reads the JSON the daemon writes', () => {
    const file = path.join(dir, 'bc.pid');
    const content = {
      pid: 4242,
      listen: '127.0.0.1:8300',
      socket: '/x/bc.sock',
      started_at: '2026-01-01T00:00:00.000Z',
      version: '1.2.3',
    };
    fs.writeFileSync(file, JSON.stringify(content) + '\n');
    expect(readPidfile(file)).toEqual(content);
  });

  it('is undefined for a missing, empty, foreign or invalid file', () => {
    expect(readPidfile(path.join(dir, 'none.pid'))).toBeUndefined();
    const file = path.join(dir, 'bc.pid');
    for (const text of [
      '',
      '{',
      'not a pid',
      '{"pid":"12"}',
      '{"pid":0}',
      '{"pid":-5}',
      '{"pid":1.5}',
      '[]',
      'null',
    ]) {
      fs.writeFileSync(file, text);
      expect(readPidfile(file), text).toBeUndefined();
    }
  });

  it('accepts a bare pid, as other tools write, and fills the rest empty', () => {
    expect(parsePidfile('1234\n')).toEqual({
      pid: 1234,
      listen: '',
      socket: '',
      started_at: '',
      version: '',
    });
  });

  it('ignores fields of the wrong type instead of failing', () => {
    expect(parsePidfile('{"pid":7,"listen":5,"socket":null}')).toEqual({
      pid: 7,
      listen: '',
      socket: '',
      started_at: '',
      version: '',
    });
  });
});

describe('isProcessAlive', () => {
  it('is true for this process and false for a process that exited', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child.on('exit', resolve));
    expect(pid).toBeGreaterThan(0);
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('never treats 0 or negative numbers (process groups) as alive', () => {
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-1)).toBe(false);
    expect(isProcessAlive(Number.NaN)).toBe(false);
  });
});
