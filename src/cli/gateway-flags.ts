/**
 * The global flags that point `bc` at a gateway as a tenant (SPEC section 11): `--gateway URL` and
 * `--key KEY` before the command (`bc --gateway URL --key KEY me ...`), else the environment's
 * `BC_GATEWAY` and `BC_KEY`. They are taken off the command line before commander reads it:
 * `--key` also names a flag of `bc channel add` and `bc logs` (and `--key K` of `bc me logs`), and
 * commander would hand every `--key` on the line to a global one. So only the flags before the
 * command are these; `--key -` reads the key from stdin, to keep it out of shell history.
 */
import type { CliContext } from './context.js';
import { createGatewayClient, type GatewayClient } from './gateway-client.js';
import { UsageError } from './parse.js';

export interface GatewayFlags {
  gateway?: string;
  key?: string;
}

/** Global flags of the program that take a value (so their value is not taken for the command). */
const VALUED = new Set(['--socket', '--home']);

/** `argv` without the leading `--gateway`/`--key` flags, and their values. */
export function takeGatewayFlags(argv: readonly string[]): { argv: string[]; flags: GatewayFlags } {
  const rest = [...argv];
  const flags: GatewayFlags = {};
  let i = 0;
  while (i < rest.length) {
    const a = rest[i] ?? '';
    if (a === '--' || !a.startsWith('-')) break;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? splitAt(a) : [a, undefined];
    if (name === '--gateway' || name === '--key') {
      const value = inline ?? rest[i + 1];
      if (value === undefined || value === '') {
        throw new UsageError(
          `${name} needs a value`,
          `hint: bc ${name} ${name === '--key' ? 'KEY' : 'URL'} me`,
        );
      }
      flags[name === '--gateway' ? 'gateway' : 'key'] = value;
      rest.splice(i, inline === undefined ? 2 : 1);
      continue;
    }
    i += VALUED.has(a) ? 2 : 1;
  }
  return { argv: rest, flags };
}

function splitAt(a: string): [string, string] {
  const eq = a.indexOf('=');
  return [a.slice(0, eq), a.slice(eq + 1)];
}

const HINT = 'hint: bc --gateway http://HOST:8300 --key sk-bc-... me (or set BC_GATEWAY and BC_KEY)';

/**
 * The client for the gateway the flags or the environment name. `keyed` false (signup) needs no
 * key. `stdinTaken`: the command reads something else from stdin, so `--key -` cannot.
 */
export async function openGateway(
  ctx: CliContext,
  opts: { keyed: boolean; stdinTaken?: boolean },
): Promise<GatewayClient> {
  const url = ctx.gatewayFlags.gateway ?? ctx.env.BC_GATEWAY;
  if (url === undefined || url === '') {
    throw new UsageError('no gateway given: this command talks to a gateway as a tenant', HINT);
  }
  checkUrl(url);
  if (!opts.keyed) return createGatewayClient(url, null);
  let key = ctx.gatewayFlags.key ?? ctx.env.BC_KEY;
  if (key === undefined || key === '') {
    throw new UsageError('no key given: the gateway knows you by your own key (sk-bc-...)', HINT);
  }
  if (key === '-') {
    if (opts.stdinTaken) throw new UsageError('stdin can give the key or the code, not both');
    key = (await ctx.readStdin()).trim();
    if (key === '') throw new UsageError('--key - read an empty key from stdin');
  }
  return createGatewayClient(url, key);
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`"${url}" is not a URL`, HINT);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`"${url}" is not an http or https URL`, HINT);
  }
}
