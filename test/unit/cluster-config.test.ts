/**
 * The cluster's settings and how `bc status` shows it: BC_REDIS is taken only as redis:// or
 * rediss:// and only beside a PostgreSQL store (a refusal says which), BC_REDIS_PREFIX names the
 * deployment's keys; a status without the cluster fields renders exactly as before, one with them
 * adds Redis's health and one line per node.
 */
import { describe, expect, it } from 'vitest';
import { clusterConfigFromEnv } from '../../src/daemon/cluster/cluster.js';
import { renderStatus } from '../../src/cli/views-activity.js';
import { makeStyle } from '../../src/cli/format.js';
import type { StatusView } from '../../src/shared/control-api.js';

const PG = 'postgres://bc@127.0.0.1/bc';

function refusal(env: NodeJS.ProcessEnv, db: string): string {
  try {
    clusterConfigFromEnv(env, db);
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'accepted';
}

describe('clusterConfigFromEnv', () => {
  it('is null without BC_REDIS (a daemon on its own), on SQLite too', () => {
    expect(clusterConfigFromEnv({}, 'sqlite:/x/burncloud.db')).toBeNull();
    expect(clusterConfigFromEnv({ BC_REDIS: '' }, PG)).toBeNull();
  });

  it('takes redis:// and rediss:// with the default or the given prefix', () => {
    expect(clusterConfigFromEnv({ BC_REDIS: 'redis://127.0.0.1:6379' }, PG)).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: 'bc:',
    });
    expect(clusterConfigFromEnv({ BC_REDIS: 'rediss://h:6380/2', BC_REDIS_PREFIX: 'gw1:' }, PG)).toEqual({
      redisUrl: 'rediss://h:6380/2',
      prefix: 'gw1:',
    });
  });

  it('refuses another scheme (password hidden) and a store other than PostgreSQL', () => {
    expect(refusal({ BC_REDIS: 'http://u:secret@h:6379' }, PG)).toBe(
      'STARTUP_FAILED: invalid BC_REDIS "http://u:***@h:6379": expected redis://host:port or rediss://host:port',
    );
    expect(refusal({ BC_REDIS: 'redis://h:6379' }, 'sqlite:/x/burncloud.db')).toMatch(
      /^STARTUP_FAILED: BC_REDIS needs BC_DB=postgres:\/\//,
    );
  });
});

describe('renderStatus', () => {
  const base: StatusView = {
    pid: 42,
    version: '0.1.0',
    uptime_s: 5,
    listen: '127.0.0.1:8300',
    socket: '/h/bc.sock',
    store: PG,
    home: '/h',
    channels: 1,
    keys: 2,
    requests: 3,
    store_fault: null,
    log_lines_dropped: 0,
    log_error: null,
  };
  const plain = makeStyle(false);

  it('shows no cluster lines without BC_REDIS', () => {
    const out = renderStatus(base, plain);
    expect(out).not.toMatch(/redis|nodes/);
    expect(out.split('\n').at(-1)).toMatch(/^log\s+ok$/);
  });

  it("shows Redis's health and one line per node", () => {
    const node = { host: 'h', version: '0.1.0', uptime_s: 90, requests: 1234 };
    const out = renderStatus(
      {
        ...base,
        redis: 'ok',
        nodes: [
          { ...node, node_id: 'h-1-aa', pid: 1, listen: '10.0.0.1:8300' },
          { ...node, node_id: 'h-2-bb', pid: 2, listen: '10.0.0.2:8300' },
        ],
      },
      plain,
    );
    const lines = out.split('\n');
    expect(lines.slice(-4)).toEqual([
      expect.stringMatching(/^redis\s+ok$/),
      expect.stringMatching(/^nodes\s+2$/),
      expect.stringMatching(
        /^node\s+h-1-aa {2}10\.0\.0\.1:8300 {2}pid 1 {2}v0\.1\.0 {2}up 1m30s {2}1,234 req$/,
      ),
      expect.stringMatching(/^node\s+h-2-bb {2}10\.0\.0\.2:8300 {2}pid 2/),
    ]);
    expect(renderStatus({ ...base, redis: 'connection is reconnecting', nodes: [] }, plain)).toMatch(
      /redis\s+connection is reconnecting\nnodes\s+0$/,
    );
  });
});
