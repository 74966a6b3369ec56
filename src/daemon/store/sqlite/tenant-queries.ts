/**
 * What a tenant may read of the request log (`GET /bc/v1/me/usage`): usage summed over one user's
 * keys only, or over one key of theirs, by model, key or UTC day. The rows are found through
 * `keys.user_id` (a key's owner never changes), so a row is its user's for good and no other
 * user's row can match. Read from the usage rollups and the window's partial edge of the log,
 * like `usage` in logs.ts (rollups.ts says how).
 */
import type { UsageAggregate } from '../types.js';
import type { Db } from './database.js';
import { normaliseTime } from './logs.js';
import { SQLITE, StatementCache, userUsageSql, type SqliteRollups, type UsageWindow } from './rollups.js';

export type UserUsageDimension = 'model' | 'key' | 'day';

export interface UserUsageQuery {
  userId: number;
  /** only this key's rows (it must be the user's: the user filter stays on) */
  keyId: number | null;
  by: UserUsageDimension;
  since: string;
}

interface Params extends UsageWindow {
  user: number;
  key: number | null;
}

export class TenantQueries {
  private readonly statements: StatementCache<[Params]>;

  constructor(
    db: Db,
    private readonly rollups: SqliteRollups,
  ) {
    this.statements = new StatementCache(db);
  }

  userUsage(q: UserUsageQuery): UsageAggregate[] {
    const since = normaliseTime(q.since, 'since');
    const stmt = this.statements.get(userUsageSql(SQLITE, q.by, q.keyId !== null));
    return this.rollups.snapshot(() =>
      stmt.all({ ...this.rollups.window(since), user: q.userId, key: q.keyId }),
    );
  }
}
