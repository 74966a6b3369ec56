/**
 * An in-process daemon for relay tests: real services on a temporary BC_HOME, the real gateway
 * app listening on 127.0.0.1:0, and the real control app driven through `inject()` (the same
 * routes the CLI uses). Tests that need a separate process (SIGKILL, signals) use
 * startTestDaemon() instead. `store: 'postgres'` puts it on a fresh PostgreSQL database instead of
 * the home's SQLite file (test/support/store-matrix.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { resolvePaths } from '../../src/shared/paths.js';
import type { ChannelInput, ChannelView, KeyCreated, KeyInput } from '../../src/shared/control-api.js';
import { createServices } from '../../src/daemon/services.js';
import type { DaemonServices } from '../../src/daemon/service-types.js';
import { buildGatewayApp } from '../../src/daemon/gateway/app.js';
import { buildControlApp } from '../../src/daemon/control/app.js';
import { storeEnv, type StoreKind } from './store-matrix.js';

export interface TestGateway {
  url: string;
  home: string;
  services: DaemonServices;
  control: FastifyInstance;
  /** a control-plane call; throws with the daemon's message on a non-2xx answer */
  call<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
  ): Promise<T>;
  addChannel(input: ChannelInput): Promise<ChannelView>;
  /** creates a key and returns its secret */
  createKey(input?: KeyInput): Promise<string>;
  close(): Promise<void>;
}

export async function startGateway(
  opts: {
    env?: Record<string, string>;
    store?: StoreKind;
    /** receives the daemon log's JSON lines (level info) */ log?: (line: string) => void;
  } = {},
): Promise<TestGateway> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-gw-'));
  const env = {
    ...process.env,
    BC_PROBE_INTERVAL_MS: '3600000',
    ...(await storeEnv(opts.store)),
    ...opts.env,
  };
  const paths = resolvePaths({ home, listen: '127.0.0.1:0' }, env);
  const sink = opts.log;
  const logger = sink
    ? pino({ level: 'info' }, { write: (line: string) => sink(line) })
    : pino({ level: process.env.BC_TEST_LOG ?? 'silent' });
  const services = await createServices(paths, logger, env);
  const gateway = await buildGatewayApp(services);
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  const addr = gateway.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  services.listenAddress = `127.0.0.1:${port}`;
  const control = await buildControlApp(services);

  const call = async <T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
  ): Promise<T> => {
    const res = await control.inject({
      method,
      url,
      ...(body === undefined ? {} : { payload: body as object }),
    });
    if (res.statusCode >= 400) throw new Error(`control ${method} ${url} -> ${res.statusCode}: ${res.body}`);
    return (res.body ? JSON.parse(res.body) : undefined) as T;
  };
  let keyCount = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    home,
    services,
    control,
    call,
    addChannel: (input) => call<ChannelView>('POST', '/v1/channels', input),
    createKey: async (input = {}) => {
      keyCount += 1;
      const created = await call<KeyCreated>('POST', '/v1/keys', { name: `key-${keyCount}`, ...input });
      return created.key;
    },
    close: async () => {
      await control.close();
      await gateway.close();
      await services.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
