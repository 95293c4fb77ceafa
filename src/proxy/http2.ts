// HTTP/2 on the client side: node:http2 sessions (TLS with ALPN h2, or cleartext h2c with prior
// knowledge), each stream handed to the request path as a Downstream through node:http2's stream
// API (no compatibility layer: no request/response objects beside the stream).
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Downstream, DownstreamListener, ResponseHeaders } from './downstream.ts';

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** HTTP/2 streams one connection may have open at once (nginx's default; Node's is unlimited). */
const MAX_CONCURRENT_STREAMS = 128;

/** Fields of an HTTP/1 connection, which HTTP/2 forbids in a response (RFC 9113 §8.2.2). */
const CONNECTION_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

const noop = () => {};

/** RFC 9113 §6.5.2: names and values, plus 32 octets per field (pseudo-headers included). */
function headerListSize(headers: IncomingHttpHeaders): number {
  let size = 0;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') size += name.length + value.length + 32;
    else if (value !== undefined) for (const v of value) size += name.length + v.length + 32;
  }
  return size;
}

/**
 * The HTTP/2 side of a worker: a node:http2 server that never listens itself. The worker's
 * listeners hand it the connections that speak HTTP/2 (accept), and it hands every stream to
 * `handle`. Its 'session' event announces each connection's session.
 */
export function createHttp2Server(handle: (down: Downstream) => void, maxHeaderSize: number): http2.Http2Server {
  const server = http2.createServer({ settings: { maxHeaderListSize: maxHeaderSize, maxConcurrentStreams: MAX_CONCURRENT_STREAMS } });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) =>
    handle(new Http2Downstream(stream, headers, rawHeaders, maxHeaderSize)),
  );
  return server;
}

/** Serves an accepted connection (TLS with ALPN h2, or cleartext) as HTTP/2. */
export function acceptHttp2(server: http2.Http2Server, socket: Socket): void {
  server.emit('connection', socket);
}

class Http2Downstream implements Downstream {
  /** Pseudo-headers (`:method`, …) left out, as on HTTP/1. */
  rawHeaders(): readonly string[] {
    const out: string[] = [];
    const raw = this.#rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i].charCodeAt(0) !== 0x3a) out.push(raw[i], raw[i + 1]);
    return out;
  }

  readonly #stream: http2.ServerHttp2Stream;
  readonly method: string;
  readonly url: string;
  get target(): string {
    return this.url;
  }
  readonly httpVersion = '2.0';
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly encrypted: boolean;
  readonly hasBody: boolean;
  readonly body: http2.ServerHttp2Stream | null;
  /** Node enforces SETTINGS_MAX_HEADER_LIST_SIZE only once the client has acknowledged it. */
  readonly headTooLarge: boolean;
  readonly rejection = undefined;
  uploadAborted = false;
  listener: DownstreamListener | undefined = undefined;
  headersSent = false;
  done = false;
  /** An HTTP/2 stream queues what it is given until its flow-control window lets it go. */
  readonly holding = true;
  #noBody = false;
  #ended = false;
  readonly #rawHeaders: string[];

  constructor(stream: http2.ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[], maxHeaderSize: number) {
    this.#stream = stream;
    this.headers = headers;
    this.#rawHeaders = rawHeaders;
    const method = (headers[':method'] as string | undefined) ?? 'GET';
    this.method = method;
    this.url = (headers[':path'] as string | undefined) ?? (method === 'CONNECT' ? ((headers[':authority'] as string | undefined) ?? '') : '/');
    const socket = stream.session?.socket as (Socket & { encrypted?: boolean }) | undefined;
    this.remoteAddress = socket?.remoteAddress ?? '';
    this.remotePort = socket?.remotePort ?? 0;
    this.encrypted = socket?.encrypted === true;
    this.hasBody = !stream.endAfterHeaders;
    this.body = this.hasBody ? stream : null;
    this.headTooLarge = maxHeaderSize > 0 && headerListSize(headers) > maxHeaderSize;
    stream.on('aborted', () => (this.uploadAborted = true));
    stream.on('drain', () => this.listener?.onDrain());
    stream.on('error', noop);
    stream.once('close', () => {
      this.done = true;
      this.listener?.onEnd(this.#ended && stream.rstCode === NGHTTP2_NO_ERROR);
    });
  }

  respond(status: number, headers: ResponseHeaders, body: Uint8Array | undefined): void {
    if (this.done || this.headersSent) return;
    this.writeHead(status, headers);
    if (body !== undefined && body.length > 0) this.write(body);
    this.end();
  }

  writeHead(status: number, headers: ResponseHeaders): void {
    if (this.done || this.headersSent) return;
    const out: http2.OutgoingHttpHeaders = { ':status': status };
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined) continue;
      const key = name.toLowerCase();
      if (!CONNECTION_FIELDS.has(key)) out[key] = value;
    }
    this.#stream.respond(out);
    this.headersSent = true;
    this.#noBody = this.method === 'HEAD' || status === 204 || status === 304;
  }

  write(chunk: Uint8Array): boolean {
    if (this.done || this.#noBody) return true;
    return this.#stream.write(chunk);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.#ended = true;
    this.#stream.end();
  }

  abort(): void {
    this.done = true;
    if (!this.#stream.destroyed) this.#stream.close(NGHTTP2_INTERNAL_ERROR);
  }
}
