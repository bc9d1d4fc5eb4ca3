import {
  createConnection,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';

/** Where a dropped transaction is cut: before storage sees it, or after storage applied it. */
export type DropPoint = 'request' | 'response';

/**
 * A loopback TCP proxy in front of Azurite that can cut the connection of the next entity-group
 * transaction, to make its outcome ambiguous to the client the way a network failure does.
 */
export interface FlakyProxy {
  readonly port: number;
  /** Cuts the next `$batch` request at `point`; later traffic passes untouched. */
  dropNextTransaction(point: DropPoint): void;
  readonly dropped: number;
  close(): Promise<void>;
}

export async function startFlakyProxy(targetPort: number): Promise<FlakyProxy> {
  let pending: DropPoint | undefined;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    let cutResponse = false;
    const cut = () => {
      dropped += 1;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (pending !== undefined && chunk.toString('latin1').includes('$batch')) {
        const point = pending;
        pending = undefined;
        if (point === 'request') return cut();
        cutResponse = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => (cutResponse ? cut() : client.write(chunk)));
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    dropNextTransaction(point) {
      pending = point;
    },
    get dropped() {
      return dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
