/**
 * What the `bc top` screen is showing (view, graph window, sort, filter, pause, help, selection)
 * and how keys change it: a pure reducer plus the key map, so every key binding is tested without
 * a terminal.
 */
import type { Key } from 'ink';

export const VIEWS = ['overview', 'channels', 'models', 'keys', 'users'] as const;
export type View = (typeof VIEWS)[number];
export const WINDOWS = [60, 300, 900] as const;
export type WindowS = (typeof WINDOWS)[number];
export const SORTS = ['rpm', 'errors', 'p50', 'inflight', 'name'] as const;
export type SortKey = (typeof SORTS)[number];

export interface TopState {
  view: View;
  windowS: WindowS;
  sort: SortKey;
  descending: boolean;
  filter: string;
  /** the filter being typed, while editing */
  draft: string | null;
  paused: boolean;
  help: boolean;
  selected: number;
}

export const INITIAL_TOP_STATE: TopState = {
  view: 'overview',
  windowS: 300,
  sort: 'rpm',
  descending: true,
  filter: '',
  draft: null,
  paused: false,
  help: false,
  selected: 0,
};

export type TopAction =
  | { type: 'view'; view: View }
  | { type: 'cycleView'; delta: 1 | -1 }
  | { type: 'cycleWindow' }
  | { type: 'cycleSort' }
  | { type: 'reverse' }
  | { type: 'pause' }
  | { type: 'help' }
  | { type: 'move'; delta: number; max?: number }
  | { type: 'editFilter' }
  | { type: 'typeFilter'; text: string }
  | { type: 'eraseFilter' }
  | { type: 'commitFilter' }
  | { type: 'clearFilter' }
  | { type: 'quit' };

function next<T>(list: readonly T[], current: T, delta: number): T {
  const i = list.indexOf(current);
  return list[(i + delta + list.length) % list.length] ?? current;
}

export function reduceTop(s: TopState, a: TopAction): TopState {
  switch (a.type) {
    case 'view':
      return { ...s, view: a.view, selected: 0, help: false };
    case 'cycleView':
      return { ...s, view: next(VIEWS, s.view, a.delta), selected: 0, help: false };
    case 'cycleWindow':
      return { ...s, windowS: next(WINDOWS, s.windowS, 1) };
    case 'cycleSort':
      return {
        ...s,
        sort: next(SORTS, s.sort, 1),
        descending: next(SORTS, s.sort, 1) !== 'name',
        selected: 0,
      };
    case 'reverse':
      return { ...s, descending: !s.descending, selected: 0 };
    case 'pause':
      return { ...s, paused: !s.paused };
    case 'help':
      return { ...s, help: !s.help };
    case 'move':
      return { ...s, selected: Math.max(0, Math.min(a.max ?? Infinity, s.selected + a.delta)) };
    case 'editFilter':
      return { ...s, draft: s.filter };
    case 'typeFilter':
      return { ...s, draft: (s.draft ?? '') + a.text };
    case 'eraseFilter':
      return { ...s, draft: (s.draft ?? '').slice(0, -1) };
    case 'commitFilter':
      return { ...s, filter: (s.draft ?? s.filter).trim(), draft: null, selected: 0 };
    case 'clearFilter':
      return { ...s, filter: '', draft: null, selected: 0 };
    case 'quit':
      return s;
  }
}

/** The keys of the help line, in order (arrows only where the terminal can show them). */
export function topKeys(ascii: boolean): readonly (readonly [string, string])[] {
  return [
    ['q', 'quit'],
    ['1-5', 'view'],
    ['w', 'window'],
    ['s', 'sort'],
    ['r', 'reverse'],
    ['/', 'filter'],
    ['p', 'pause'],
    [ascii ? 'j/k' : '↑↓', 'select'],
    ['?', 'help'],
  ];
}

function filterKey(input: string, key: Key): TopAction | null {
  if (key.return) return { type: 'commitFilter' };
  if (key.escape) return { type: 'clearFilter' };
  if (key.backspace || key.delete) return { type: 'eraseFilter' };
  if (key.ctrl || key.meta || input === '') return null;
  // a paste arrives as one chunk; keep only printable characters
  const printable = [...input].filter((c) => c >= ' ' && c !== '\x7f').join('');
  return printable ? { type: 'typeFilter', text: printable } : null;
}

export function topActionForKey(input: string, key: Key, s: TopState): TopAction | null {
  if (key.ctrl && input === 'c') return { type: 'quit' };
  if (s.draft !== null) return filterKey(input, key);
  if (key.tab) return { type: 'cycleView', delta: key.shift ? -1 : 1 };
  if (key.upArrow) return { type: 'move', delta: -1 };
  if (key.downArrow) return { type: 'move', delta: 1 };
  if (key.pageUp) return { type: 'move', delta: -10 };
  if (key.pageDown) return { type: 'move', delta: 10 };
  if (key.escape) return s.help ? { type: 'help' } : { type: 'clearFilter' };
  const view = VIEWS[Number(input) - 1];
  if (/^[1-5]$/.test(input) && view) return { type: 'view', view };
  switch (input) {
    case 'q':
      return { type: 'quit' };
    case 'w':
      return { type: 'cycleWindow' };
    case 's':
      return { type: 'cycleSort' };
    case 'r':
      return { type: 'reverse' };
    case '/':
      return { type: 'editFilter' };
    case 'p':
    case ' ':
      return { type: 'pause' };
    case '?':
    case 'h':
      return { type: 'help' };
    case 'k':
      return { type: 'move', delta: -1 };
    case 'j':
      return { type: 'move', delta: 1 };
    default:
      return null;
  }
}
