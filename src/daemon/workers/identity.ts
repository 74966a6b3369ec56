/**
 * Which of the `bc daemon --workers N` processes this one is (SPEC section 9). The supervisor
 * (workers/supervisor.ts) starts each worker with BC_WORKER_INDEX (0..N-1) and BC_WORKER_COUNT;
 * a daemon started any other way is not a worker and reads neither. What a worker does
 * differently follows from its index: its own settlement journal or spill file (a file has one
 * writer), log row ids from its own residue class (index mod count, so N processes appending to
 * one SQLite file never pick the same id), and no pidfile or socket clean-up (the supervisor owns
 * both).
 */
export interface WorkerIdentity {
  index: number;
  count: number;
}

export const WORKER_INDEX_ENV = 'BC_WORKER_INDEX';
export const WORKER_COUNT_ENV = 'BC_WORKER_COUNT';

/** The identity the supervisor gave this process, or null (a daemon on its own). */
export function workerFromEnv(env: NodeJS.ProcessEnv): WorkerIdentity | null {
  const index = Number(env[WORKER_INDEX_ENV]);
  const count = Number(env[WORKER_COUNT_ENV]);
  if (env[WORKER_INDEX_ENV] === undefined || env[WORKER_COUNT_ENV] === undefined) return null;
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || count < 1 || index >= count)
    throw new Error(`bad worker identity ${env[WORKER_INDEX_ENV]}/${env[WORKER_COUNT_ENV]}`);
  return { index, count };
}

/** The file a worker keeps to itself, next to the shared one: `x.jsonl` -> `x-w2.jsonl`. */
export function workerFile(file: string, worker: WorkerIdentity | null | undefined): string {
  if (!worker) return file;
  const dot = file.endsWith('.jsonl') ? file.length - '.jsonl'.length : file.length;
  return `${file.slice(0, dot)}-w${worker.index}${file.slice(dot)}`;
}

/** Files workers left behind beside `file` (`x-w0.jsonl`, `x-w1.jsonl`, ...), by workerFile's naming. */
export function isWorkerFileOf(file: string, candidate: string): boolean {
  const dot = file.endsWith('.jsonl') ? file.length - '.jsonl'.length : file.length;
  const head = file.slice(0, dot);
  const tail = file.slice(dot);
  if (!candidate.startsWith(`${head}-w`) || !candidate.endsWith(tail)) return false;
  return /^\d+$/.test(candidate.slice(head.length + 2, candidate.length - tail.length));
}
