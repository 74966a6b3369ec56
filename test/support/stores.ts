/**
 * What a test file needs of the run's PostgreSQL and Redis (test/global-setup.ts): a database of
 * its own, so files running side by side never see each other's rows, and a Redis key prefix of
 * its own for the same reason.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';

export function pgUrl(): string {
  const url = inject('pgUrl');
  if (!url) throw new Error('no PostgreSQL: the test setup (test/global-setup.ts) did not start one');
  return url;
}

export function redisUrl(): string {
  const url = inject('redisUrl');
  if (!url) throw new Error('no Redis: the test setup (test/global-setup.ts) did not start one');
  return url;
}

/** A new, empty database on the run's server; its URL. */
export async function freshPgDatabase(): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(pgUrl(), { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** A key prefix no other test uses, e.g. `t3f9a1c:`. */
export function freshRedisPrefix(): string {
  return `t${randomBytes(4).toString('hex')}:`;
}
