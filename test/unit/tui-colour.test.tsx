import { afterEach, describe, expect, it } from 'vitest';
import { FakeDaemon, plain, scenario, until } from './tui-fake-daemon.js';

// Ink's colour support is decided when it loads: force it on first, then load the screens, so the
// NO_COLOR case is measured against a renderer that would otherwise colour.
process.env.FORCE_COLOR = '1';
const { cleanup, render } = await import('ink-testing-library');
const { TopApp } = await import('../../src/tui/top/top-app.js');
const { themeFromEnv } = await import('../../src/tui/theme.js');

afterEach(() => cleanup());

// eslint-disable-next-line no-control-regex
const COLOUR = /\x1b\[(3[0-7]|9[0-7]|38;)/;

describe('NO_COLOR', () => {
  it('writes no colour codes with NO_COLOR, and some without it', async () => {
    const daemon = new FakeDaemon();
    const sc = scenario();
    sc.traffic(5, { status: 500, errorCategory: 'upstream' });
    sc.tick();
    daemon.push(sc.snapshot());
    const size = { columns: 80, rows: 24 };
    const mono = render(<TopApp client={daemon} theme={themeFromEnv({ NO_COLOR: '1' })} size={size} />);
    await until(() => plain(mono.lastFrame()).includes('live'));
    expect(mono.lastFrame()).not.toMatch(COLOUR);
    mono.unmount();
    const coloured = render(<TopApp client={daemon} theme={themeFromEnv({})} size={size} />);
    await until(() => plain(coloured.lastFrame()).includes('live'));
    expect(coloured.lastFrame()).toMatch(COLOUR);
  });
});
