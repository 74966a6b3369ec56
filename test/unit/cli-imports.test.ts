// Startup stays light: walking the static imports from the CLI entry never reaches ink, react,
// fastify, pino or the daemon/TUI code (those load only by dynamic import inside their commands).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

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
