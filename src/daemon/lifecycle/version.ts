/**
 * The running BurnCloud version, read once from package.json. Both src/ and dist/ sit three
 * folders below the package root, so one relative path serves the checkout and the build.
 */
import fs from 'node:fs';

function readVersion(): string {
  try {
    const url = new URL('../../../package.json', import.meta.url);
    const pkg = JSON.parse(fs.readFileSync(url, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const DAEMON_VERSION: string = readVersion();
