// `http-proxy` (node-http-proxy) on node:http, with a keep-alive agent towards the origin.
import http from 'node:http';
import httpProxy from 'http-proxy';
import { announce, peerArgs } from './args.ts';

const { port, origin, connections } = peerArgs();
const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
const proxy = httpProxy.createProxyServer({ target: origin, agent });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway\n');
  } else {
    res.destroy();
  }
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1', () => announce('http-proxy', port, () => server.close()));
