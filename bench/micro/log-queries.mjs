// `bc logs` listings at size (issue 18): one log of N rows (default 1,000,000) with rare filters,
// as in a big log (one key, one model, one channel and errors each 1 in 10,000; the user owns 102
// keys holding 10% of the rows), listed newest first by each filter before migration 7 (the
// listing SQL as it was, on the version-6 schema) and after it (LogTable.query on the latest
// schema), both turning rows into LogRow. Prints the median of 5 runs per listing and how long
// migration 7 took on the file. Rows are inserted with plain SQL: this times reads.
// Run after `npm run build` (it imports dist/):   node bench/micro/log-queries.mjs [rows]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteDatabase } from '../../dist/daemon/store/sqlite/database.js';
import { LogTable } from '../../dist/daemon/store/sqlite/logs.js';
import { MIGRATIONS } from '../../dist/daemon/store/sqlite/migrations.js';
import { logFromRow } from '../../dist/daemon/store/sqlite/rows.js';

const N = Number(process.argv[2] ?? 1_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-logbench-'));
const file = path.join(dir, 'bc.db');
const T = '2026-01-01T00:00:00.000Z';

function median(fn) {
  const ms = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms.sort((a, b) => a - b)[2];
}

let db = openSqliteDatabase(file, MIGRATIONS.slice(0, 6));
db.exec(`INSERT INTO users (id, name, created_at, updated_at) VALUES (1, 'ann', '${T}', '${T}');`);
const key = db.prepare(
  `INSERT INTO keys (id, name, prefix, hash, status, created_at, user_id) VALUES (?, ?, ?, ?, 'enabled', '${T}', ?)`,
);
for (let k = 1; k <= 1000; k++) key.run(k, `k${k}`, `p${k}`, `h${k}`, k <= 102 ? 1 : null);
const insert =
  db.prepare(`INSERT INTO logs (request_id, time, key_id, key_name, channel_id, channel_name, model, endpoint, status, input_tokens, output_tokens, cost)
  VALUES (?, ?, ?, ?, ?, ?, ?, '/v1/chat/completions', ?, 250, 12, 274)`);
const fillStart = Date.now();
const base = Date.parse(T);
const batch = db.transaction((from, to) => {
  for (let i = from; i < to; i++) {
    const rare = i % 10_000;
    const k = rare === 1 ? 1 : rare === 2 ? 2 : 3 + (i % 998);
    insert.run(
      `r${i}`,
      new Date(base + i * 100).toISOString(),
      k,
      `k${k}`,
      rare === 3 ? 7 : 1,
      rare === 3 ? 'c7' : 'c1',
      rare === 4 ? 'm-rare' : 'gpt-4o',
      rare === 5 ? 500 : 200,
    );
  }
});
for (let i = 0; i < N; i += 50_000) batch(i, Math.min(N, i + 50_000));
console.log(
  `${N} rows inserted in ${Date.now() - fillStart} ms; file ${(fs.statSync(file).size / 1e6).toFixed(0)} MB`,
);

// the listing SQL before this change (logs.ts query() at 2d05728)
const before = {
  newest: 'SELECT * FROM logs ORDER BY id DESC LIMIT 100',
  key: 'SELECT * FROM logs WHERE key_id = 1 ORDER BY id DESC LIMIT 100',
  model: "SELECT * FROM logs WHERE model = 'm-rare' ORDER BY id DESC LIMIT 100",
  channel: 'SELECT * FROM logs WHERE channel_id = 7 ORDER BY id DESC LIMIT 100',
  errors: 'SELECT * FROM logs WHERE status >= 400 ORDER BY id DESC LIMIT 100',
  user: 'SELECT * FROM logs WHERE key_id IN (SELECT id FROM keys WHERE user_id = 1) ORDER BY id DESC LIMIT 100',
};
const queries = {
  newest: {},
  key: { key: '1' },
  model: { model: 'm-rare' },
  channel: { channel: '7' },
  errors: { errors: true },
  user: { user: '1' },
};
const results = {};
for (const [what, sql] of Object.entries(before)) {
  const stmt = db.prepare(sql);
  results[what] = { before_ms: median(() => stmt.all().map(logFromRow)) };
}
results.count = { before_ms: median(() => db.prepare('SELECT COUNT(*) FROM logs').get()) };
db.close();

const migStart = Date.now();
db = openSqliteDatabase(file, MIGRATIONS.slice(0, 7));
const migMs = Date.now() - migStart;
db.close();
db = openSqliteDatabase(file);
const id = (ref) => (/^\d+$/.test(ref) ? Number(ref) : undefined);
const logs = new LogTable(db, id, id, id);
for (const [what, q] of Object.entries(queries)) results[what].after_ms = median(() => logs.query(q));
results.count.after_ms = median(() => logs.countRequests());
db.close();
console.log(
  `migration 7 (log listing indexes) took ${migMs} ms; file now ${(fs.statSync(file).size / 1e6).toFixed(0)} MB`,
);
console.table(
  Object.fromEntries(
    Object.entries(results).map(([k, v]) => [
      k,
      { before_ms: +v.before_ms.toFixed(2), after_ms: +v.after_ms.toFixed(2) },
    ]),
  ),
);
fs.rmSync(dir, { recursive: true, force: true });
