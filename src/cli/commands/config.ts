/**
 * `bc config get [KEY] | set KEY VALUE | unset KEY`: the CLI's own preferences in
 * `$BC_HOME/cli.json` (socket, json, color). `get` shows the value in effect from the file or the
 * default; flags and environment variables still win over it when a command runs.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { renderTable } from '../format.js';
import { arg } from '../options.js';
import {
  CONFIG_KEYS,
  configFilePath,
  parseConfigKey,
  parseConfigValue,
  readCliConfig,
  setCliConfig,
  unsetCliConfig,
} from '../config-file.js';
import type { CliConfigKey } from '../config-file.js';

type Effective = Record<CliConfigKey, string | boolean>;

function effective(ctx: CliContext): { values: Effective; stored: Set<string> } {
  const stored = readCliConfig(ctx.home);
  const values: Effective = {
    socket: stored.socket ?? path.join(ctx.home, 'bc.sock'),
    json: stored.json ?? false,
    color: stored.color ?? 'auto',
  };
  return { values, stored: new Set(Object.keys(stored)) };
}

export function registerConfig(program: Command, ctx: CliContext): void {
  const config = program.command('config').description(`CLI preferences (${CONFIG_KEYS.join(', ')})`);

  config
    .command('get')
    .description('show one preference or all of them')
    .argument('[key]', CONFIG_KEYS.join(' | '), arg(parseConfigKey))
    .action((key: CliConfigKey | undefined) => {
      const { values, stored } = effective(ctx);
      if (key) {
        ctx.out.result({ [key]: values[key] }, () => String(values[key]));
        return;
      }
      const rows = CONFIG_KEYS.map((k) => ({
        k,
        v: String(values[k]),
        src: stored.has(k) ? 'set' : 'default',
      }));
      ctx.out.result(values, (s) =>
        renderTable(
          [
            { header: 'KEY', value: (r: (typeof rows)[number]) => r.k },
            { header: 'VALUE', value: (r) => r.v },
            { header: 'SOURCE', value: (r) => r.src },
          ],
          rows,
          s,
        ),
      );
    });

  config
    .command('set')
    .description('store a preference in $BC_HOME/cli.json')
    .argument('<key>', CONFIG_KEYS.join(' | '), arg(parseConfigKey))
    .argument('<value>', 'socket: a path; json: true|false; color: auto|always|never')
    .action(async (key: CliConfigKey, raw: string) => {
      const value = parseConfigValue(key, raw);
      await setCliConfig(ctx.home, key, value);
      ctx.out.result({ [key]: value }, () => `${key} = ${String(value)} (in ${configFilePath(ctx.home)})`);
    });

  config
    .command('unset')
    .description('forget a preference (back to the default)')
    .argument('<key>', CONFIG_KEYS.join(' | '), arg(parseConfigKey))
    .action(async (key: CliConfigKey) => {
      await unsetCliConfig(ctx.home, key);
      ctx.out.result({ [key]: null }, () => `${key} unset`);
    });
}
