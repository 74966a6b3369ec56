/**
 * What a tenant may read of the request log (`GET /bc/v1/me/usage`): usage summed over one user's
 * keys only, or over one key of theirs, by model, key or UTC day. The rows are found through
 * `keys.user_id` (a key's owner never changes), so a row is its user's for good and no other
 * user's row can match. A plain scan of the log since a time, like `usage` in logs.ts; usage will
 * move to rollups later, and this query with it.
 */
import type { UsageAggregate } from '../types.js';
import type { Db, Statement } from './database.js';
import { normaliseTime } from './logs.js';

export type UserUsageDimension = 'model' | 'key' | 'day';

export interface UserUsageQuery {
  userId: number;
  /** only this key's rows (it must be the user's: the user filter stays on) */
  keyId: number | null;
  by: UserUsageDimension;
  since: string;
}

interface Params {
  user: number;
  key: number | null;
  since: string;
}

// the dimension's value and what rows are grouped by: a key by its id, named as it is now
const DIMENSION: Record<UserUsageDimension, { name: string; group: string; order: string }> = {
  model: { name: 'model', group: 'model', order: 'cost DESC, requests DESC, name' },
  key: {
    name: "COALESCE((SELECT name FROM keys WHERE keys.id = logs.key_id), key_name, '-')",
    group: 'key_id',
    order: 'cost DESC, requests DESC, name',
  },
  // log times are ISO 8601 UTC, so the first 10 characters are the UTC day
  day: { name: 'substr(time, 1, 10)', group: 'substr(time, 1, 10)', order: 'name' },
};

// a row with tokens but no cost is spend on an unpriced model: counted, never added as $0
const UNPRICED = 'CASE WHEN cost IS NULL AND input_tokens + output_tokens > 0 THEN 1 ELSE 0 END';

function usageSql(by: UserUsageDimension, oneKey: boolean): string {
  const d = DIMENSION[by];
  return `SELECT ${d.name} AS name, COUNT(*) AS requests,
      SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,
      SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
      CASE WHEN COUNT(cost) = 0 AND SUM(${UNPRICED}) > 0 THEN NULL ELSE COALESCE(SUM(cost), 0) END AS cost,
      SUM(${UNPRICED}) AS unpriced
    FROM logs
    WHERE time >= @since AND key_id IN (SELECT id FROM keys WHERE user_id = @user)
      ${oneKey ? 'AND key_id = @key' : ''}
    GROUP BY ${d.group} ORDER BY ${d.order}`;
}

export class TenantQueries {
  private readonly statements = new Map<string, Statement<[Params], UsageAggregate>>();

  constructor(private readonly db: Db) {}

  userUsage(q: UserUsageQuery): UsageAggregate[] {
    const params: Params = { user: q.userId, key: q.keyId, since: normaliseTime(q.since, 'since') };
    return this.statement(q.by, q.keyId !== null).all(params);
  }

  private statement(by: UserUsageDimension, oneKey: boolean): Statement<[Params], UsageAggregate> {
    const id = `${by}:${oneKey}`;
    let stmt = this.statements.get(id);
    if (stmt === undefined) {
      stmt = this.db.prepare<[Params], UsageAggregate>(usageSql(by, oneKey));
      this.statements.set(id, stmt);
    }
    return stmt;
  }
}
