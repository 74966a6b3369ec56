/**
 * Group commit for settlements. Every request must have its log row committed before it is done,
 * but one transaction per row makes each request pay the whole commit (WAL frames for the table,
 * its indexes and the key's row). Rows settled in the same event-loop turn are queued and written
 * in one transaction at the turn's end (setImmediate); each caller's promise resolves only after
 * that commit. A failing batch is retried row by row, so one bad row cannot fail the others.
 */

interface Pending<T> {
  item: T;
  resolve: (id: number) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T> {
  private queue: Pending<T>[] = [];
  private scheduled = false;

  /** `writeAll` runs every item in one transaction and returns their ids, in order. */
  constructor(
    private readonly writeAll: (items: T[]) => number[],
    private readonly writeOne: (item: T) => number,
  ) {}

  submit(item: T): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now (also called before the store closes). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    try {
      const ids = this.writeAll(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(ids[i]!));
    } catch {
      for (const p of batch) {
        try {
          p.resolve(this.writeOne(p.item));
        } catch (err) {
          p.reject(err);
        }
      }
    }
  }
}
