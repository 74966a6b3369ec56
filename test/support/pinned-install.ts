/**
 * A pinned npm package installed once into a cache folder outside the repository (Claude Code,
 * Codex CLI: hundreds of MB that the project's own install should not carry). The install goes to
 * a staging folder renamed into place, so test runs started side by side never see (or leave) a
 * half-written cache; a later run reuses the cache when its version and native binary are there.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface PinnedPackage {
  name: string;
  version: string;
  /** the cache folder (its node_modules holds the package) */
  dir: string;
  /** the package's native binary inside `dir`, or undefined when it is missing */
  binary(dir: string): string | undefined;
}

/** The version of `name` installed under `dir`, if any. */
export function installedVersion(dir: string, name: string): string | undefined {
  try {
    const pkg = path.join(dir, 'node_modules', name, 'package.json');
    return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The first candidate that is a file of at least `minBytes` (a real binary, not a placeholder). */
export function firstBinary(candidates: string[], minBytes = 1_000_000): string | undefined {
  for (const candidate of candidates) {
    try {
      if (fs.statSync(candidate).size >= minBytes) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

function usable(p: PinnedPackage, dir: string): boolean {
  return installedVersion(dir, p.name) === p.version && p.binary(dir) !== undefined;
}

function npmInstall(p: PinnedPackage, dir: string, timeoutMs: number): Promise<void> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--no-audit', '--no-fund', '--prefix', dir, `${p.name}@${p.version}`];
  return new Promise((resolve, reject) => {
    execFile(
      npm,
      args,
      { cwd: dir, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, _out, stderr) => {
        if (err) reject(new Error(`npm install ${p.name}@${p.version} failed: ${stderr || err.message}`));
        else resolve();
      },
    );
  });
}

/** Installs the package when the cache lacks it; returns its native binary or throws saying why. */
export async function ensurePinned(p: PinnedPackage, timeoutMs = 300_000): Promise<string> {
  if (!usable(p, p.dir)) {
    const staging = fs.mkdtempSync(`${p.dir}-staging-`);
    try {
      await npmInstall(p, staging, timeoutMs);
      if (!usable(p, p.dir)) {
        fs.rmSync(p.dir, { recursive: true, force: true });
        try {
          fs.renameSync(staging, p.dir);
        } catch {
          // another run put its install in place first
        }
      }
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  const bin = p.binary(p.dir);
  if (bin === undefined)
    throw new Error(
      `${p.name}@${p.version} is installed in ${p.dir} but holds no native binary for this platform`,
    );
  return bin;
}
