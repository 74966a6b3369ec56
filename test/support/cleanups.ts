/**
 * Teardown registered while a test runs and run right after it, last registered first: the
 * processes, servers and temporary homes a test made. One registry per test file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

export type Cleanup = () => Promise<void> | void;

export interface Cleanups {
  /** runs `fn` after the current test */
  push(fn: Cleanup): void;
  /** a new temporary folder (a BC_HOME), removed after the current test */
  tempHome(): string;
}

/** Call once at the top of a test file: registers the afterEach that runs the cleanups. */
export function cleanupsAfterEach(): Cleanups {
  const list: Cleanup[] = [];
  afterEach(async () => {
    for (const c of list.splice(0).reverse()) await c();
  });
  return {
    push: (fn) => {
      list.push(fn);
    },
    tempHome: () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
      list.push(() => fs.rmSync(home, { recursive: true, force: true }));
      return home;
    },
  };
}
