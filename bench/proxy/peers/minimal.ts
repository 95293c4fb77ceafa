// The smallest reasonable Node reverse proxy: node:http downstream, an undici Pool upstream
// (keep-alive, `connections` sockets at most, no pipelining). No logging, no metrics, no routing:
// it is the floor a Node proxy can reach with the same libraries frontline uses.
import http from 'node:http';
import { Pool } from 'undici';
import { announce, peerArgs } from './args.ts';

const { port, origin, connections } = peerArgs();
const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
const originHost = new URL(origin).host;

// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded in either direction.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardHeaders(raw: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP.has(name)) continue;
    const prev = out[name];
    out[name] = prev === undefined ? raw[i + 1] : Array.isArray(prev) ? [...prev, raw[i + 1]] : [prev, raw[i + 1]];
  }
  return out;
}

const server = http.createServer((req, res) => {
  const headers = forwardHeaders(req.rawHeaders);
  headers.host ??= originHost;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.request(
    { method: req.method as 'GET', path: req.url ?? '/', headers, body: hasBody ? req : null },
    (err, data) => {
      if (err) {
        if (res.destroyed) return;
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway\n');
        return;
      }
      if (res.destroyed) {
        // The client went away while the origin answered (wrk closes its connections at the end).
        data.body.destroy();
        return;
      }
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(data.headers)) {
        if (value !== undefined && !HOP.has(name)) out[name] = value;
      }
      res.writeHead(data.statusCode, out);
      // .pipe rather than stream.pipeline: pipeline makes an AbortController per call and aborts
      // it (a DOMException) when it finishes, which costs ~5% of the CPU at these rates.
      const body = data.body;
      body.on('error', () => res.destroy());
      res.on('close', () => {
        if (!body.readableEnded) body.destroy();
      });
      body.pipe(res);
    },
  );
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1', () => announce('minimal', port, () => server.close()));
