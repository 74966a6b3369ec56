// Startup stays light: walking the static imports from the CLI entry never reaches ink, react,
// fastify, pino or the daemon/TUI code (those load only by dynamic import inside their commands),
// and the built bundle that bin/bc.js runs keeps it that way.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/bc.js', import.meta.url));

/** Value imports only: `import type` and `import('...')` are skipped. */
function staticImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs: string[] = [];
  const re = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) if (m[1]) specs.push(m[1]);
  return specs;
}

function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const base = path.resolve(path.dirname(file), spec).replace(/\.js$/, '');
      const next = [`${base}.ts`, `${base}.tsx`].find((f) => fs.existsSync(f));
      if (next) todo.push(next);
    }
  }
  return { files, packages };
}

describe('the CLI entry', () => {
  const { files, packages } = reachable(path.join(SRC, 'cli/main.ts'));

  it('reaches the commands (the walk works)', () => {
    expect([...files].some((f) => f.endsWith('cli/commands/channel.ts'))).toBe(true);
    expect(packages.has('commander')).toBe(true);
  });

  it('never statically imports ink, react, fastify, pino or undici as a whole', () => {
    for (const heavy of ['ink', 'react', 'fastify', 'pino', 'undici', 'conf'])
      expect(packages.has(heavy)).toBe(false);
  });

  it('never statically imports daemon or TUI code', () => {
    const rel = [...files].map((f) => path.relative(SRC, f));
    expect(rel.filter((f) => f.startsWith('daemon/') || f.startsWith('tui/'))).toEqual([]);
  });
});

// What `npm run build` bundles (scripts/bundle-cli.mjs) and what bin/bc.js runs.
describe('the CLI bundle', () => {
  const DIST_CLI = fileURLToPath(new URL('../../dist/cli/', import.meta.url));
  const files = fs.readdirSync(DIST_CLI).filter((f) => /^bc(-[\w-]+)?\.js$/.test(f));
  const text = Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(DIST_CLI, f), 'utf8')]));
  const imports = (source: string, dynamic: boolean) => {
    const re = dynamic ? /\bimport\(\s*"([^"]+)"\s*\)/g : /^import\s[^;]*?from\s+"([^"]+)";?$/gm;
    return [...source.matchAll(re)].map((m) => m[1] as string);
  };

  it('is what bin/bc.js runs', () => {
    expect(fs.readFileSync(BIN, 'utf8')).toContain("import('../dist/cli/bc.js')");
    expect(files).toContain('bc.js');
  });

  it('loads dist/shared from its own files, so the daemon and the TUIs share its classes', () => {
    const relative = files.flatMap((f) => imports(text[f] as string, false)).filter((s) => s.startsWith('.'));
    expect(relative).toContain('../shared/errors.js');
    for (const spec of relative) expect(spec).toMatch(/^(\.\.\/shared\/|\.\/bc-)/);
    for (const f of files) expect(text[f]).not.toMatch(/\bclass BcError\b|\bBcError = class\b/);
  });

  it('leaves the daemon, the TUIs and conf to dynamic imports, and contains commander', () => {
    const dynamic = imports(text['bc.js'] as string, true);
    expect(dynamic).toEqual(
      expect.arrayContaining(['../daemon/main.js', '../tui/top/run.js', '../tui/ui/run.js', 'conf']),
    );
    const packages = files
      .flatMap((f) => imports(text[f] as string, false))
      .filter((s) => !s.startsWith('.'));
    for (const spec of packages) expect(spec).toMatch(/^node:/);
    expect(text['bc.js']).toMatch(/CommanderError = class\b/);
  });
});
