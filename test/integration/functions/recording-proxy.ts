/**
 * A loopback HTTP proxy in front of the BigQuery emulator that keeps the
 * body of every insertAll request passing through. Tests read it to see
 * exactly how the function split a batch and which insert ids each request
 * carried; the emulator still does all the storing.
 */
import {createServer, request, type Server} from 'node:http';
import {once} from 'node:events';
import type {AddressInfo} from 'node:net';

/** One insertAll request as the function sent it. */
export interface RecordedInsert {
  /** Table id, from the request path. */
  table: string;
  insertIds: string[];
  bodyBytes: number;
}

export interface RecordingProxy {
  /** Base URL to give the function as BIGQUERY_EMULATOR_HOST. */
  readonly endpoint: string;
  readonly inserts: RecordedInsert[];
  close(): Promise<void>;
}

/** Starts the proxy towards `target` (http://host:port). */
export async function startRecordingProxy(
  target: string,
): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const inserts: RecordedInsert[] = [];

  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const table = /\/tables\/([^/]+)\/insertAll/.exec(incoming.url ?? '');
      if (table?.[1] !== undefined) {
        const parsed = JSON.parse(body.toString('utf8')) as {
          rows: {insertId: string}[];
        };
        inserts.push({
          table: table[1],
          insertIds: parsed.rows.map(row => row.insertId),
          bodyBytes: body.byteLength,
        });
      }
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: {...incoming.headers, host: upstream.host},
        },
        answer => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.on('error', () => outgoing.destroy());
      forward.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const {port} = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    inserts,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
