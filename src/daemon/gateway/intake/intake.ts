/**
 * The gateway's door: what a client can hold before it has proved who it is, and for how long.
 * The HTTP server caps the connections it keeps (BC_MAX_CONNECTIONS; more are closed on arrival)
 * and gives a request BC_BODY_TIMEOUT to arrive, headers and body, counted by Node from the
 * request's first byte until its last (so it never cuts a response, however long a stream runs).
 * Bodies are read only for requests whose key the headers already proved (lanes.ts, app.ts), and
 * at most BC_MAX_BODY_READS at once: the rest wait, unread, in the kernel's buffers, with the same
 * deadline running. A `100 Continue` is sent only when a body is about to be read. Every number
 * here is a gauge or counter in `GET /metrics` (metrics/transport.ts).
 */
import http from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BcError } from '../../../shared/errors.js';
import type { TransportStats } from '../../metrics/transport.js';
import type { InboundProtocol } from '../../providers/types.js';
import { errorResponse } from '../client-wire.js';
import type { IntakeOptions } from './intake-env.js';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Node's default bound on headers alone; BC_BODY_TIMEOUT lowers it, never raises it */
const MAX_HEADERS_TIMEOUT_MS = 60_000;

interface Waiter {
  phase: 'waiting' | 'reading' | 'done';
  start: () => void;
}

export class Intake {
  private reading = 0;
  private readonly queue: Waiter[] = [];
  /** sockets whose request body is awaited, and the protocol their 408 is written in */
  private readonly receiving = new WeakMap<Socket, InboundProtocol>();
  /** requests that sent `Expect: 100-continue` and have not been told to go on yet */
  private readonly expecting = new WeakSet<IncomingMessage>();

  constructor(
    readonly options: IntakeOptions,
    readonly stats: TransportStats,
    private readonly newRequestId: () => string,
  ) {
    stats.connectionLimit = options.maxConnections;
    stats.bodyReadLimit = options.maxBodyReads;
  }

  /** The gateway's HTTP server: timeouts, connection cap and counters set, `handler` serving. */
  createServer(handler: RequestListener): http.Server {
    const timeout = this.options.bodyTimeoutMs;
    const server = http.createServer(
      {
        requestTimeout: timeout,
        headersTimeout: Math.min(timeout, MAX_HEADERS_TIMEOUT_MS),
        // how often Node looks for late requests: the deadline is kept to within this
        connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(timeout / 4))),
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      },
      handler,
    );
    server.maxConnections = this.options.maxConnections;
    server.on('connection', (socket: Socket) => {
      this.stats.connections++;
      socket.once('close', () => this.stats.connections--);
    });
    server.on('drop', () => this.stats.connectionsRefused++);
    // no automatic `100 Continue`: a client that asked waits until its key is known good
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      this.expecting.add(req);
      handler(req, res);
    });
    return server;
  }

  /**
   * Runs `read` once a body slot is free (now, or when one frees up), sending the `100 Continue`
   * the client may wait for. The slot is given back when the body has arrived or the request
   * closes (timed out, refused, client gone), whichever comes first.
   */
  readBody(req: IncomingMessage, res: ServerResponse, protocol: InboundProtocol, read: () => void): void {
    const socket = req.socket;
    this.receiving.set(socket, protocol);
    const waiter: Waiter = {
      phase: 'waiting',
      start: () => {
        waiter.phase = 'reading';
        this.reading++;
        this.stats.bodyReads++;
        if (this.expecting.delete(req) && !res.headersSent) res.writeContinue();
        read();
      },
    };
    const release = (): void => {
      if (waiter.phase === 'reading') {
        this.reading--;
        this.stats.bodyReads--;
        this.startNext();
      } else if (waiter.phase === 'waiting') this.leaveQueue(waiter);
      waiter.phase = 'done';
      this.receiving.delete(socket);
    };
    req.once('end', release);
    req.once('close', release);
    if (this.reading < this.options.maxBodyReads) waiter.start();
    else {
      this.queue.push(waiter);
      this.stats.bodyReadsWaiting++;
    }
  }

  private leaveQueue(waiter: Waiter): void {
    const i = this.queue.indexOf(waiter);
    if (i < 0) return;
    this.queue.splice(i, 1);
    this.stats.bodyReadsWaiting--;
  }

  private startNext(): void {
    while (this.reading < this.options.maxBodyReads) {
      const next = this.queue.shift();
      if (!next) return;
      this.stats.bodyReadsWaiting--;
      next.start();
    }
  }

  /**
   * Fastify's clientErrorHandler: a request that did not arrive in time gets a 408 in its
   * protocol's shape (when nothing has been answered on the connection yet) and is closed;
   * malformed HTTP gets a 400. The socket is closed either way.
   */
  readonly onClientError = (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const protocol = this.receiving.get(socket);
    if (timedOut && protocol !== undefined) this.stats.bodyTimeouts++;
    else if (timedOut) this.stats.headerTimeouts++;
    const bc = timedOut
      ? new BcError(
          'REQUEST_TIMEOUT',
          `the request did not arrive within ${this.options.bodyTimeoutMs} ms (BC_BODY_TIMEOUT): send the whole body at once`,
        )
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new BcError('INVALID_REQUEST', 'request headers are too large', { status: 431 })
        : new BcError('INVALID_REQUEST', 'malformed HTTP request');
    if (socket.writable && !answering(socket)) {
      socket.end(rawResponse(protocol ?? 'openai', bc, this.newRequestId()));
      socket.once('finish', () => socket.destroy());
    } else socket.destroy();
  };
}

/** A response to the connection's current request is under way (Node's own test, kept internal). */
function answering(socket: Socket): boolean {
  const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  return current?.headersSent === true;
}

function rawResponse(protocol: InboundProtocol, err: BcError, requestId: string): Buffer {
  const { status, headers, body } = errorResponse(protocol, err);
  headers['x-request-id'] = requestId;
  headers.connection = 'close';
  const head = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${String(value)}`);
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}
