/**
 * The gateway's door, counted: open client connections and their cap, connections turned away at
 * the cap, request bodies being received and those waiting for a slot, requests closed because
 * their headers or body did not arrive within BC_BODY_TIMEOUT, and requests refused for a missing
 * or unknown key before a byte of their body was read. The gateway's intake (gateway/intake/intake.ts)
 * moves these numbers as it works; `GET /metrics` renders them. Plain fields, no allocation: they
 * change on every connection and every request.
 */

export class TransportStats {
  /** client connections open on the gateway port */
  connections = 0;
  /** BC_MAX_CONNECTIONS (0 until the gateway is built) */
  connectionLimit = 0;
  /** connections closed at accept because `connections` was at the limit */
  connectionsRefused = 0;
  /** request bodies being received now */
  bodyReads = 0;
  /** authenticated requests waiting for a body slot */
  bodyReadsWaiting = 0;
  /** BC_MAX_BODY_READS (0 until the gateway is built) */
  bodyReadLimit = 0;
  /** requests closed because their body did not arrive within BC_BODY_TIMEOUT */
  bodyTimeouts = 0;
  /** connections closed because a request's headers did not arrive within the same bound */
  headerTimeouts = 0;
  /** requests answered 401 from their headers alone (no key, or an unknown one) */
  unauthenticated = 0;
}

type Family = [name: string, type: 'counter' | 'gauge', help: string, value: (t: TransportStats) => number];

/** The families `GET /metrics` shows for the door, in exposition order. */
export const TRANSPORT_FAMILIES: readonly Family[] = [
  ['bc_connections', 'gauge', 'Client connections open on the gateway port.', (t) => t.connections],
  [
    'bc_connections_limit',
    'gauge',
    'Most client connections the gateway holds at once (BC_MAX_CONNECTIONS).',
    (t) => t.connectionLimit,
  ],
  [
    'bc_connections_refused_total',
    'counter',
    'Connections closed on arrival because the connection limit was reached.',
    (t) => t.connectionsRefused,
  ],
  ['bc_body_reads_inflight', 'gauge', 'Request bodies being received now.', (t) => t.bodyReads],
  [
    'bc_body_reads_waiting',
    'gauge',
    'Authenticated requests waiting for a body slot (BC_MAX_BODY_READS reached).',
    (t) => t.bodyReadsWaiting,
  ],
  [
    'bc_body_reads_limit',
    'gauge',
    'Most request bodies received at once (BC_MAX_BODY_READS).',
    (t) => t.bodyReadLimit,
  ],
  [
    'bc_body_timeouts_total',
    'counter',
    'Requests closed because their body did not arrive within BC_BODY_TIMEOUT.',
    (t) => t.bodyTimeouts,
  ],
  [
    'bc_header_timeouts_total',
    'counter',
    'Connections closed because request headers did not arrive within BC_BODY_TIMEOUT.',
    (t) => t.headerTimeouts,
  ],
  [
    'bc_unauthenticated_total',
    'counter',
    'Requests refused with 401 (no key or an unknown one) before their body was read.',
    (t) => t.unauthenticated,
  ],
];
