/**
 * Where the `bc` executable lives: `bin/bc.js` of this package, found relative to this module
 * (the same from `src/cli` and `dist/cli`), so a spawned daemon and a systemd unit run the same
 * build as the command that set them up, whatever symlink the user typed.
 */
import { fileURLToPath } from 'node:url';

export function bcBinPath(): string {
  return fileURLToPath(new URL('../../bin/bc.js', import.meta.url));
}
