/**
 * In-process services for the control-API route tests (test/integration/control-*.test.ts): real
 * services on a fresh temporary home with probes effectively off, a `call` through the control
 * app's inject() that answers status and parsed body, and the check of an error answer's shape.
 * Relay tests that need a listening gateway use startGateway() (gateway.ts) instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { expect } from 'vitest';
import { createServices } from '../../src/daemon/services.js';
import type { DaemonServices } from '../../src/daemon/service-types.js';
import { resolvePaths } from '../../src/shared/paths.js';

export interface TestServices {
  home: string;
  services: DaemonServices;
}

/** Real services on a new temporary home (HOME too), probes once an hour, logging silent. */
export async function startTestServices(): Promise<TestServices> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  const env: NodeJS.ProcessEnv = { HOME: home, BC_PROBE_INTERVAL_MS: '3600000' };
  const services = await createServices(
    resolvePaths({ home, listen: '127.0.0.1:0' }, env),
    pino({ level: 'silent' }),
    env,
  );
  return { home, services };
}

/** Closes the apps in order, then the services, then removes the home. */
export async function stopTestServices(t: TestServices, apps: FastifyInstance[]): Promise<void> {
  for (const app of apps) await app.close();
  await t.services.close();
  fs.rmSync(t.home, { recursive: true, force: true });
}

export interface Answer<T> {
  status: number;
  body: T;
}

/**
 * One control-API call through inject(). `seen` gets the raw response before its body is parsed
 * (tests that check no answer leaks a secret collect the bodies there).
 */
export async function injectCall<T = unknown>(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  seen?: (res: LightMyRequestResponse) => void,
): Promise<Answer<T>> {
  const res = await app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  seen?.(res);
  return { status: res.statusCode, body: res.json<T>() };
}

/** The answer is the daemon's error envelope with this status and code (and a matching message). */
export function expectError(a: Answer<unknown>, status: number, code: string, pattern?: RegExp): void {
  expect(a.status).toBe(status);
  const e = (a.body as { error: { code: string; message: string } }).error;
  expect(e.code).toBe(code);
  if (pattern) expect(e.message).toMatch(pattern);
}
