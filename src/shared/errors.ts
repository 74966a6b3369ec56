/**
 * The one error table. Every error BurnCloud raises on purpose is a BcError with a BC_ERR_* code;
 * callers branch on `code`, never on message text. The HTTP status and the OpenAI-style
 * `type`/`code` a client sees are decided here, where the error is defined. Whether the relay
 * retries an upstream's failure is the adapter's decision (UpstreamFailure.action), and the
 * failure's log category comes from it too (failureCategory in providers/types.ts).
 */

export type ErrorCategory =
  | 'auth' // client authentication / authorisation
  | 'quota' // budget
  | 'rate_limit' // our own limits
  | 'bad_request' // the client's request is invalid
  | 'not_found'
  | 'conflict'
  | 'upstream' // the upstream failed (5xx, 429, network)
  | 'upstream_auth' // the upstream rejected our credentials or billing
  | 'upstream_rejected' // the upstream rejected the request itself (400/413/422)
  | 'timeout'
  | 'client_abort'
  | 'internal';

interface ErrorDef {
  status: number;
  category: ErrorCategory;
  /** OpenAI error `type`. */
  type: string;
  /** OpenAI error `code` (what clients match on). */
  wire: string;
}

const def = (status: number, category: ErrorCategory, type: string, wire: string): ErrorDef => ({
  status,
  category,
  type,
  wire,
});

export const BC_ERR = {
  INVALID_API_KEY: def(401, 'auth', 'invalid_request_error', 'invalid_api_key'),
  KEY_DISABLED: def(403, 'auth', 'permission_error', 'key_disabled'),
  KEY_EXPIRED: def(403, 'auth', 'permission_error', 'key_expired'),
  MODEL_NOT_ALLOWED: def(403, 'auth', 'permission_error', 'model_not_allowed'),
  IP_NOT_ALLOWED: def(403, 'auth', 'permission_error', 'ip_not_allowed'),
  INSUFFICIENT_QUOTA: def(403, 'quota', 'insufficient_quota', 'insufficient_quota'),
  MODEL_NOT_PRICED: def(403, 'quota', 'invalid_request_error', 'model_not_priced'),
  RATE_LIMITED: def(429, 'rate_limit', 'rate_limit_error', 'rate_limit_exceeded'),
  MODEL_NOT_FOUND: def(404, 'not_found', 'invalid_request_error', 'model_not_found'),
  NOT_FOUND: def(404, 'not_found', 'invalid_request_error', 'not_found'),
  CONFLICT: def(409, 'conflict', 'invalid_request_error', 'conflict'),
  INVALID_REQUEST: def(400, 'bad_request', 'invalid_request_error', 'invalid_request'),
  INVALID_JSON: def(400, 'bad_request', 'invalid_request_error', 'invalid_json'),
  BODY_TOO_LARGE: def(413, 'bad_request', 'invalid_request_error', 'request_too_large'),
  REQUEST_TIMEOUT: def(408, 'timeout', 'invalid_request_error', 'request_timeout'),
  UNSUPPORTED: def(400, 'bad_request', 'invalid_request_error', 'unsupported_endpoint'),
  UPSTREAM_ERROR: def(502, 'upstream', 'api_error', 'upstream_error'),
  UPSTREAM_REJECTED: def(400, 'upstream_rejected', 'invalid_request_error', 'upstream_rejected'),
  INTERNAL: def(500, 'internal', 'api_error', 'internal_error'),
  // Tenants (SPEC section 11)
  USER_DISABLED: def(403, 'auth', 'permission_error', 'user_disabled'),
  NOT_A_USER_KEY: def(403, 'auth', 'permission_error', 'not_a_user_key'),
  SCOPE_REQUIRED: def(403, 'auth', 'permission_error', 'account_scope_required'),
  // one answer for every reason a code cannot be redeemed (the admin's route says which)
  REDEEM_INVALID: def(400, 'bad_request', 'invalid_request_error', 'invalid_redeem_code'),
  INVITE_INVALID: def(400, 'bad_request', 'invalid_request_error', 'invalid_invite_code'),
  SIGNUP_CLOSED: def(403, 'auth', 'permission_error', 'signup_closed'),
  KEY_LIMIT: def(409, 'conflict', 'invalid_request_error', 'key_limit_reached'),
  USER_UNMETERED: def(409, 'conflict', 'invalid_request_error', 'user_unmetered'),
  BALANCE_NEGATIVE: def(409, 'conflict', 'invalid_request_error', 'balance_would_go_negative'),
  CANNOT_REVOKE_SELF: def(409, 'conflict', 'invalid_request_error', 'cannot_revoke_self'),
  // the gateway's own store cannot record requests (a full or read-only disk): nothing is served
  STORE_UNAVAILABLE: def(503, 'internal', 'api_error', 'store_unavailable'),
  // the shared coordination store (Redis) cannot confirm a budget or limit now: retry shortly
  COORDINATION_UNAVAILABLE: def(503, 'internal', 'api_error', 'coordination_unavailable'),
  // Control-plane and daemon lifecycle
  DAEMON_UNREACHABLE: def(503, 'internal', 'api_error', 'daemon_unreachable'),
  STARTUP_FAILED: def(500, 'internal', 'api_error', 'startup_failed'),
} as const satisfies Record<string, ErrorDef>;

export type BcErrorCode = keyof typeof BC_ERR;

export interface BcErrorOptions {
  cause?: unknown;
  /** Overrides the table's HTTP status (e.g. an upstream's own status passed back). */
  status?: number;
  /** The offending request field, for 400s. */
  param?: string | undefined;
  /** Seconds the caller should wait (429). */
  retryAfterS?: number | undefined;
  /** Extra response headers, e.g. x-ratelimit-* on a 429. */
  headers?: Record<string, string> | undefined;
}

export class BcError extends Error {
  readonly code: BcErrorCode;
  readonly status: number;
  readonly category: ErrorCategory;
  readonly param: string | undefined;
  readonly retryAfterS: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: BcErrorCode, message: string, opts: BcErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BcError';
    this.code = code;
    this.status = opts.status ?? BC_ERR[code].status;
    this.category = BC_ERR[code].category;
    this.param = opts.param;
    this.retryAfterS = opts.retryAfterS;
    this.headers = opts.headers;
  }

  /** OpenAI-shaped wire code, e.g. `invalid_api_key`. */
  get wireCode(): string {
    return BC_ERR[this.code].wire;
  }

  get wireType(): string {
    return BC_ERR[this.code].type;
  }
}

export function isBcError(e: unknown): e is BcError {
  return e instanceof BcError;
}

/** The JSON the control API returns for any failure; the CLI prints `message` and exits 1. */
export interface ControlErrorBody {
  error: { code: string; message: string };
}
