/**
 * The header's word on whose numbers `bc top` shows: "cluster of N nodes", one node's id, or a
 * warning that the cluster view is unavailable (Redis away: the answering node's numbers only).
 * A daemon that is not in a cluster sends no scope, and the header then says nothing extra.
 */
import type { MetricsSnapshot } from '../../shared/metrics-types.js';

export interface ScopeLabel {
  text: string;
  /** shown in the warning colour */
  warn: boolean;
}

export function scopeLabel(s: MetricsSnapshot | null): ScopeLabel | null {
  const scope = s?.scope;
  if (!scope) return null;
  if (scope.cluster_unavailable !== undefined)
    return { text: `node ${scope.answered_by} only (cluster view unavailable)`, warn: true };
  if (scope.node === null) {
    const n = scope.nodes.length;
    return { text: `cluster of ${n} node${n === 1 ? '' : 's'}`, warn: false };
  }
  return { text: `node ${scope.node}`, warn: false };
}
