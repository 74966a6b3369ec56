/**
 * Once per test run: real PostgreSQL and Redis on loopback (test/support/servers.ts), their URLs
 * handed to the test files with `inject('pgUrl')` / `inject('redisUrl')` (test/support/stores.ts).
 */
import type { TestProject } from 'vitest/node';
import { startTestServers } from './support/servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers = await startTestServers();
  project.provide('pgUrl', servers.pgUrl);
  project.provide('redisUrl', servers.redisUrl);
  return () => servers.stop();
}
