// The primary's admin HTTP listener: GET /metrics (every worker's metrics, aggregated) and
// GET /status (the same report as `frontline status --json`).
import { createServer, type Server } from 'node:http';
import type { StatusReport } from './protocol.ts';

export interface AdminHandlers {
  metrics(): Promise<{ contentType: string; text: string }>;
  status(): Promise<StatusReport>;
}

export async function listenAdmin(address: string, port: number, handlers: AdminHandlers): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, contentType: string, body: string) => {
      res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path !== '/metrics' && path !== '/status') return answer(404, 'text/plain', 'not found: try /metrics or /status\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return answer(405, 'text/plain', 'method not allowed\n');
    }
    const work =
      path === '/metrics'
        ? handlers.metrics().then((m) => answer(200, m.contentType, m.text))
        : handlers.status().then((s) => answer(200, 'application/json', JSON.stringify(s, null, 2) + '\n'));
    work.catch((err: unknown) => answer(500, 'text/plain', `${String(err)}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Closes the listener and any connection still open on it. */
export function closeAdmin(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
