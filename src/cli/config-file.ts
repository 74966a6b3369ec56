/**
 * The CLI's own preferences (`bc config get|set`): `socket`, `json` and `color`, kept by `conf`
 * in `$BC_HOME/cli.json`, so nothing outside BC_HOME is written. Every command reads the file,
 * but loading `conf` costs ~100 ms, so reading parses the same JSON file directly and `conf` is
 * only loaded to write it. Precedence, applied by the caller: flag > env > this file > default.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ColorPreference } from './output.js';
import { UsageError, parseBoolean } from './parse.js';

export interface CliConfig {
  socket?: string;
  json?: boolean;
  color?: ColorPreference;
}

export type CliConfigKey = keyof CliConfig;
export const CONFIG_KEYS: readonly CliConfigKey[] = ['socket', 'json', 'color'];

export const CONFIG_FILE_NAME = 'cli';

export function configFilePath(home: string): string {
  return path.join(home, `${CONFIG_FILE_NAME}.json`);
}

/** The stored preferences; a missing or damaged file reads as no preferences. */
export function readCliConfig(home: string): CliConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(configFilePath(home), 'utf8'));
  } catch {
    return {};
  }
  if (typeof doc !== 'object' || doc === null) return {};
  const o = doc as Record<string, unknown>;
  const out: CliConfig = {};
  if (typeof o.socket === 'string' && o.socket !== '') out.socket = o.socket;
  if (typeof o.json === 'boolean') out.json = o.json;
  if (o.color === 'auto' || o.color === 'always' || o.color === 'never') out.color = o.color;
  return out;
}

export function parseConfigKey(input: string): CliConfigKey {
  const key = CONFIG_KEYS.find((k) => k === input.trim());
  if (!key) throw new UsageError(`"${input}" is not a setting: one of ${CONFIG_KEYS.join(', ')}`);
  return key;
}

/** Validates a typed value for `key`; `socket` becomes an absolute path. */
export function parseConfigValue(key: CliConfigKey, input: string): string | boolean {
  if (key === 'json') return parseBoolean(input);
  if (key === 'color') {
    const v = input.trim().toLowerCase();
    if (v === 'auto' || v === 'always' || v === 'never') return v;
    throw new UsageError(`"${input}" is not a colour setting: one of auto, always, never`);
  }
  if (input.trim() === '') throw new UsageError('the socket path cannot be empty');
  return path.resolve(input.trim());
}

async function openConf(home: string) {
  const { default: Conf } = await import('conf');
  return new Conf<CliConfig>({ projectName: 'burncloud', cwd: home, configName: CONFIG_FILE_NAME });
}

export async function setCliConfig(home: string, key: CliConfigKey, value: string | boolean): Promise<void> {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const conf = await openConf(home);
  conf.set(key, value);
}

export async function unsetCliConfig(home: string, key: CliConfigKey): Promise<void> {
  if (!fs.existsSync(configFilePath(home))) return;
  const conf = await openConf(home);
  conf.delete(key);
}
