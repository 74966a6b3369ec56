/**
 * Moves WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside whichever
 * commit crosses the threshold and copies the WAL back into the database with an fsync, a
 * multi-millisecond stall for that one request. The store turns it off and this worker thread,
 * with its own connection, checkpoints every second instead (PASSIVE: it never blocks writers),
 * truncating the WAL when it has grown large.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
let busy = false;
const tick = () => {
  if (busy) return;
  busy = true;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.log > workerData.truncatePages && r.log === r.checkpointed) db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // busy or locked: the next tick tries again
  } finally {
    busy = false;
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    tick();
    db.close();
    parentPort.postMessage('stopped');
  }
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs = 1000): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // 16,384 pages of 4 KiB: truncate once the WAL passes 64 MiB
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, driver, intervalMs, truncatePages: 16_384 },
    resourceLimits: { maxOldGenerationSizeMb: 16 },
  });
  worker.unref();
  worker.on('error', () => undefined);
  let stopped: Promise<void> | undefined;
  return {
    stop(): Promise<void> {
      stopped ??= new Promise<void>((resolve) => {
        const done = (): void => {
          void worker.terminate().then(() => resolve());
        };
        worker.once('message', done);
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
        setTimeout(done, 2000).unref();
      });
      return stopped;
    },
  };
}
