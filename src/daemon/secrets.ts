/**
 * Secrets at rest and client key material. Upstream secrets are sealed with AES-256-GCM under a
 * master key that lives in `$BC_HOME/master.key` (mode 0600) or comes from BC_MASTER_KEY, so the
 * database alone never reveals them. Client keys are random base62 strings of which only a
 * SHA-256 hash and a short display prefix are ever stored.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BcError } from '../shared/errors.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ENVELOPE_VERSION = 'v1';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_SECRET_PREFIX = 'sk-bc-';
const KEY_SECRET_LENGTH = 40;

export interface SecretBoxOptions {
  file: string;
  envKey?: string | undefined;
  /** may a missing key file be created? false once secrets encrypted with it may exist */
  create: boolean;
}

export class SecretBox {
  readonly #key: Buffer;
  readonly source: 'env' | 'file' | 'created';

  private constructor(key: Buffer, source: 'env' | 'file' | 'created') {
    this.#key = key;
    this.source = source;
  }

  static load(opts: SecretBoxOptions): SecretBox {
    if (opts.envKey !== undefined && opts.envKey.length > 0)
      return new SecretBox(parseEnvKey(opts.envKey), 'env');
    const existing = readKeyFile(opts.file);
    if (existing !== undefined) return new SecretBox(existing, 'file');
    if (!opts.create) {
      throw new BcError(
        'STARTUP_FAILED',
        `master key missing (${opts.file}): existing channel secrets cannot be decrypted; restore the file or set BC_MASTER_KEY`,
      );
    }
    const created = createKeyFile(opts.file);
    return new SecretBox(created.key, created.source);
  }

  encrypt(plain: string): string {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.#key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [ENVELOPE_VERSION, iv.toString('base64'), tag.toString('base64'), ct.toString('base64')].join(':');
  }

  decrypt(enc: string): string {
    const parts = enc.split(':');
    const [version, iv64, tag64, ct64] = parts;
    try {
      if (parts.length !== 4 || version !== ENVELOPE_VERSION || iv64 === undefined || tag64 === undefined) {
        throw new Error('malformed envelope');
      }
      const iv = Buffer.from(iv64, 'base64');
      const tag = Buffer.from(tag64, 'base64');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('malformed envelope');
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ct64 ?? '', 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch (e) {
      throw new BcError('INTERNAL', 'cannot decrypt a stored secret: wrong master key?', { cause: e });
    }
  }
}

function parseEnvKey(value: string): Buffer {
  const v = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) {
    const key = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new BcError('STARTUP_FAILED', 'BC_MASTER_KEY must be 64 hex characters or the base64 of 32 bytes');
}

/** Returns the key in the file, undefined when there is no file; tightens loose permissions. */
function readKeyFile(file: string): Buffer | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BcError('STARTUP_FAILED', `cannot read master key ${file}: ${errText(e)}`, { cause: e });
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new BcError('STARTUP_FAILED', `master key ${file} is malformed: expected 64 hex characters`);
  }
  try {
    if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  } catch (e) {
    throw new BcError('STARTUP_FAILED', `cannot restrict master key ${file} to mode 0600: ${errText(e)}`, {
      cause: e,
    });
  }
  return Buffer.from(hex, 'hex');
}

function createKeyFile(file: string): { key: Buffer; source: 'file' | 'created' } {
  const key = crypto.randomBytes(KEY_BYTES);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // wx: never overwrite a key that another process wrote a moment ago
    fs.writeFileSync(file, `${key.toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = readKeyFile(file);
      if (raced !== undefined) return { key: raced, source: 'file' };
    }
    throw new BcError('STARTUP_FAILED', `cannot create master key ${file}: ${errText(e)}`, { cause: e });
  }
  return { key, source: 'created' };
}

function errText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ');
}

/** `sk-...a1b2`; short secrets show only their last 2 characters. */
export function maskSecret(secret: string): string {
  if (secret.length < 12) return `...${secret.slice(-2)}`;
  return `${secret.slice(0, 3)}...${secret.slice(-4)}`;
}

/** `sk-bc-` + 40 base62 characters (about 238 bits), drawn without modulo bias. */
export function generateKeySecret(): string {
  // 248 = 4 * 62: bytes at or above it are rejected so each symbol is equally likely
  const limit = 256 - (256 % BASE62.length);
  let out = '';
  while (out.length < KEY_SECRET_LENGTH) {
    for (const b of crypto.randomBytes(KEY_SECRET_LENGTH)) {
      if (b < limit && out.length < KEY_SECRET_LENGTH) out += BASE62[b % BASE62.length];
    }
  }
  return KEY_SECRET_PREFIX + out;
}

export function hashKeySecret(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The display prefix kept in the store, e.g. `sk-bc-Ab3x`. */
export function keyPrefix(secret: string): string {
  return secret.slice(0, 10);
}
