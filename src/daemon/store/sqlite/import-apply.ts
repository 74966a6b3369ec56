/**
 * Applies a prepared One API / New API import (bc import one-api, TENANTS.md 5.11) in ONE
 * better-sqlite3 transaction: all of it commits, or none. Every row it creates is recorded in
 * `import_map (source, kind, source_id, target_id)`, and a row already mapped for this source is
 * counted as "already" and left alone, so re-running an import changes nothing it brought over
 * before. Prices and groups have no integer id: their source id is a stable hash of the name.
 *
 * Users arrive with their money through the ledger, as every balance change must: a metered user
 * is written with `spent` (the source's used quota) and one `import` ledger row of balance + spent,
 * plus one more for New API's unspent invitation rewards, so `sum(ledger) - spent = balance` holds
 * from the first commit. Unmetered users (imported admins) have no balance and no ledger row.
 */
import { createHash } from 'node:crypto';
import type { ImportCounts, ImportKind, PlanCode, PlanUser } from '../../../shared/import-plan.js';
import type { ImportApplied, PreparedChannel, PreparedImport, PreparedKey } from '../import-types.js';
import type { BalanceChange } from '../types.js';
import type { Db } from './database.js';
import {
  CHANNEL_COLUMNS,
  channelParams,
  insertSql,
  KEY_COLUMNS,
  keyParams,
  PRICE_COLUMNS,
  priceParams,
} from './rows.js';

type MapKind = 'user' | 'channel' | 'key' | 'code' | 'price' | 'group';

interface UserTarget {
  id: number;
  name: string;
  group: string;
  status: string;
}

/** A name's id in import_map: the first 48 bits of its SHA-256 (a safe integer). */
export function nameSourceId(name: string): number {
  return parseInt(createHash('sha256').update(name).digest('hex').slice(0, 12), 16);
}

export function applyImport(db: Db, p: PreparedImport, now = new Date().toISOString()): ImportApplied {
  return db.transaction(() => new ImportRun(db, p, now).run())();
}

class ImportRun {
  private readonly mapped = new Map<string, number>();
  private readonly counts = {} as Record<ImportKind, ImportCounts>;
  private readonly warnings: string[] = [];
  private readonly changes: BalanceChange[] = [];
  private readonly s;

  constructor(
    private readonly db: Db,
    private readonly p: PreparedImport,
    private readonly now: string,
  ) {
    for (const k of ['channels', 'keys', 'users', 'codes', 'prices', 'groups'] as const)
      this.counts[k] = { imported: 0, skipped: 0, already: 0 };
    const rows = db
      .prepare<[string], { kind: string; source_id: number; target_id: number }>(
        'SELECT kind, source_id, target_id FROM import_map WHERE source = ?',
      )
      .all(p.source);
    for (const r of rows) this.mapped.set(`${r.kind}:${r.source_id}`, r.target_id);
    this.s = {
      map: db.prepare<[string, string, number, number]>(
        'INSERT INTO import_map (source, kind, source_id, target_id) VALUES (?, ?, ?, ?)',
      ),
      userNamed: db.prepare<[string], number>('SELECT id FROM users WHERE name = ?').pluck(),
      referralTaken: db.prepare<[string], number>('SELECT id FROM users WHERE referral_code = ?').pluck(),
      userById: db.prepare<[number], UserTarget>('SELECT id, name, "group", status FROM users WHERE id = ?'),
      insertUser: db.prepare<[Record<string, string | number | null>]>(
        `INSERT INTO users (name, "group", balance, spent, credited, status, referral_code, note,
           created_at, updated_at)
         VALUES (@name, @group, @balance, @spent, @credited, @status, @referral_code, @note,
           @created_at, @now)`,
      ),
      invitedBy: db.prepare<[number, number]>('UPDATE users SET invited_by = ? WHERE id = ?'),
      ledger: db.prepare<[Record<string, string | number | null>]>(
        `INSERT INTO user_ledger (user_id, time, kind, amount, balance_after, ref, actor, note)
         VALUES (@user_id, @time, 'import', @amount, @balance_after, @ref, 'admin', @note)`,
      ),
      channelNamed: db.prepare<[string], number>('SELECT id FROM channels WHERE name = ?').pluck(),
      insertChannel: db.prepare(insertSql('channels', CHANNEL_COLUMNS)),
      keyNamed: db.prepare<[string], number>('SELECT id FROM keys WHERE name = ?').pluck(),
      keyHashed: db.prepare<[string], number>('SELECT id FROM keys WHERE hash = ?').pluck(),
      insertKey: db.prepare(insertSql('keys', KEY_COLUMNS)),
      codeHashed: db.prepare<[string], number>('SELECT id FROM redeem_codes WHERE hash = ?').pluck(),
      insertCode: db.prepare<[Record<string, string | number | null>]>(
        `INSERT INTO redeem_codes (hash, prefix, batch, amount, max_uses, uses, status, expires_at, created_at)
         VALUES (@hash, @prefix, @batch, @amount, 1, @uses, @status, @expires_at, @created_at)`,
      ),
      redemption: db.prepare<[number, number, number, string]>(
        'INSERT INTO redemptions (code_id, user_id, amount, time) VALUES (?, ?, ?, ?)',
      ),
      priceExists: db.prepare<[string], number>('SELECT 1 FROM prices WHERE model = ?').pluck(),
      upsertPrice: db.prepare(
        `${insertSql('prices', PRICE_COLUMNS)} ON CONFLICT(model) DO UPDATE SET ` +
          PRICE_COLUMNS.filter((c) => c !== 'model')
            .map((c) => `${c} = excluded.${c}`)
            .join(', '),
      ),
      upsertGroup: db.prepare<[string, number]>(
        'INSERT INTO groups (name, ratio) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET ratio = excluded.ratio',
      ),
    };
  }

  run(): ImportApplied {
    this.users();
    for (const c of this.p.channels) this.channel(c);
    for (const k of this.p.keys) this.key(k);
    for (const c of this.p.codes) this.code(c);
    this.prices();
    this.groups();
    return { counts: this.counts, warnings: this.warnings, changes: this.changes };
  }

  private target(kind: MapKind, sourceId: number): number | undefined {
    return this.mapped.get(`${kind}:${sourceId}`);
  }

  private record(kind: MapKind, sourceId: number, targetId: number): void {
    this.s.map.run(this.p.source, kind, sourceId, targetId);
    this.mapped.set(`${kind}:${sourceId}`, targetId);
  }

  /** `base`, else `base<suffix>`, else `base-2`, `base-3`...: the first name `taken` says is free. */
  private free(base: string, taken: (name: string) => boolean, suffix?: string): string {
    if (!taken(base)) return base;
    if (suffix !== undefined && !taken(`${base}${suffix}`)) return `${base}${suffix}`;
    let n = 2;
    while (taken(`${base}-${n}`)) n++;
    return `${base}-${n}`;
  }

  private users(): void {
    const created: PlanUser[] = [];
    for (const u of this.p.users) {
      if (this.target('user', u.source_id) !== undefined) {
        this.counts.users.already++;
        continue;
      }
      this.createUser(u);
      created.push(u);
    }
    // inviters may come later in the list, or from an earlier run
    for (const u of created) {
      if (u.invited_by === null) continue;
      const inviter = this.target('user', u.invited_by);
      const id = this.target('user', u.source_id);
      if (inviter !== undefined && id !== undefined) this.s.invitedBy.run(inviter, id);
    }
  }

  private createUser(u: PlanUser): void {
    const label = `user "${u.name}" (#${u.source_id})`;
    const name = this.free(u.name, (n) => this.s.userNamed.get(n) !== undefined, `-${u.source_id}`);
    if (name !== u.name) this.warnings.push(`${label}: the name is taken here: imported as "${name}"`);
    let referral = u.referral_code;
    if (referral !== null && this.s.referralTaken.get(referral) !== undefined) {
      this.warnings.push(`${label}: referral code ${referral} is taken here: dropped`);
      referral = null;
    }
    const metered = u.balance !== null;
    const fromQuota = u.balance ?? 0;
    const main = fromQuota + u.spent;
    const id = Number(
      this.s.insertUser.run({
        name,
        group: u.group,
        balance: metered ? fromQuota + u.aff_balance : null,
        spent: u.spent,
        credited: metered ? Math.max(main, 0) + Math.max(u.aff_balance, 0) : 0,
        status: u.status,
        referral_code: referral,
        note: u.note,
        created_at: u.created_at ?? this.now,
        now: this.now,
      }).lastInsertRowid,
    );
    if (metered) {
      const ref = `import:${this.p.source}:user:${u.source_id}`;
      this.s.ledger.run({
        user_id: id,
        time: this.now,
        amount: main,
        balance_after: fromQuota,
        ref,
        note: 'imported balance plus imported spend',
      });
      if (u.aff_balance !== 0) {
        this.s.ledger.run({
          user_id: id,
          time: this.now,
          amount: u.aff_balance,
          balance_after: fromQuota + u.aff_balance,
          ref: `${ref}:aff`,
          note: 'imported unspent invitation rewards (aff_quota)',
        });
      }
      this.changes.push({ userId: id, amount: fromQuota + u.aff_balance });
    }
    this.record('user', u.source_id, id);
    this.counts.users.imported++;
  }

  private user(sourceId: number): UserTarget | undefined {
    const id = this.target('user', sourceId);
    const u = id === undefined ? undefined : this.s.userById.get(id);
    return u === undefined || u.status === 'deleted' ? undefined : u;
  }

  private channel(c: PreparedChannel): void {
    if (c.sourceIds.some((id) => this.target('channel', id) !== undefined)) {
      this.counts.channels.already++;
      return;
    }
    const name = this.free(c.record.name, (n) => this.s.channelNamed.get(n) !== undefined);
    if (name !== c.record.name)
      this.warnings.push(
        `channel "${c.record.name}" (#${c.sourceIds[0]}): the name is taken here: imported as "${name}"`,
      );
    const id = Number(
      this.s.insertChannel.run(channelParams({ ...c.record, name, createdAt: this.now, updatedAt: this.now }))
        .lastInsertRowid,
    );
    for (const s of c.sourceIds) this.record('channel', s, id);
    this.counts.channels.imported++;
  }

  private key(k: PreparedKey): void {
    const label = `token "${k.tokenName}" (#${k.sourceId})`;
    if (this.target('key', k.sourceId) !== undefined) {
      this.counts.keys.already++;
      return;
    }
    const owner = this.user(k.userSourceId);
    const held = this.s.keyHashed.get(k.hash);
    if (owner === undefined || held !== undefined) {
      this.warnings.push(
        owner === undefined
          ? `${label}: skipped: its user #${k.userSourceId} is not imported (import users as well)`
          : `${label}: skipped: key #${held} has the same secret already`,
      );
      this.counts.keys.skipped++;
      return;
    }
    const base = `${owner.name}/${k.tokenName}`;
    const name = this.free(base, (n) => this.s.keyNamed.get(n) !== undefined, `-${k.sourceId}`);
    const id = Number(
      this.s.insertKey.run(
        keyParams({
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
        }),
      ).lastInsertRowid,
    );
    this.record('key', k.sourceId, id);
    this.counts.keys.imported++;
  }

  private code(c: PlanCode): void {
    if (this.target('code', c.source_id) !== undefined) {
      this.counts.codes.already++;
      return;
    }
    const held = this.s.codeHashed.get(c.hash);
    if (held !== undefined) {
      this.warnings.push(`code "${c.prefix}" (#${c.source_id}): skipped: code #${held} is the same code`);
      this.counts.codes.skipped++;
      return;
    }
    const id = Number(
      this.s.insertCode.run({
        hash: c.hash,
        prefix: c.prefix,
        batch: c.batch,
        amount: c.amount,
        uses: c.used ? 1 : 0,
        status: c.status,
        expires_at: c.expires_at,
        created_at: c.created_at ?? this.now,
      }).lastInsertRowid,
    );
    const redeemer = c.used && c.used_by !== null ? this.user(c.used_by) : undefined;
    if (redeemer !== undefined)
      this.s.redemption.run(id, redeemer.id, c.amount, c.used_at ?? c.created_at ?? this.now);
    this.record('code', c.source_id, id);
    this.counts.codes.imported++;
  }

  private prices(): void {
    for (const price of this.p.prices) {
      const sid = nameSourceId(price.model);
      if (this.target('price', sid) !== undefined) {
        this.counts.prices.already++;
        continue;
      }
      if (this.p.pricesMode === 'keep' && this.s.priceExists.get(price.model) !== undefined) {
        this.warnings.push(`price "${price.model}": kept as set here (--prices keep)`);
        this.counts.prices.skipped++;
        continue;
      }
      this.s.upsertPrice.run(priceParams(price));
      this.record('price', sid, 0);
      this.counts.prices.imported++;
    }
  }

  private groups(): void {
    for (const g of this.p.groups) {
      const sid = nameSourceId(g.name);
      if (this.target('group', sid) !== undefined) {
        this.counts.groups.already++;
        continue;
      }
      this.s.upsertGroup.run(g.name, g.ratio);
      this.record('group', sid, 0);
      this.counts.groups.imported++;
    }
  }
}
