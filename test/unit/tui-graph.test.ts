import { describe, expect, it } from 'vitest';
import { plot, resample } from '../../src/tui/graph.js';
import { fit, fmtCount, fmtMoney, fmtMs, fmtPct } from '../../src/tui/format.js';
import { columnWidths } from '../../src/tui/components/data-table.js';
import { wrapFigures } from '../../src/tui/components/summary-bar.js';
import { fitKeys } from '../../src/tui/components/help-line.js';

/** Which braille dots are set in a line, as [x, yFromTop] dot coordinates. */
function dots(lines: string[]): [number, number][] {
  const bits = [
    [0x01, 0x08],
    [0x02, 0x10],
    [0x04, 0x20],
    [0x40, 0x80],
  ];
  const out: [number, number][] = [];
  lines.forEach((line, row) =>
    [...line].forEach((ch, col) => {
      const code = ch === ' ' ? 0 : ch.charCodeAt(0) - 0x2800;
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 2; x++) if (code & bits[y]![x]!) out.push([col * 2 + x, row * 4 + y]);
    }),
  );
  return out;
}

describe('braille line graph', () => {
  it('plots a rising series from the bottom left to the top right, joined up', () => {
    const values = Array.from({ length: 8 }, (_, i) => i);
    const p = plot(values, { width: 4, height: 2 });
    expect(p.max).toBe(7);
    expect(p.lines).toHaveLength(2);
    expect(p.lines.every((l) => [...l].length === 4)).toBe(true);
    const d = dots(p.lines);
    // 8 points over 8 horizontal dots and 8 vertical dots: point i at height i
    for (let x = 0; x < 8; x++) expect(d).toContainEqual([x, 7 - x]);
    // each column holds only its own point: a rise of one dot needs no joining segment
    expect(d).toHaveLength(8);
  });

  it('joins a jump with a vertical segment and leaves gaps where there is no data', () => {
    const p = plot([0, 0, 10, null, null, 10], { width: 3, height: 1 });
    const d = dots(p.lines);
    // the jump at x=2 fills every level above the previous point up to the top
    expect(d.filter(([x]) => x === 1).map(([, y]) => y)).toEqual([3]);
    expect(
      d
        .filter(([x]) => x === 2)
        .map(([, y]) => y)
        .sort(),
    ).toEqual([0, 1, 2]);
    expect(d.filter(([x]) => x === 3 || x === 4)).toEqual([]);
    expect(d).toContainEqual([5, 0]);
  });

  it('scales to a given maximum and clamps above it', () => {
    const p = plot([5, 50], { width: 1, height: 1, max: 10 });
    expect(p.max).toBe(10);
    expect(dots(p.lines).sort()).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('averages many values into few dots and stretches few values over many', () => {
    expect(resample([1, 3, 5, 7], 2)).toEqual([2, 6]);
    expect(resample([4, null, null, null], 2)).toEqual([4, null]);
    expect(resample([1, 2], 4)).toEqual([1, 1, 2, 2]);
  });

  it('draws ASCII stars, one point per column, when asked', () => {
    const p = plot([0, 1, 2, 3], { width: 4, height: 4, ascii: true });
    expect(p.lines).toEqual(['   *', '  * ', ' *  ', '*   ']);
  });

  it('shows an all-zero series as a flat line at the bottom', () => {
    const p = plot([0, 0, 0, 0], { width: 2, height: 2 });
    expect(p.lines[0]).toBe('  ');
    expect(p.lines[1]).toBe('⣀⣀');
  });
});

describe('formats and layout helpers', () => {
  it('formats numbers short', () => {
    expect([0, 7, 12.34, 999, 1234, 12_345, 2_500_000].map(fmtCount)).toEqual([
      '0',
      '7',
      '12.3',
      '999',
      '1.2k',
      '12k',
      '2.5M',
    ]);
    expect([null, 12.4, 850, 1250, 12_500, 125_000].map(fmtMs)).toEqual([
      '-',
      '12ms',
      '850ms',
      '1.25s',
      '12.5s',
      '2m05s',
    ]);
    expect([0, 0.005, 0.027, 0.5].map(fmtPct)).toEqual(['0%', '0.5%', '2.7%', '50%']);
    expect([null, 0, 400, 720_000, 12_340_000, 2_500_000_000].map(fmtMoney)).toEqual([
      '-',
      '$0',
      '$0.0004',
      '$0.72',
      '$12.3',
      '$2.5k',
    ]);
    expect(fit('abcdef', 4)).toBe('abc~');
    expect(fit('ab', 4, 'right')).toBe('  ab');
  });

  it('gives the flexible column what the fixed ones leave', () => {
    expect(
      columnWidths(
        [
          { title: 'a', value: () => '' },
          { title: 'b', width: 10, value: () => '' },
        ],
        40,
      ),
    ).toEqual([28, 10]);
  });

  it('wraps header figures and help keys to the width', () => {
    const figures = [
      { label: 'RPS', value: '12.2' },
      { label: 'p50', value: '300ms' },
      { label: 'in-flight', value: '3' },
    ];
    expect(wrapFigures(figures, 80)).toHaveLength(1);
    expect(wrapFigures(figures, 20).map((l) => l.map((f) => f.label))).toEqual([
      ['RPS', 'p50'],
      ['in-flight'],
    ]);
    expect(
      fitKeys(
        [
          ['q', 'quit'],
          ['w', 'window'],
          ['s', 'sort'],
        ],
        16,
      ).map(([k]) => k),
    ).toEqual(['q', 'w']);
  });
});

describe('bc top --once --json', () => {
  it('keeps number arrays on one line and parses back to the same value', async () => {
    const { toCompactJson } = await import('../../src/tui/top/json.js');
    const doc = { a: [1, 2, null], b: { c: 'x [ y', d: [] as number[], e: [{ f: 1 }] }, g: undefined };
    const text = toCompactJson(doc);
    expect(JSON.parse(text)).toEqual({ a: [1, 2, null], b: { c: 'x [ y', d: [], e: [{ f: 1 }] } });
    expect(text).toContain('"a": [1, 2, null]');
    expect(text.split('\n')).toHaveLength(12);
  });
});

describe('input chunks with Enter in them', () => {
  it('splits text runs from Enter presses, and leaves plain keys alone', async () => {
    const { splitEnters } = await import('../../src/tui/components/split-input.js');
    const key = { return: false } as unknown as import('ink').Key;
    const parts = splitEnters('abc\r\rde\r\nf', key).map(([text, k]) => (k.return ? '<enter>' : text));
    expect(parts).toEqual(['abc', '<enter>', '<enter>', 'de', '<enter>', 'f']);
    expect(splitEnters('\r', key)).toEqual([['\r', key]]);
    expect(splitEnters('x', key)).toEqual([['x', key]]);
  });
});
