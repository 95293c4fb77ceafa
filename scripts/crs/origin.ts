// The origin behind frontline during the suite: it behaves like the suite's own backend,
// albedo 0.3.0 (tests/docker-compose.yml), since the tests' expectations were written against it:
//   - `POST /reflect` (and `/reflect/...`) takes a JSON body {"status", "headers", "body",
//     "encodedBody", "logMessage"} and answers with that status, those headers and that body
//     (the RESPONSE-95x tests use it to make the WAF see a response);
//   - anything else: 200 with an empty body.
// With `echo: true`, anything else is instead answered with the request line, headers and body
// as text/plain (to see what frontline forwarded). It is off by default: the WAF inspects
// text/plain responses, so echoed attack payloads would make response rules fire where the
// suite's backend never sends them back.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Origin {
  port: number;
  url: string;
  close(): Promise<void>;
}

const HTML_SIGNATURES = ['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--'];

/** Go's http.DetectContentType for what albedo's bodies can be (HTML, XML, text, common binaries). */
export function detectContentType(body: Buffer): string {
  const data = body.subarray(0, 512);
  let ws = 0;
  while (ws < data.length && [0x09, 0x0a, 0x0c, 0x0d, 0x20].includes(data[ws]!)) ws++;
  const rest = data.subarray(ws);
  for (const sig of HTML_SIGNATURES) {
    if (rest.length > sig.length && rest.subarray(0, sig.length).toString('latin1').toUpperCase() === sig && (rest[sig.length] === 0x20 || rest[sig.length] === 0x3e)) {
      return 'text/html; charset=utf-8';
    }
  }
  if (rest.subarray(0, 5).toString('latin1') === '<?xml') return 'text/xml; charset=utf-8';
  const starts = (sig: string) => data.subarray(0, sig.length).toString('latin1') === sig;
  if (starts('%PDF-')) return 'application/pdf';
  if (starts('%!PS-Adobe-')) return 'application/postscript';
  if (starts('\xfe\xff')) return 'text/plain; charset=utf-16be';
  if (starts('\xff\xfe')) return 'text/plain; charset=utf-16le';
  if (starts('\xef\xbb\xbf')) return 'text/plain; charset=utf-8';
  if (starts('GIF87a') || starts('GIF89a')) return 'image/gif';
  if (starts('\x89PNG\r\n\x1a\n')) return 'image/png';
  if (starts('\xff\xd8\xff')) return 'image/jpeg';
  if (starts('PK\x03\x04')) return 'application/zip';
  if (starts('\x1f\x8b\x08')) return 'application/x-gzip';
  for (const b of data) {
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) return 'application/octet-stream';
  }
  return 'text/plain; charset=utf-8';
}

interface Reflection {
  status: number;
  headers: [string, string][];
  body?: string;
  encodedBody: string;
}

/** Go's json.Unmarshal into albedo's reflectionSpec: field names case-insensitive, types strict. */
function parseReflection(text: string): Reflection | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const spec: Reflection = { status: 0, headers: [], encodedBody: '' };
  if (value === null) return spec;
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    switch (key.toLowerCase()) {
      case 'status':
        if (v === null) break;
        if (typeof v !== 'number' || !Number.isInteger(v)) return undefined;
        spec.status = v;
        break;
      case 'headers':
        if (v === null) break;
        if (typeof v !== 'object' || Array.isArray(v)) return undefined;
        for (const [name, hv] of Object.entries(v as Record<string, unknown>)) {
          if (typeof hv !== 'string') return undefined;
          spec.headers.push([name, hv]);
        }
        break;
      case 'body':
      case 'encodedbody':
      case 'logmessage':
        if (v === null) break;
        if (typeof v !== 'string') return undefined;
        if (key.toLowerCase() === 'body') spec.body = v;
        else if (key.toLowerCase() === 'encodedbody') spec.encodedBody = v;
        break;
      default:
        break;
    }
  }
  return spec;
}

function send(res: http.ServerResponse, status: number, headers: [string, string][], body: Buffer): void {
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  for (const [name, value] of headers) {
    try {
      res.appendHeader(name, value);
    } catch {
      // a header Node refuses to send (invalid characters): albedo's Go server would drop it too
    }
  }
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  if (!names.has('content-type') && body.length > 0 && !noBody) res.setHeader('Content-Type', detectContentType(body));
  res.writeHead(status);
  res.end(noBody ? undefined : body);
}

function reflect(res: http.ServerResponse, body: Buffer): void {
  const spec = parseReflection(body.toString('utf8'));
  if (spec === undefined) return send(res, 400, [], Buffer.from('Invalid JSON in request body'));
  if ((spec.status > 0 && spec.status < 100) || spec.status >= 600) {
    return send(res, 400, spec.headers, Buffer.from(`Invalid status code: ${spec.status}`));
  }
  const status = spec.status === 0 ? 200 : spec.status;
  let out: Buffer;
  if (spec.body !== undefined && spec.body !== '') out = Buffer.from(spec.body, 'utf8');
  else if (spec.encodedBody !== '') {
    const clean = spec.encodedBody.replace(/[\r\n]/g, '');
    // albedo writes the status first, so a bad encoding keeps it and sends the error as body.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) out = Buffer.from('invalid base64 encoding of response body');
    else out = Buffer.from(clean, 'base64');
  } else out = Buffer.alloc(0);
  send(res, status, spec.headers, out);
}

function echo(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  send(res, 200, [['Content-Type', 'text/plain; charset=utf-8']], Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), body]));
}

export async function startOrigin(options: { echo?: boolean } = {}): Promise<Origin> {
  const server = http.createServer({ requireHostHeader: false, insecureHTTPParser: true, maxHeaderSize: 65536 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?', 1)[0]!;
      if (req.method === 'POST' && (path === '/reflect' || path.startsWith('/reflect/'))) reflect(res, body);
      else if (options.echo === true) echo(req, res, body);
      else send(res, 200, [], Buffer.alloc(0));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
