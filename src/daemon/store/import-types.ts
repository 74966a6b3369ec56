/**
 * What the store's `applyImport` takes and gives (bc import one-api, TENANTS.md 5.11): the CLI's
 * plan once the control route has validated it, sealed its upstream secrets (SecretBox) and hashed
 * its client secrets, so the store, as everywhere else, never sees a plain secret. Users, codes and
 * groups go as planned; channels and keys as records.
 */
import type { ImportCounts, ImportKind, PlanCode, PlanUser, PricesMode } from '../../shared/import-plan.js';
import type { KeyStatus } from '../../shared/control-api.js';
import type { BalanceChange, GroupRecord, NewChannel, PriceRecord } from './types.js';

export interface PreparedChannel {
  sourceIds: number[];
  record: NewChannel;
}

export interface PreparedKey {
  sourceId: number;
  userSourceId: number;
  /** the part after `user/`: the name is made with the user's name as imported */
  tokenName: string;
  /** hex SHA-256 of the full `sk-...` secret */
  hash: string;
  prefix: string;
  budget: number | null;
  spent: number;
  expiresAt: string | null;
  models: string[];
  allowIps: string[];
  status: KeyStatus;
  createdAt: string | null;
}

export interface PreparedImport {
  /** `one-api:<sha256(path)[:12]>`, the import_map's source */
  source: string;
  pricesMode: PricesMode;
  users: PlanUser[];
  channels: PreparedChannel[];
  keys: PreparedKey[];
  codes: PlanCode[];
  prices: PriceRecord[];
  groups: GroupRecord[];
}

export interface ImportApplied {
  counts: Record<ImportKind, ImportCounts>;
  /** what the store could not take as planned (a renamed entity, a secret already held...) */
  warnings: string[];
  /** the balances of the users it created, for Services.balancesChanged */
  changes: BalanceChange[];
}
