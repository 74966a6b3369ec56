import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { TopApp } from '../../src/tui/top/top-app.js';
import { PLAIN_THEME } from '../../src/tui/theme.js';
import type { MetricsScope } from '../../src/shared/metrics-types.js';
import { FakeDaemon, plain, scenario, until } from './tui-fake-daemon.js';

afterEach(() => cleanup());

const SIZE = { columns: 100, rows: 24 };
const FAST = { backoffMs: [10], staleMs: 60_000 };

async function header(scope: MetricsScope | undefined): Promise<string> {
  const sc = scenario();
  sc.traffic(3);
  sc.tick();
  const daemon = new FakeDaemon();
  daemon.push(scope ? { ...sc.snapshot(), scope } : sc.snapshot());
  const ui = render(<TopApp client={daemon} theme={PLAIN_THEME} size={SIZE} follow={FAST} />);
  await until(() => plain(ui.lastFrame()).includes('live'), 5000, 'live');
  return plain(ui.lastFrame()).split('\n')[0] ?? '';
}

describe('bc top header in a cluster', () => {
  it('says the cluster and its size when the snapshot covers every node', async () => {
    const line = await header({ node: null, nodes: ['a-1', 'b-2', 'c-3'], answered_by: 'a-1' });
    expect(line).toMatch(/^bc top live\s+cluster of 3 nodes\s+window/);
  });

  it("names the node when it shows one node's numbers", async () => {
    const line = await header({ node: 'b-2', nodes: ['b-2'], answered_by: 'a-1' });
    expect(line).toMatch(/^bc top live\s+node b-2\s+window/);
  });

  it('warns when the cluster view is unavailable', async () => {
    const line = await header({
      node: 'a-1',
      nodes: ['a-1'],
      answered_by: 'a-1',
      cluster_unavailable: "the cluster's Redis cannot be read",
    });
    expect(line).toContain('node a-1 only (cluster view unavailable)');
  });

  it('adds nothing for a daemon that is not in a cluster', async () => {
    const line = await header(undefined);
    expect(line).toMatch(/^bc top live\s+window/);
  });
});
