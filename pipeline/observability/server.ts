import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What /health answers: 200 when ok, 503 otherwise, with the details as JSON. */
export interface Health {
  ok: boolean;
  [detail: string]: unknown;
}

export interface MetricsServer {
  /** http://host:port, with the port actually bound (useful with port 0). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics (Prometheus text) and GET /health on host:port (127.0.0.1 by default: the
 * numbers are not for the whole network unless the operator says so). Rejects if the port is taken.
 */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  metrics: () => Promise<string>;
  health: () => Health;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/metrics') {
      opts.metrics().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (err: Error) =>
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${err.message}\n`),
      );
    } else if (path === '/health') {
      const h = opts.health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /health\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
