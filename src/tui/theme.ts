/**
 * Colours and glyphs for both TUIs, decided once from the environment: `NO_COLOR` (any non-empty
 * value) turns every colour off, and a non-UTF-8 locale (or `BC_ASCII=1`) swaps braille graphs
 * and box glyphs for plain ASCII, so the screens read the same over a bare SSH session. Components
 * receive the theme as a prop; an undefined colour means "terminal default".
 */

export interface Theme {
  color: boolean;
  ascii: boolean;
  accent: string | undefined;
  good: string | undefined;
  warn: string | undefined;
  bad: string | undefined;
  muted: string | undefined;
}

function utf8Locale(env: NodeJS.ProcessEnv): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  // no locale at all is the common case on minimal SSH hosts whose terminals still speak UTF-8
  return locale === '' || /utf-?8/i.test(locale);
}

export function themeFromEnv(env: NodeJS.ProcessEnv = process.env): Theme {
  const color = !env.NO_COLOR;
  const ascii = env.BC_ASCII === '1' || !utf8Locale(env);
  return {
    color,
    ascii,
    accent: color ? 'cyan' : undefined,
    good: color ? 'green' : undefined,
    warn: color ? 'yellow' : undefined,
    bad: color ? 'red' : undefined,
    muted: color ? 'gray' : undefined,
  };
}

/** The theme tests use unless they say otherwise: no colour, UTF-8 glyphs. */
export const PLAIN_THEME: Theme = themeFromEnv({ NO_COLOR: '1', LANG: 'C.UTF-8' });
