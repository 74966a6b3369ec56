// The master key and AES-256-GCM envelopes, secret masking, and client key material.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import {
  generateKeySecret,
  hashKeySecret,
  keyPrefix,
  maskSecret,
  SecretBox,
} from '../../src/daemon/secrets.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  file = path.join(dir, 'home', 'master.key');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function failure(fn: () => unknown): BcError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BcError) return e;
    throw e;
  }
  throw new Error('expected a BcError');
}

describe('SecretBox', () => {
  it('creates a 0600 key file of 64 hex chars, then loads the same key from it', () => {
    const created = SecretBox.load({ file, create: true });
    expect(created.source).toBe('created');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    const enc = created.encrypt('sk-upstream-secret');
    const loaded = SecretBox.load({ file, create: false });
    expect(loaded.source).toBe('file');
    expect(loaded.decrypt(enc)).toBe('sk-upstream-secret');
  });

  it('round-trips any text with a fresh IV each time', () => {
    const box = SecretBox.load({ file, create: true });
    for (const plain of ['', 'a', 'AKIA:secret:token', 'ключ 🔑'.repeat(50)]) {
      const a = box.encrypt(plain);
      const b = box.encrypt(plain);
      expect(a).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/);
      expect(a).not.toBe(b);
      expect(box.decrypt(a)).toBe(plain);
      expect(box.decrypt(b)).toBe(plain);
    }
  });

  it('detects tampering and a wrong key', () => {
    const box = SecretBox.load({ file, create: true });
    const enc = box.encrypt('sk-live-123456789');
    const [v, iv, tag, ct] = enc.split(':') as [string, string, string, string];
    const flipped = Buffer.from(ct, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const tampered = [
      [v, iv, tag, flipped.toString('base64')].join(':'),
      [v, iv, Buffer.alloc(16).toString('base64'), ct].join(':'),
      [v, Buffer.alloc(12).toString('base64'), tag, ct].join(':'),
      ['v2', iv, tag, ct].join(':'),
      'not an envelope',
    ];
    for (const t of tampered) {
      const e = failure(() => box.decrypt(t));
      expect(e.code).toBe('INTERNAL');
      expect(e.message).toBe('cannot decrypt a stored secret: wrong master key?');
    }
    const other = SecretBox.load({ file: path.join(dir, 'other.key'), create: true });
    expect(failure(() => other.decrypt(enc)).code).toBe('INTERNAL');
  });

  it('tightens a key file with loose permissions to 0600', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${'ab'.repeat(32)}\n`, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const box = SecretBox.load({ file, create: false });
    expect(box.source).toBe('file');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('accepts BC_MASTER_KEY as 64 hex or base64 of 32 bytes, preferring it over the file', () => {
    const raw = crypto.randomBytes(32);
    const fromHex = SecretBox.load({ file, envKey: raw.toString('hex'), create: false });
    const fromB64 = SecretBox.load({ file, envKey: raw.toString('base64'), create: false });
    expect(fromHex.source).toBe('env');
    expect(fromB64.source).toBe('env');
    expect(fromB64.decrypt(fromHex.encrypt('same key'))).toBe('same key');
    expect(fs.existsSync(file)).toBe(false); // an env key never writes a file

    SecretBox.load({ file, create: true });
    const env = SecretBox.load({ file, envKey: raw.toString('hex'), create: false });
    expect(env.source).toBe('env');
    expect(fromHex.decrypt(env.encrypt('x'))).toBe('x');
  });

  it('refuses malformed BC_MASTER_KEY values in one line', () => {
    const bad = [
      'abc',
      'zz'.repeat(32),
      crypto.randomBytes(16).toString('base64'),
      crypto.randomBytes(33).toString('hex'),
    ];
    for (const envKey of bad) {
      const e = failure(() => SecretBox.load({ file, envKey, create: true }));
      expect(e.code).toBe('STARTUP_FAILED');
      expect(e.message).toBe('BC_MASTER_KEY must be 64 hex characters or the base64 of 32 bytes');
    }
  });

  it('refuses a missing key when it may not create one, and a malformed key file', () => {
    const missing = failure(() => SecretBox.load({ file, create: false }));
    expect(missing.code).toBe('STARTUP_FAILED');
    expect(missing.message).toBe(
      `master key missing (${file}): existing channel secrets cannot be decrypted; restore the file or set BC_MASTER_KEY`,
    );
    expect(fs.existsSync(file)).toBe(false);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'short');
    expect(failure(() => SecretBox.load({ file, create: true })).message).toMatch(/is malformed/);
  });

  it('does not overwrite an existing key file when asked to create', () => {
    const first = SecretBox.load({ file, create: true });
    const again = SecretBox.load({ file, create: true });
    expect(again.source).toBe('file');
    expect(again.decrypt(first.encrypt('kept'))).toBe('kept');
  });
});

describe('maskSecret', () => {
  it('shows 3 + 4 characters of long secrets and 2 of short ones', () => {
    expect(maskSecret('sk-abcdefghijklmnopa1b2')).toBe('sk-...a1b2');
    expect(maskSecret('123456789012')).toBe('123...9012');
    expect(maskSecret('12345678901')).toBe('...01');
    expect(maskSecret('x')).toBe('...x');
  });
});

describe('client keys', () => {
  it('are sk-bc- plus 40 base62 characters, all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = generateKeySecret();
      expect(s).toMatch(/^sk-bc-[0-9A-Za-z]{40}$/);
      seen.add(s);
    }
    expect(seen.size).toBe(200);
  });

  it('use every base62 symbol roughly evenly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      for (const ch of generateKeySecret().slice(6)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    // 20,000 draws over 62 symbols: about 323 each; a biased or broken generator falls far outside
    for (const n of counts.values()) expect(n).toBeGreaterThan(220);
    for (const n of counts.values()) expect(n).toBeLessThan(430);
    // modulo bias (byte % 62) would give '0'..'7' 5/256 instead of 4/256: about 390 each, not 323
    const firstEight = [...'01234567'].reduce((sum, ch) => sum + (counts.get(ch) ?? 0), 0) / 8;
    expect(firstEight).toBeLessThan(355);
  });

  it('hash with SHA-256 hex and keep a 10-character prefix', () => {
    expect(hashKeySecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(keyPrefix('sk-bc-Ab3xYZ0123456789')).toBe('sk-bc-Ab3x');
  });
});
