/**
 * Puts the two apps on the network: the control app on the Unix socket (created under a umask so
 * it is never, even briefly, reachable by others, then chmod 0600 for good measure) and the
 * gateway on BC_LISTEN. Listen failures become one-line BcError STARTUP_FAILED reasons that say
 * what to change.
 */
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { BcError } from '../../shared/errors.js';
import { parseListen } from '../../shared/paths.js';
import { prepareSocketFolder, reason } from './home.js';
import { socketAnswers } from './socket-probe.js';

/** Parses BC_LISTEN, turning a malformed value into a startup failure that names the setting. */
export function parseListenOrFail(listen: string): { host: string; port: number } {
  try {
    return parseListen(listen);
  } catch (e) {
    throw new BcError('STARTUP_FAILED', `${(e as Error).message} (set BC_LISTEN or --listen)`, { cause: e });
  }
}

/** sun_path holds 108 bytes on Linux, 104 elsewhere, the terminating NUL included. */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

/**
 * `shared`: one of `--workers N`, listening on the socket the supervisor prepared (it removed a
 * stale file before starting them): the other workers answering on it are not a stale daemon.
 */
export async function listenControl(
  app: FastifyInstance,
  socketPath: string,
  opts: { shared?: boolean } = {},
): Promise<void> {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new BcError(
      'STARTUP_FAILED',
      `the socket path ${socketPath} is too long (${MAX_SOCKET_PATH} bytes at most): set BC_SOCKET or --socket`,
    );
  }
  prepareSocketFolder(socketPath);
  if (opts.shared !== true) await removeStaleSocket(socketPath);
  const previous = process.umask(0o177);
  try {
    await app.listen({ path: socketPath });
  } catch (e) {
    throw new BcError(
      'STARTUP_FAILED',
      `cannot listen on the socket ${socketPath}: ${socketReason(e)} (set BC_SOCKET or --socket)`,
      {
        cause: e,
      },
    );
  } finally {
    process.umask(previous);
  }
  fs.chmodSync(socketPath, 0o600);
}

/** Listens on host:port and returns the bound address as `host:port` (port 0 resolved). */
export async function listenGateway(app: FastifyInstance, listen: string): Promise<string> {
  const { host, port } = parseListenOrFail(listen);
  try {
    await app.listen({ host, port });
  } catch (e) {
    throw new BcError('STARTUP_FAILED', gatewayReason(e, host, port), { cause: e });
  }
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') return `${host}:${port}`;
  return formatHostPort(addr.address, addr.port);
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Removes a socket file no daemon answers on; refuses a live one or a file that is not a socket. */
export async function removeStaleSocket(socketPath: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new BcError(
      'STARTUP_FAILED',
      `${socketPath} exists and is not a socket: move it away or set BC_SOCKET or --socket`,
    );
  }
  if (await socketAnswers(socketPath)) {
    throw new BcError(
      'STARTUP_FAILED',
      `the socket ${socketPath} is in use by another daemon (set BC_SOCKET or --socket)`,
    );
  }
  fs.rmSync(socketPath, { force: true });
}

function socketReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return 'in use';
  return reason(e);
}

function gatewayReason(e: unknown, host: string, port: number): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is in use: set BC_LISTEN or --listen`;
  if (code === 'EACCES' || code === 'EPERM') {
    return `permission denied to listen on port ${port} on ${host} (ports below 1024 need privileges): set BC_LISTEN or --listen`;
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot listen on ${host}: no such address on this machine: set BC_LISTEN or --listen`;
  }
  return `cannot listen on ${formatHostPort(host, port)}: ${reason(e)}`;
}
