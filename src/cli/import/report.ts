/**
 * The human rendering of an import report (`bc import one-api`): where it came from, a table of
 * counts per kind (imported, skipped, already imported by an earlier run), the skipped channel
 * types by name, the tables nothing is imported from, the suggested tenant settings, then every
 * warning on a line of its own. `--json` prints the ImportReport itself instead.
 */
import {
  IMPORT_KINDS,
  type ImportKind,
  type ImportPlan,
  type ImportReport,
} from '../../shared/import-plan.js';
import { orDash, renderTable, shortList, type Style } from '../format.js';

function byCount(counts: Record<string, number>, sep: string): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => `${name}${sep}${n}`)
    .join(', ');
}

/** The channels a dry run would create: what an operator checks first (types and base URLs). */
function renderPlannedChannels(plan: ImportPlan, style: Style): string {
  return renderTable(
    [
      { header: 'SOURCE', value: (c) => c.source_ids.map((id) => `#${id}`).join(',') },
      { header: 'NAME', value: (c) => c.name },
      { header: 'TYPE', value: (c) => c.type },
      { header: 'BASE URL', value: (c) => orDash(c.base_url) },
      { header: 'MODELS', value: (c) => shortList(c.models) },
      { header: 'KEYS', value: (c) => String(c.keys.length), right: true },
      { header: 'STATUS', value: (c) => c.status },
    ],
    plan.channels,
    style,
  );
}

/** The report; with the plan (a dry run), the channels it would create as well. */
export function renderImportReport(r: ImportReport, style: Style, plan?: ImportPlan): string {
  const flavor = r.flavor === 'one-api' ? 'One API' : 'New API';
  const lines = [
    `${r.dry_run ? 'Dry run (nothing written): ' : ''}${flavor} database ${r.path} (QuotaPerUnit ${r.quota_per_unit})`,
    '',
    renderTable<ImportKind>(
      [
        { header: 'KIND', value: (k) => k },
        {
          header: r.dry_run ? 'TO IMPORT' : 'IMPORTED',
          value: (k) => String(r.counts[k].imported),
          right: true,
        },
        { header: 'SKIPPED', value: (k) => String(r.counts[k].skipped), right: true },
        { header: 'ALREADY', value: (k) => (r.dry_run ? '-' : String(r.counts[k].already)), right: true },
      ],
      IMPORT_KINDS,
      style,
    ),
  ];
  if (plan !== undefined && plan.channels.length > 0) lines.push('', renderPlannedChannels(plan, style));
  const skippedTypes = Object.values(r.skipped_channel_types).reduce((a, b) => a + b, 0);
  if (skippedTypes > 0)
    lines.push(
      '',
      `${skippedTypes} channel(s) of types BurnCloud does not speak: ${byCount(r.skipped_channel_types, '×')}`,
    );
  if (Object.keys(r.not_imported).length > 0)
    lines.push(`not imported (rows): ${byCount(r.not_imported, ' ')}`);
  if (r.suggested_settings !== null)
    lines.push('', `invitation amounts of the source (not applied): ${r.suggested_settings}`);
  if (r.warnings.length > 0) {
    lines.push('', style.yellow(`${r.warnings.length} warning(s):`));
    for (const w of r.warnings) lines.push(`  ${w}`);
  }
  if (r.dry_run)
    lines.push(
      '',
      'Run again without --dry-run to import (stop One API first, or import a copy of its .db, -wal and -shm files).',
    );
  return lines.join('\n');
}
