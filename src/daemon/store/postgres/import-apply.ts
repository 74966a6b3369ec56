/**
 * Applies a prepared One API / New API import (bc import one-api, TENANTS.md 5.11) to PostgreSQL
 * in ONE transaction: the same PreparedImport in, the same ImportApplied out, the same rows,
 * names, ledger entries and warnings as the SQLite form (sqlite/import-apply.ts), which stays the
 * reference. Prices and groups are mapped by the same name hash (nameSourceId).
 *
 * Several daemons share the database, so two imports of one source may run at once. SQLite reads
 * import_map once and decides from that; here each entity is first CLAIMED by inserting its
 * import_map row (`ON CONFLICT DO NOTHING RETURNING`), and only the transaction whose insert went
 * in creates the entity. A second importer's insert of the same (source, kind, source_id) waits on
 * the first one's uncommitted row: if that commits, the second finds the conflict and counts the
 * entity "already"; if it rolls back, the second goes on and creates it. The claim's target_id is
 * a placeholder until the entity's id is known, and a claim for an entity the run then skips (a
 * key whose user is missing, a code already held, a price kept) is deleted again, as SQLite never
 * maps a skipped row, so a later run can still bring it over.
 *
 * Names are chosen the way SQLite's free() chooses them (base, base<suffix>, base-2, ...), but by
 * trying each candidate as `INSERT ... ON CONFLICT DO NOTHING` rather than looking first, so a
 * user or key created by anyone else at the same moment makes the import pick the next name
 * instead of failing. Users arrive with their money through `import` ledger rows (balance +
 * spent, plus New API's unspent invitation rewards), so `sum(ledger) - spent = balance` holds
 * from the first commit; unmetered users have neither balance nor ledger row.
 */
import type { ImportCounts, ImportKind, PlanCode, PlanUser } from '../../../shared/import-plan.js';
import type { ImportApplied, PreparedChannel, PreparedImport, PreparedKey } from '../import-types.js';
import type { BalanceChange } from '../types.js';
import { nameSourceId } from '../sqlite/import-apply.js';
import {
  CHANNEL_COLUMNS,
  channelParams,
  KEY_COLUMNS,
  keyParams,
  PRICE_COLUMNS,
  priceParams,
} from '../sqlite/rows.js';
import type { Sql, TxSql } from './connection.js';

type MapKind = 'user' | 'channel' | 'key' | 'code' | 'price' | 'group';

interface UserTarget {
  id: number;
  name: string;
  group: string;
  status: string;
}

/** Writes `p` in one transaction on `sql`; resolves with what was imported, skipped and already there. */
export async function applyImportPostgres(
  sql: Sql,
  p: PreparedImport,
  now = new Date().toISOString(),
): Promise<ImportApplied> {
  return sql.begin<ImportApplied>((tx) => new PgImportRun(tx, p, now).run());
}

/** SQLite's free() order: `base`, then `base<suffix>`, then `base-2`, `base-3`, ... */
function* candidates(base: string, suffix?: string): Generator<string> {
  yield base;
  if (suffix !== undefined) yield `${base}${suffix}`;
  for (let n = 2; ; n++) yield `${base}-${n}`;
}

class PgImportRun {
  /** targets this run knows: its own entities and mappings read from committed runs */
  private readonly mapped = new Map<string, number>();
  private readonly counts = {} as Record<ImportKind, ImportCounts>;
  private readonly warnings: string[] = [];
  private readonly changes: BalanceChange[] = [];

  constructor(
    private readonly tx: TxSql,
    private readonly p: PreparedImport,
    private readonly now: string,
  ) {
    for (const k of ['channels', 'keys', 'users', 'codes', 'prices', 'groups'] as const)
      this.counts[k] = { imported: 0, skipped: 0, already: 0 };
  }

  async run(): Promise<ImportApplied> {
    await this.users();
    for (const c of this.p.channels) await this.channel(c);
    for (const k of this.p.keys) await this.key(k);
    for (const c of this.p.codes) await this.code(c);
    await this.prices();
    await this.groups();
    return { counts: this.counts, warnings: this.warnings, changes: this.changes };
  }

  /**
   * Inserts the import_map row of (kind, sourceId): true when this run now owns the entity. The
   * insert waits for a concurrent importer holding the same row, then conflicts if it committed.
   */
  private async claim(kind: MapKind, sourceId: number): Promise<boolean> {
    const rows = await this.tx`
      INSERT INTO import_map (source, kind, source_id, target_id)
      VALUES (${this.p.source}, ${kind}, ${sourceId}, 0)
      ON CONFLICT DO NOTHING RETURNING source_id`;
    return rows.length === 1;
  }

  /** Gives a claim back: the entity was skipped, and a later run may still import it. */
  private async release(kind: MapKind, sourceId: number): Promise<void> {
    await this.tx`DELETE FROM import_map
      WHERE source = ${this.p.source} AND kind = ${kind} AND source_id = ${sourceId}`;
  }

  private async record(kind: MapKind, sourceId: number, targetId: number): Promise<void> {
    await this.tx`UPDATE import_map SET target_id = ${targetId}
      WHERE source = ${this.p.source} AND kind = ${kind} AND source_id = ${sourceId}`;
    this.mapped.set(`${kind}:${sourceId}`, targetId);
  }

  /** The id an entity was imported as, by this run or a committed earlier (or concurrent) one. */
  private async target(kind: MapKind, sourceId: number): Promise<number | undefined> {
    const known = this.mapped.get(`${kind}:${sourceId}`);
    if (known !== undefined) return known;
    const [row] = await this.tx<{ target_id: number }[]>`SELECT target_id FROM import_map
      WHERE source = ${this.p.source} AND kind = ${kind} AND source_id = ${sourceId}`;
    if (row === undefined) return undefined;
    this.mapped.set(`${kind}:${sourceId}`, row.target_id);
    return row.target_id;
  }

  private async users(): Promise<void> {
    const created: PlanUser[] = [];
    for (const u of this.p.users) {
      if (!(await this.claim('user', u.source_id))) {
        this.counts.users.already++;
        continue;
      }
      await this.createUser(u);
      created.push(u);
    }
    // inviters may come later in the list, or from an earlier run
    for (const u of created) {
      if (u.invited_by === null) continue;
      const inviter = await this.target('user', u.invited_by);
      const id = await this.target('user', u.source_id);
      if (inviter !== undefined && id !== undefined)
        await this.tx`UPDATE users SET invited_by = ${inviter} WHERE id = ${id}`;
    }
  }

  private async createUser(u: PlanUser): Promise<void> {
    const label = `user "${u.name}" (#${u.source_id})`;
    const metered = u.balance !== null;
    const fromQuota = u.balance ?? 0;
    const main = fromQuota + u.spent;
    let referral = u.referral_code;
    let referralDropped = false;
    let id: number | undefined;
    let name = u.name;
    for (const candidate of candidates(u.name, `-${u.source_id}`)) {
      for (;;) {
        const [row] = await this.tx<{ id: number }[]>`
          INSERT INTO users (name, "group", balance, spent, credited, status, referral_code, note,
            created_at, updated_at)
          VALUES (${candidate}, ${u.group}, ${metered ? fromQuota + u.aff_balance : null}, ${u.spent},
            ${metered ? Math.max(main, 0) + Math.max(u.aff_balance, 0) : 0}, ${u.status}, ${referral},
            ${u.note}, ${u.created_at ?? this.now}, ${this.now})
          ON CONFLICT DO NOTHING RETURNING id`;
        if (row !== undefined) id = row.id;
        if (row !== undefined || referral === null) break;
        // the name or the referral code is taken: a taken code is dropped, a taken name moves on
        const held = await this.tx`SELECT 1 FROM users WHERE referral_code = ${referral}`;
        if (held.length === 0) break;
        referral = null;
        referralDropped = true;
      }
      if (id !== undefined) {
        name = candidate;
        break;
      }
    }
    if (id === undefined) throw new Error(`${label}: no free name`); // candidates() never ends
    if (name !== u.name) this.warnings.push(`${label}: the name is taken here: imported as "${name}"`);
    if (referralDropped)
      this.warnings.push(`${label}: referral code ${u.referral_code ?? ''} is taken here: dropped`);
    if (metered) {
      const ref = `import:${this.p.source}:user:${u.source_id}`;
      await this.ledger(id, main, fromQuota, ref, 'imported balance plus imported spend');
      if (u.aff_balance !== 0) {
        await this.ledger(
          id,
          u.aff_balance,
          fromQuota + u.aff_balance,
          `${ref}:aff`,
          'imported unspent invitation rewards (aff_quota)',
        );
      }
      this.changes.push({ userId: id, amount: fromQuota + u.aff_balance });
    }
    await this.record('user', u.source_id, id);
    this.counts.users.imported++;
  }

  private async ledger(
    userId: number,
    amount: number,
    balanceAfter: number,
    ref: string,
    note: string,
  ): Promise<void> {
    await this.tx`
      INSERT INTO user_ledger (user_id, time, kind, amount, balance_after, ref, actor, note)
      VALUES (${userId}, ${this.now}, 'import', ${amount}, ${balanceAfter}, ${ref}, 'admin', ${note})`;
  }

  private async user(sourceId: number): Promise<UserTarget | undefined> {
    const id = await this.target('user', sourceId);
    if (id === undefined) return undefined;
    const [u] = await this.tx<UserTarget[]>`SELECT id, name, "group", status FROM users WHERE id = ${id}`;
    return u === undefined || u.status === 'deleted' ? undefined : u;
  }

  private async channel(c: PreparedChannel): Promise<void> {
    const claimed: number[] = [];
    for (const s of c.sourceIds) {
      if (await this.claim('channel', s)) {
        claimed.push(s);
        continue;
      }
      // a source id listed twice in one channel: SQLite's second map row breaks the primary key
      // and the whole import rolls back; the same plain insert does the same here
      if (claimed.includes(s))
        await this.tx`INSERT INTO import_map (source, kind, source_id, target_id)
          VALUES (${this.p.source}, 'channel', ${s}, 0)`;
      for (const mine of claimed) await this.release('channel', mine);
      this.counts.channels.already++;
      return;
    }
    let id: number | undefined;
    let name = c.record.name;
    for (const candidate of candidates(c.record.name)) {
      const params = channelParams({
        ...c.record,
        name: candidate,
        createdAt: this.now,
        updatedAt: this.now,
      });
      const [row] = await this.tx<{ id: number }[]>`
        INSERT INTO channels ${this.tx(params, CHANNEL_COLUMNS)} ON CONFLICT DO NOTHING RETURNING id`;
      if (row === undefined) continue;
      id = row.id;
      name = candidate;
      break;
    }
    if (id === undefined) throw new Error(`channel "${c.record.name}": no free name`);
    if (name !== c.record.name)
      this.warnings.push(
        `channel "${c.record.name}" (#${c.sourceIds[0]}): the name is taken here: imported as "${name}"`,
      );
    for (const s of c.sourceIds) await this.record('channel', s, id);
    this.counts.channels.imported++;
  }

  private async keyHeld(hash: string): Promise<number | undefined> {
    const [row] = await this.tx<{ id: number }[]>`SELECT id FROM keys WHERE hash = ${hash}`;
    return row?.id;
  }

  private async key(k: PreparedKey): Promise<void> {
    const label = `token "${k.tokenName}" (#${k.sourceId})`;
    if (!(await this.claim('key', k.sourceId))) {
      this.counts.keys.already++;
      return;
    }
    const owner = await this.user(k.userSourceId);
    let held = owner === undefined ? undefined : await this.keyHeld(k.hash);
    let id: number | undefined;
    if (owner !== undefined && held === undefined) {
      for (const name of candidates(`${owner.name}/${k.tokenName}`, `-${k.sourceId}`)) {
        const params = keyParams({
          name,
          hash: k.hash,
          prefix: k.prefix,
          group: owner.group,
          budget: k.budget,
          spent: k.spent,
          expiresAt: k.expiresAt,
          models: k.models,
          allowIps: k.allowIps,
          rpm: null,
          tpm: null,
          concurrency: null,
          strictBudget: false,
          status: k.status,
          userId: owner.id,
          scope: 'relay',
          createdBy: 'import',
          createdAt: k.createdAt ?? this.now,
          lastUsedAt: null,
        });
        const [row] = await this.tx<{ id: number }[]>`
          INSERT INTO keys ${this.tx(params, KEY_COLUMNS)} ON CONFLICT DO NOTHING RETURNING id`;
        if (row !== undefined) {
          id = row.id;
          break;
        }
        // the secret arrived meanwhile (another writer committed it), else the name is taken
        held = await this.keyHeld(k.hash);
        if (held !== undefined) break;
      }
    }
    if (id === undefined) {
      this.warnings.push(
        owner === undefined
          ? `${label}: skipped: its user #${k.userSourceId} is not imported (import users as well)`
          : `${label}: skipped: key #${held} has the same secret already`,
      );
      this.counts.keys.skipped++;
      await this.release('key', k.sourceId);
      return;
    }
    await this.record('key', k.sourceId, id);
    this.counts.keys.imported++;
  }

  private async code(c: PlanCode): Promise<void> {
    if (!(await this.claim('code', c.source_id))) {
      this.counts.codes.already++;
      return;
    }
    const [row] = await this.tx<{ id: number }[]>`
      INSERT INTO redeem_codes (hash, prefix, batch, amount, max_uses, uses, status, expires_at, created_at)
      VALUES (${c.hash}, ${c.prefix}, ${c.batch}, ${c.amount}, 1, ${c.used ? 1 : 0}, ${c.status},
        ${c.expires_at}, ${c.created_at ?? this.now})
      ON CONFLICT (hash) DO NOTHING RETURNING id`;
    if (row === undefined) {
      const [held] = await this.tx<{ id: number }[]>`SELECT id FROM redeem_codes WHERE hash = ${c.hash}`;
      this.warnings.push(`code "${c.prefix}" (#${c.source_id}): skipped: code #${held?.id} is the same code`);
      this.counts.codes.skipped++;
      await this.release('code', c.source_id);
      return;
    }
    const redeemer = c.used && c.used_by !== null ? await this.user(c.used_by) : undefined;
    if (redeemer !== undefined) {
      await this.tx`INSERT INTO redemptions (code_id, user_id, amount, time)
        VALUES (${row.id}, ${redeemer.id}, ${c.amount}, ${c.used_at ?? c.created_at ?? this.now})`;
    }
    await this.record('code', c.source_id, row.id);
    this.counts.codes.imported++;
  }

  private async prices(): Promise<void> {
    const rest = PRICE_COLUMNS.filter((c) => c !== 'model');
    for (const price of this.p.prices) {
      const sid = nameSourceId(price.model);
      if (!(await this.claim('price', sid))) {
        this.counts.prices.already++;
        continue;
      }
      if (this.p.pricesMode === 'keep') {
        const held = await this.tx`SELECT 1 FROM prices WHERE model = ${price.model}`;
        if (held.length > 0) {
          this.warnings.push(`price "${price.model}": kept as set here (--prices keep)`);
          this.counts.prices.skipped++;
          await this.release('price', sid);
          continue;
        }
      }
      const params = priceParams(price);
      await this.tx`INSERT INTO prices ${this.tx(params, PRICE_COLUMNS)}
        ON CONFLICT (model) DO UPDATE SET ${this.tx(params, rest)}`;
      // the claim's target 0 is the record: a price has no integer id
      this.counts.prices.imported++;
    }
  }

  private async groups(): Promise<void> {
    for (const g of this.p.groups) {
      if (!(await this.claim('group', nameSourceId(g.name)))) {
        this.counts.groups.already++;
        continue;
      }
      await this.tx`INSERT INTO groups (name, ratio) VALUES (${g.name}, ${g.ratio})
        ON CONFLICT (name) DO UPDATE SET ratio = excluded.ratio`;
      this.counts.groups.imported++;
    }
  }
}
