// The built-in demo origin behind the embedded default configuration: a small site with HTML
// pages, static files and an API echo endpoint, enough to see every frontline feature at work.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const page = (title: string, body: string) => `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${title} · frontline demo</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body>
<header><img src="/static/logo.svg" alt="frontline" width="32" height="32">
<nav><a href="/">Home</a> · <a href="/about">About</a> · <a href="/contact">Contact</a> · <a href="/api/echo">API echo</a></nav></header>
<main>
${body}
</main>
<footer><p>Served by the frontline demo origin.</p></footer>
</body>
</html>
`;

const PAGES: Record<string, string> = {
  '/': page(
    'Home',
    `<h1>Welcome to the frontline demo</h1>
<p>This page came from the demo origin through frontline. Every response carries an <code>x-request-id</code>
and a <code>via</code> header added by the proxy.</p>
<ul>
<li><a href="/about">About this site</a></li>
<li><a href="/contact">Contact page</a> (an email address for the rewriting features)</li>
<li><a href="/api/echo?hello=world">/api/echo</a> shows the request as the origin received it</li>
<li><a href="http://example.com/">An external http:// link</a></li>
</ul>`,
  ),
  '/about': page(
    'About',
    `<h1>About</h1>
<p>frontline is an edge reverse proxy: firewall rules, a WAF, a disk cache and streaming HTML rewriting
in front of your origin.</p>`,
  ),
  '/contact': page(
    'Contact',
    `<h1>Contact</h1>
<p>Write to <a href="mailto:hello@example.com">hello@example.com</a> or to support@example.com.</p>
<form action="http://example.com/subscribe" method="post"><input name="email"><button>Subscribe</button></form>`,
  ),
};

const STATIC: Record<string, { type: string; body: string }> = {
  '/static/style.css': {
    type: 'text/css; charset=utf-8',
    body: 'body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\nheader{display:flex;gap:1rem;align-items:center}\ncode{background:#f3f3f3;padding:0 .2em}\n',
  },
  '/static/logo.svg': {
    type: 'image/svg+xml',
    body: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b5"/><path d="M8 24V8h14v4H12v3h8v4h-8v5z" fill="#fff"/></svg>\n',
  },
  '/robots.txt': { type: 'text/plain; charset=utf-8', body: 'User-agent: *\nAllow: /\n' },
};

/** Largest request body the echo endpoint reads back; it reports the total size beyond that. */
const ECHO_BODY_LIMIT = 64 * 1024;

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://demo.invalid');
  const html = PAGES[url.pathname];
  if (html !== undefined) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=60' });
    res.end(req.method === 'HEAD' ? undefined : html);
    return;
  }
  const file = STATIC[url.pathname];
  if (file !== undefined) {
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'public, max-age=3600', 'content-length': Buffer.byteLength(file.body) });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return;
  }
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  if (url.pathname === '/api/echo') {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      if (size < ECHO_BODY_LIMIT) chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).subarray(0, ECHO_BODY_LIMIT).toString('utf8');
      const payload = JSON.stringify(
        { method: req.method, url: req.url, httpVersion: req.httpVersion, headers: req.headers, bodyBytes: size, body },
        null,
        2,
      );
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(payload + '\n');
    });
    return;
  }
  res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page('Not found', `<h1>Not found</h1><p>The demo origin has no page at <code>${escape(url.pathname)}</code>.</p>`));
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export interface DemoOrigin {
  url: string;
  close(): Promise<void>;
}

/** Starts the demo origin on 127.0.0.1 (port 0: any free port). */
export async function startDemoOrigin(port = 0): Promise<DemoOrigin> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
