// One request over a fresh TCP connection, the way go-ftw's ftwhttp client does it: write the
// bytes as they are, then read the response head with Go's http.ReadResponse rules. What
// go-ftw calls an error (connection refused, nothing or garbage back, a timeout before the
// head) is an `error` here, which `expect_error` tests rely on.
//
// go-ftw stops reading after the head (its raw response is the head plus whatever arrived with
// it); this client goes on to read the body (Content-Length, chunked, or until the server
// closes) within the same time limit, so `response_contains` sees the whole response. A body
// that does not finish in time is not an error: the response is kept as received.
import net from 'node:net';

export interface Response {
  /** The status of the first response head (a 100 Continue counts, as in Go). */
  status: number;
  /** Header fields of that head, names as sent. */
  headers: [string, string][];
  /** Every byte received on the connection. */
  raw: Buffer;
}

export interface Exchange {
  response?: Response;
  /** Set when go-ftw would have seen an error. */
  error?: string;
  /** Milliseconds from connecting to the end of the exchange. */
  ms: number;
}

export class ResponseParseError extends Error {}

interface Head {
  status: number;
  headers: [string, string][];
  /** Offset of the first body byte. */
  end: number;
  version: [number, number];
}

/** Go's http.ParseHTTPVersion. */
function parseHttpVersion(proto: string): [number, number] | undefined {
  if (proto === 'HTTP/1.1') return [1, 1];
  if (proto === 'HTTP/1.0') return [1, 0];
  const m = /^HTTP\/(\d+)\.(\d+)$/.exec(proto);
  if (m === null) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 1_000_000 || minor > 1_000_000 ? undefined : [major, minor];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a response head starting at `start` like Go's http.ReadResponse (status line,
 * textproto.ReadMIMEHeader, and readTransfer's header checks). Returns undefined when the
 * head is not complete yet; throws ResponseParseError where Go returns an error.
 */
export function parseResponseHead(buf: Buffer, start = 0): Head | undefined {
  const lines: string[] = [];
  let pos = start;
  for (;;) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) return undefined;
    let line = buf.toString('latin1', pos, nl);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    pos = nl + 1;
    if (lines.length > 0 && line === '') break;
    lines.push(line);
  }
  const statusLine = lines[0]!;
  const sp = statusLine.indexOf(' ');
  if (sp === -1) throw new ResponseParseError(`malformed HTTP response ${JSON.stringify(statusLine)}`);
  const proto = statusLine.slice(0, sp);
  const statusText = statusLine.slice(sp + 1).replace(/^ +/, '');
  const codeText = statusText.split(' ', 1)[0]!;
  if (codeText.length !== 3 || !/^[+-]?\d+$/.test(codeText) || Number(codeText) < 0) {
    throw new ResponseParseError(`malformed HTTP status code ${JSON.stringify(codeText)}`);
  }
  const version = parseHttpVersion(proto);
  if (version === undefined) throw new ResponseParseError(`malformed HTTP version ${JSON.stringify(proto)}`);
  const headers: [string, string][] = [];
  for (const [i, line] of lines.slice(1).entries()) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (i === 0) throw new ResponseParseError(`malformed MIME header initial line: ${JSON.stringify(line)}`);
      headers[headers.length - 1]![1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon === -1 || !TOKEN.test(line.slice(0, colon))) throw new ResponseParseError(`malformed MIME header line: ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const lengths = new Set(headers.filter(([n]) => n.toLowerCase() === 'content-length').map(([, v]) => v.trim()));
  if (lengths.size > 1) throw new ResponseParseError('http: message cannot contain multiple Content-Length headers');
  for (const v of lengths) if (!/^\d+$/.test(v)) throw new ResponseParseError(`bad Content-Length ${JSON.stringify(v)}`);
  const te = headers.filter(([n]) => n.toLowerCase() === 'transfer-encoding').map(([, v]) => v.trim().toLowerCase());
  if (version[0] === 1 && version[1] >= 1 && te.length > 0 && (te.length > 1 || te[0] !== 'chunked')) {
    throw new ResponseParseError(`unsupported transfer encoding: ${JSON.stringify(te.join(', '))}`);
  }
  return { status: Number(codeText), headers, end: pos, version };
}

/** Where the message that starts at `head.end` ends: a byte offset, 'close', or undefined (need more). */
function bodyEnd(buf: Buffer, head: Head, headRequest: boolean): number | 'close' | undefined {
  const s = head.status;
  if (headRequest || (s >= 100 && s < 200) || s === 204 || s === 304) return head.end;
  const chunked = head.version[0] === 1 && head.version[1] >= 1 && head.headers.some(([n, v]) => n.toLowerCase() === 'transfer-encoding' && v.trim().toLowerCase() === 'chunked');
  if (chunked) {
    let pos = head.end;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl === -1) return undefined;
      const size = parseInt(buf.toString('latin1', pos, nl).split(';', 1)[0]!.trim(), 16);
      if (Number.isNaN(size)) return 'close';
      pos = nl + 1;
      if (size === 0) {
        // Trailer fields, then an empty line.
        for (;;) {
          const tnl = buf.indexOf(0x0a, pos);
          if (tnl === -1) return undefined;
          const line = buf.toString('latin1', pos, tnl).replace(/\r$/, '');
          pos = tnl + 1;
          if (line === '') return pos;
        }
      }
      pos += size;
      const crlf = buf.indexOf(0x0a, pos);
      if (crlf === -1) return undefined;
      pos = crlf + 1;
    }
  }
  const length = head.headers.find(([n]) => n.toLowerCase() === 'content-length');
  if (length !== undefined) {
    const end = head.end + Number(length[1]);
    return buf.length >= end ? end : undefined;
  }
  return 'close';
}

/** Sends `request` to host:port on a new connection and reads the response. */
export function exchange(host: string, port: number, request: Buffer, timeoutMs: number): Promise<Exchange> {
  const started = performance.now();
  const headRequest = request.subarray(0, 5).toString('latin1') === 'HEAD ';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received: Buffer = Buffer.alloc(0);
    let firstHead: Head | undefined;
    let settled = false;
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const ms = performance.now() - started;
      if (firstHead !== undefined) {
        resolve({ response: { status: firstHead.status, headers: firstHead.headers, raw: received }, ms });
      } else {
        resolve({ error: error ?? 'no response', ms });
      }
    };
    const timer = setTimeout(() => finish(`read tcp ${host}:${port}: i/o timeout (no response head within ${timeoutMs} ms)`), timeoutMs);
    /** Walks the heads received so far; true when the final response is complete. */
    const complete = (): boolean => {
      let start = 0;
      for (;;) {
        const head = parseResponseHead(received, start);
        if (head === undefined) return false;
        firstHead ??= head;
        const end = bodyEnd(received, head, headRequest);
        if (end === undefined || end === 'close') return false;
        if (head.status >= 200 || head.status < 100) return true;
        start = end; // an interim (1xx) response: the final one follows
      }
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      chunks.length = 0;
      chunks.push(received);
      try {
        if (complete()) finish();
      } catch (err) {
        if (firstHead === undefined) finish((err as Error).message);
        else finish();
      }
    });
    socket.on('end', () => {
      if (firstHead === undefined) {
        try {
          complete();
        } catch (err) {
          finish((err as Error).message);
          return;
        }
      }
      finish(received.length === 0 ? 'EOF (the server closed the connection without a response)' : 'unexpected EOF (the server closed the connection within the response head)');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(`${err.code ?? 'error'}: ${err.message}`));
    socket.on('close', () => finish('the connection was closed'));
    socket.write(request);
  });
}
