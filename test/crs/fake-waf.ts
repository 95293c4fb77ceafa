// A stand-in for "frontline with its WAF" in the CRS runner's tests: an HTTP server that answers
// every request and writes the audit-log line a WAF would, with a few fake rules:
//   - 942100 when the URI or body contains "attack" (with ModSecurity-like msg and data);
//   - 932100 when the body contains "evil";
//   - an engine message when the request has an `X-Fake-Message` header;
//   - 999999 on marker requests (X-CRS-Test), like the test-marker rule.
// `/hangup` closes the connection without an answer (and logs nothing). With `flushMs`, lines
// are written in batches, like a buffered audit log.
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeWaf {
  port: number;
  requests: number;
  close(): Promise<void>;
}

export async function startFakeWaf(auditLog: string, options: { flushMs?: number } = {}): Promise<FakeWaf> {
  let buffered = '';
  let id = 0;
  const flush = () => {
    if (buffered !== '') appendFileSync(auditLog, buffered);
    buffered = '';
  };
  const timer = options.flushMs === undefined ? undefined : setInterval(flush, options.flushMs);
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/hangup') {
        req.socket.destroy();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const marker = req.headers['x-crs-test'];
      const rules: object[] = [];
      const messages: string[] = [];
      const file = '/crs/rules/FAKE.conf';
      if (typeof marker === 'string') {
        rules.push({ id: 999999, msg: marker, data: '', file, line: 1, severity: '', tags: [], phase: 1 });
      } else {
        const url = req.url ?? '/';
        if (url.includes('attack') || body.includes('attack')) {
          const where = url.includes('attack') ? `REQUEST_URI: ${url}` : `ARGS:x: ${body}`;
          rules.push({ id: 942100, msg: 'SQL Injection Attack Detected via libinjection', data: `Matched Data: attack found within ${where}`, file, line: 10, severity: 'CRITICAL', tags: ['attack-sqli', 'paranoia-level/1'], phase: 2 });
        }
        if (body.includes('evil')) rules.push({ id: 932100, msg: 'Remote Command Execution: Unix Command Injection', data: 'Matched Data: evil found within ARGS:x: evil', file, line: 20, severity: 'CRITICAL', tags: [], phase: 2 });
        const message = req.headers['x-fake-message'];
        if (typeof message === 'string') messages.push(message);
      }
      const entry = {
        ts: new Date().toISOString(),
        request_id: `fake-${++id}`,
        marker: typeof marker === 'string' ? marker : null,
        client: `127.0.0.1:${req.socket.remotePort}`,
        method: req.method,
        uri: req.url,
        status: 200,
        anomaly_score: rules.length * 5,
        action: 'pass',
        rules,
        messages,
      };
      buffered += JSON.stringify(entry) + '\n';
      if (timer === undefined) flush();
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`ok ${req.method} ${req.url}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (timer !== undefined) clearInterval(timer);
        flush();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
