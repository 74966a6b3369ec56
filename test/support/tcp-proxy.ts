/**
 * A TCP proxy on loopback in front of a test server (PostgreSQL, Redis), so that a test can make
 * the server unreachable for the code under test and bring it back without stopping the server
 * itself, which other test files running in parallel share. `cut()` drops every open connection
 * and stops listening (new connections are refused at once); `open()` listens again on the same
 * port.
 */
import net from 'node:net';

export class Proxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}
  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}
