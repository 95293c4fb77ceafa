// frontline's HTTP/1.x server side: one Http1Connection per client connection (plain or TLS),
// reading request heads with its own strict parser (parse.ts), handing each request to the
// request path as a Downstream, and writing each response head as one string, coalesced with
// the first body bytes into one write.
//
// Requests on a connection are handled one at a time, in order: bytes of a pipelined next request
// wait (bounded; the socket is paused beyond HOLD_LIMIT) until the response in progress has ended,
// so responses go out in the order the requests came. Backpressure goes both ways: a request body
// is pushed to a Readable whose consumer pauses the socket, and a response write returns false
// while the client is behind. Client timeouts (head, whole request, keep-alive) are deadlines that
// one coarse sweep per server checks, not a timer per connection.
import { STATUS_CODES } from 'node:http';
import type net from 'node:net';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Downstream, DownstreamListener, Rejection, ResponseHeaders } from '../downstream.ts';
import { BARE_LF, ChunkedDecoder, fieldNameKind, hasBareLf, HeadParser, isFieldValue, parseLength, rawHeaderFields, TIMED_OUT, TOO_LARGE, type BodySink, type ParseFailure } from './parse.ts';

/** Where a connection hands its requests, and reports those it rejected before they became requests. */
export interface RequestSink {
  handle(down: Downstream): void;
  /** Counts and logs a request rejected before it could be parsed; gives the request id for the answer. */
  rejected(client: ClientInfo, status: number, reason: string, bytesSent: number): string;
}

export interface ClientInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly encrypted: boolean;
}

export interface Http1Options {
  /** Largest request head (request line and header lines), in bytes: larger gets 431. */
  maxHeaderSize: number;
  /** Requests per connection before it is closed; 0: no limit. */
  maxRequestsPerConnection: number;
  /** Time for a request head; 0: none. */
  headerMs: number;
  /** Time for a whole request, head and body; 0: none. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this long; 0: never. */
  keepaliveMs: number;
  /** The request id header named in frontline's own rejections. */
  requestIdHeader: string;
}

// Connection states.
const ST_HEAD = 0; // waiting for a request head (idle, or part of a head received)
const ST_BODY = 1; // a request was handed over and its body is being read
const ST_BUSY = 2; // the request was read completely; its response is under way
const ST_CLOSING = 3; // no more requests: what the client still sends is read and dropped until it closes
const ST_CLOSED = 4;

// What a connection's deadline is for.
const T_NONE = 0;
const T_HEADER = 1; // the request head must be complete
const T_REQUEST = 2; // the request body must be complete
const T_KEEPALIVE = 3; // an idle connection closes
const T_LINGER = 4; // a closing connection that the client keeps open is cut

/** Bytes of pipelined requests held while a response is under way, before the socket is paused. */
const HOLD_LIMIT = 64 * 1024;
/** The unread rest of a request body that is read and dropped after its response, rather than closing the connection. */
const DISCARD_LIMIT = 64 * 1024;
/** Request body bytes buffered for a consumer that has not read them, before the socket is paused. */
const BODY_HIGH_WATER_MARK = 64 * 1024;
/** Response bodies up to this size are copied behind their head into one buffer; larger ones go in one writev. */
const COALESCE_MAX = 8 * 1024;
/** How long a closing connection waits for the client to close its side once everything was sent. */
const LINGER_MS = 5000;
const EMPTY = Buffer.alloc(0);
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

const noop = () => {};

/** "HTTP/1.1 200 OK\r\n" for every status Node knows; others are built when needed. */
const STATUS_LINES: string[] = [];
for (const [code, reason] of Object.entries(STATUS_CODES)) STATUS_LINES[Number(code)] = `HTTP/1.1 ${code} ${reason}\r\n`;

let dateText = '';
let dateUntil = 0;
/** The Date field value, computed at most once a second. */
function httpDate(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateText = new Date(now).toUTCString();
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateText;
}

/** Every HTTP/1 connection of one configuration: the options, the deadline sweep, and the draining switch for a graceful stop. */
export class Http1Server {
  readonly sink: RequestSink;
  readonly log: Logger;
  readonly options: Http1Options;
  /** Time for a request head: the shorter of the head and request timeouts. */
  readonly headerMs: number;
  /** limits.max_header_size (Node's default, 16 KiB, when 0). */
  readonly maxHeaderSize: number;
  /** The Connection (and Keep-Alive) lines of a response that keeps its connection. */
  readonly keepAliveLines: string;
  readonly connections = new Set<Http1Connection>();
  /** Set during a graceful stop: every response closes its connection. */
  draining = false;
  readonly #tickMs: number;
  #ticker: NodeJS.Timeout | undefined = undefined;
  /** performance.now() as of the last sweep (or accept), for deadlines that need no precision. */
  #now = performance.now();

  constructor(sink: RequestSink, options: Http1Options, log: Logger) {
    this.sink = sink;
    this.options = options;
    this.log = log;
    const { headerMs, requestMs, keepaliveMs } = options;
    this.maxHeaderSize = options.maxHeaderSize > 0 ? options.maxHeaderSize : 16 * 1024;
    this.headerMs = headerMs > 0 && requestMs > 0 ? Math.min(headerMs, requestMs) : headerMs;
    // Deadlines are checked about four times per shortest timeout, between 50 ms and 1 s apart.
    const shortest = Math.min(headerMs || Infinity, requestMs || Infinity);
    this.#tickMs = Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
    this.keepAliveLines = keepaliveMs >= 1000 ? `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(keepaliveMs / 1000)}\r\n` : 'connection: keep-alive\r\n';
  }

  /** Serves a new client connection (a TLS one once its handshake is done). */
  accept(socket: net.Socket, encrypted: boolean): Http1Connection {
    this.#now = performance.now();
    const conn = new Http1Connection(this, socket, encrypted);
    this.connections.add(conn);
    if (this.#ticker === undefined) {
      this.#ticker = setInterval(() => this.#sweep(), this.#tickMs);
      this.#ticker.unref();
    }
    return conn;
  }

  removed(conn: Http1Connection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0 && this.#ticker !== undefined) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }

  /**
   * Now, give or take one sweep interval, never early: the start of a timeout that is checked
   * once per interval anyway (one clock read per sweep instead of two per request).
   */
  get coarseNow(): number {
    return this.#now + this.#tickMs;
  }

  #sweep(): void {
    const now = performance.now();
    this.#now = now;
    for (const conn of this.connections) if (conn.deadline !== 0 && now >= conn.deadline) conn.timedOut(now);
  }

  /**
   * During a graceful stop: closes the connections with no request in progress that have served
   * one (keep-alive leftovers) or that have had `firstRequestGraceMs` to send their first.
   */
  closeIdle(now: number, firstRequestGraceMs: number): void {
    for (const conn of this.connections) {
      if (conn.idle && (conn.served > 0 || now - conn.acceptedAt > firstRequestGraceMs)) conn.socket.destroy();
    }
  }
}

/** One client connection speaking HTTP/1.x. */
export class Http1Connection implements BodySink, ClientInfo {
  readonly server: Http1Server;
  readonly socket: net.Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly encrypted: boolean;
  readonly acceptedAt: number;
  /** Requests handed to the request path so far. */
  served = 0;
  /** performance.now() by which the current timer (T_*) expires; 0 for none. */
  deadline = 0;
  #timer = T_NONE;
  #state = ST_HEAD;
  /** The request whose response has not ended yet. */
  #request: Http1Request | undefined = undefined;
  /** The request whose body is being read. */
  #reading: Http1Request | undefined = undefined;
  readonly #parser = new HeadParser();
  /** Start of a head that arrived in pieces, copied together; #partialLen bytes of it are used. */
  #partial: Buffer | undefined = undefined;
  #partialLen = 0;
  /** Input that waits for the response in progress (pipelined requests). */
  #held: Buffer | undefined = undefined;
  #processing = false;
  #gotBytes = false;
  /** Bytes of a Content-Length body still to come. */
  #bodyLeft = 0;
  #chunks: ChunkedDecoder | undefined = undefined;
  /** Where body bytes go; undefined while they are read and dropped. */
  #body: RequestBody | undefined = undefined;
  #pausedForBody = false;
  #pausedForHold = false;
  #paused = false;
  #clientEnded = false;
  /** The next request waits until the client has taken the responses already written. */
  #waitDrain = false;
  /** The socket still references the chunk last written through send(). */
  holding = false;
  /** Ended responses whose last bytes are still in the socket's buffer, oldest first. */
  #flushing: Http1Request[] | undefined = undefined;
  #lingerWritten = 0;
  /** When the current request's head started (or its connection was accepted). */
  #headStart = 0;
  readonly #onFlushed: (err?: Error | null) => void;

  constructor(server: Http1Server, socket: net.Socket, encrypted: boolean) {
    this.server = server;
    this.socket = socket;
    this.encrypted = encrypted;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.acceptedAt = performance.now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#onDrain());
    socket.on('error', noop);
    socket.on('close', () => this.#onClose());
    this.#onFlushed = (err) => {
      const req = this.#flushing?.shift();
      req?.finish(!err);
    };
    this.#armHeader(this.acceptedAt);
  }

  /** No request in progress and nothing of one received: a graceful stop may close it. */
  get idle(): boolean {
    return this.#state === ST_CLOSING || (this.#state === ST_HEAD && this.#request === undefined && this.#partialLen === 0 && this.#held === undefined);
  }

  /** The head timer, from `from`: when the head (or the connection, for its first request) started. */
  #armHeader(from: number): void {
    this.#headStart = from;
    this.#arm(T_HEADER, this.server.headerMs, from);
  }

  #arm(timer: number, ms: number, from: number): void {
    if (ms > 0) {
      this.#timer = timer;
      this.deadline = from + ms;
    } else {
      this.#timer = T_NONE;
      this.deadline = 0;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Input

  #onData(chunk: Buffer): void {
    this.#gotBytes = true;
    if (this.#state >= ST_CLOSING) return;
    if (this.#held !== undefined || this.#state === ST_BUSY || this.#waitDrain) this.#hold(chunk, 0);
    else this.#process(chunk, 0);
  }

  #process(buf: Buffer, at: number): void {
    this.#processing = true;
    try {
      while (at < buf.length) {
        const state = this.#state;
        if (state === ST_HEAD && !this.#waitDrain) at = this.#readHead(buf, at);
        else if (state === ST_BODY) at = this.#readBody(buf, at);
        else if (state === ST_BUSY || state === ST_HEAD) {
          this.#hold(buf, at);
          return;
        } else return;
        if (at < 0) return;
      }
    } finally {
      this.#processing = false;
    }
  }

  #hold(buf: Buffer, at: number): void {
    const rest = at === 0 ? buf : buf.subarray(at);
    this.#held = this.#held === undefined ? rest : Buffer.concat([this.#held, rest]);
    if (this.#held.length > HOLD_LIMIT && !this.#pausedForHold) {
      this.#pausedForHold = true;
      this.#updatePause();
    }
  }

  #updatePause(): void {
    const pause = this.#pausedForBody || this.#pausedForHold;
    if (pause === this.#paused) return;
    this.#paused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  /** Reads a request head from `buf[at]`; gives the offset after it, or -1 when it needs more bytes or the connection rejected it. */
  #readHead(buf: Buffer, at: number): number {
    const max = this.server.maxHeaderSize;
    const len = buf.length;
    let data: Buffer;
    let start: number;
    let end: number;
    let after: number;
    if (this.#partialLen === 0) {
      // Empty lines before a request line are ignored (RFC 9112 §2.2).
      while (at + 1 < len && buf[at] === 13 && buf[at + 1] === 10) at += 2;
      if (at === len) return -1;
      if (this.#timer !== T_HEADER) this.#armHeader(this.server.coarseNow);
      end = buf.indexOf(CRLFCRLF, at);
      if (end === -1) {
        if (len - at > max) return this.#reject(TOO_LARGE);
        if (hasBareLf(buf, at, len, -1)) return this.#reject(BARE_LF);
        const partial = (this.#partial ??= Buffer.allocUnsafe(max + 4));
        buf.copy(partial, 0, at, len);
        this.#partialLen = len - at;
        return -1;
      }
      if (end - at > max) return this.#reject(TOO_LARGE);
      data = buf;
      start = at;
      after = end + 4;
    } else {
      // The head arrived in pieces: add this one (as much as the limit leaves room for) and look again.
      const partial = this.#partial!;
      const had = this.#partialLen;
      const n = Math.min(len - at, partial.length - had);
      buf.copy(partial, had, at, at + n);
      const total = had + n;
      end = partial.subarray(0, total).indexOf(CRLFCRLF, Math.max(0, had - 3));
      if (end === -1) {
        this.#partialLen = total;
        if (total > max) return this.#reject(TOO_LARGE);
        if (hasBareLf(partial, had, total, had > 0 ? partial[had - 1] : -1)) return this.#reject(BARE_LF);
        return -1;
      }
      if (end > max) return this.#reject(TOO_LARGE);
      data = partial;
      start = 0;
      after = at + (end + 4 - had);
      this.#partialLen = 0;
      // Most connections never need it again: an idle one should not keep max_header_size around.
      this.#partial = undefined;
    }
    const parser = this.#parser;
    if (!parser.parse(data.toString('latin1', start, end))) return this.#reject(parser.failure!);
    this.#start(parser);
    return after;
  }

  /** A request head was parsed: set up its body and hand it over. */
  #start(p: HeadParser): void {
    this.served++;
    const chunked = p.chunked;
    const length = p.contentLength;
    const hasBody = chunked || length > 0;
    const req = new Http1Request(this, p.method, p.url, p.target, p.minor === 1 ? '1.1' : '1.0', p.headers, hasBody, p.keepAlive, p.expectContinue, p.head, p.fieldsStart);
    this.#request = req;
    if (hasBody) {
      this.#state = ST_BODY;
      this.#reading = req;
      if (chunked) this.#chunks = new ChunkedDecoder(this.server.maxHeaderSize);
      else this.#bodyLeft = length;
      const body = new RequestBody(this, req);
      req.body = body;
      this.#body = body;
      // The whole request, head and body, within timeouts.request of its first byte.
      const requestMs = this.server.options.requestMs;
      this.#arm(T_REQUEST, requestMs, this.#headStart);
    } else {
      this.#state = ST_BUSY;
      this.#arm(T_NONE, 0, 0);
    }
    this.server.sink.handle(req);
  }

  #readBody(buf: Buffer, at: number): number {
    const chunks = this.#chunks;
    if (chunks === undefined) {
      const n = Math.min(this.#bodyLeft, buf.length - at);
      this.#bodyLeft -= n;
      this.bodyData(at === 0 && n === buf.length ? buf : buf.subarray(at, at + n));
      at += n;
      if (this.#bodyLeft === 0) this.#bodyDone();
      return at;
    }
    const next = chunks.decode(buf, at, this);
    if (next < 0) {
      this.#rejectInProgress(chunks.failure!);
      return -1;
    }
    if (chunks.done) this.#bodyDone();
    return next;
  }

  /** Request body bytes (BodySink): to the body stream, or dropped. */
  bodyData(chunk: Buffer): void {
    const body = this.#body;
    if (body !== undefined && !body.push(chunk) && !this.#pausedForBody) {
      this.#pausedForBody = true;
      this.#updatePause();
    }
  }

  /** The body's reader wants more. */
  bodyWanted(req: Http1Request): void {
    if (req.expectContinue && !req.continueSent && !req.headersSent && this.#reading === req && this.#state === ST_BODY) {
      req.continueSent = true;
      this.socket.write(CONTINUE, 'latin1');
    }
    if (this.#pausedForBody && this.#reading === req) {
      this.#pausedForBody = false;
      this.#updatePause();
    }
  }

  #bodyDone(): void {
    const req = this.#reading!;
    this.#reading = undefined;
    this.#chunks = undefined;
    req.bodyComplete = true;
    this.#arm(T_NONE, 0, 0);
    const body = this.#body;
    this.#body = undefined;
    body?.push(null);
    if (this.#pausedForBody) {
      this.#pausedForBody = false;
      this.#updatePause();
    }
    if (this.#request === req) this.#state = ST_BUSY;
    else this.#next(); // its response has ended already
  }

  /** The body will not be read to its end: the client left or the request was rejected. */
  #abortBody(): void {
    const req = this.#reading;
    const body = this.#body;
    this.#reading = undefined;
    this.#body = undefined;
    this.#chunks = undefined;
    if (req !== undefined) req.uploadAborted = true;
    if (body !== undefined) {
      body.emit('aborted');
      body.destroy();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Responses

  /** May the response to `req` keep the connection open? Decided when its head is written. */
  keepAliveAllowed(req: Http1Request): boolean {
    if (!req.keepAliveWanted || this.server.draining || this.#clientEnded || this.#state >= ST_CLOSING) return false;
    const max = this.server.options.maxRequestsPerConnection;
    if (max > 0 && this.served >= max) return false;
    if (!req.bodyComplete) {
      // The rest of the body would have to be read and dropped: only when its length is known and small.
      if (this.#reading !== req || this.#chunks !== undefined || this.#bodyLeft > DISCARD_LIMIT) return false;
      // A client waiting for 100 Continue may never send it.
      if (req.expectContinue && !req.continueSent) return false;
    }
    return true;
  }

  /**
   * Writes `prefix` (latin1), `chunk` and `suffix` (latin1) as one write: copied together when
   * small, else one writev. Sets `holding`: the socket still references `chunk` (not all of it
   * reached the kernel at once), so its memory must not be reused yet.
   */
  send(prefix: string, chunk: Uint8Array, suffix: string): boolean {
    const socket = this.socket;
    let ok: boolean;
    if (prefix.length === 0 && suffix.length === 0) ok = socket.write(chunk);
    else if (chunk.length <= COALESCE_MAX) {
      const out = Buffer.allocUnsafe(prefix.length + chunk.length + suffix.length);
      let at = out.write(prefix, 0, 'latin1');
      out.set(chunk, at);
      at += chunk.length;
      if (suffix.length > 0) out.write(suffix, at, 'latin1');
      this.holding = false;
      return socket.write(out);
    } else {
      socket.cork();
      socket.write(prefix, 'latin1');
      socket.write(chunk);
      if (suffix.length > 0) socket.write(suffix, 'latin1');
      socket.uncork();
      ok = !socket.writableNeedDrain;
    }
    this.holding = socket.writableLength > 0;
    return ok;
  }

  sendText(text: string): boolean {
    return this.socket.write(text, 'latin1');
  }

  /** `req`'s response was written to its end. */
  responseEnded(req: Http1Request, keepAlive: boolean): void {
    if (this.#request === req) this.#request = undefined;
    if (this.socket.writableLength === 0) req.finish(true);
    else {
      (this.#flushing ??= []).push(req);
      this.socket.write(EMPTY, this.#onFlushed);
    }
    if (!keepAlive || this.#state >= ST_CLOSING) {
      this.#close();
      return;
    }
    if (this.#state === ST_BODY) {
      // The rest of the body is read and dropped; the next request comes after it.
      const body = this.#body;
      this.#body = undefined;
      body?.destroy();
      if (this.#pausedForBody) {
        this.#pausedForBody = false;
        this.#updatePause();
      }
      return;
    }
    this.#next();
  }

  /** The response in progress ended and the request was read: on to the next request, if any has arrived. */
  #next(): void {
    this.#state = ST_HEAD;
    if (this.socket.writableNeedDrain) {
      // The client is behind on the responses already written: take no new request before it catches up.
      this.#waitDrain = true;
      this.#arm(T_NONE, 0, 0);
      return;
    }
    const held = this.#held;
    if (held === undefined) {
      if (this.#clientEnded) this.#close();
      else this.#arm(T_KEEPALIVE, this.server.options.keepaliveMs, this.server.coarseNow);
      return;
    }
    this.#armHeader(this.server.coarseNow);
    // Within #process, the loop goes on with its buffer (nothing was held after this request).
    if (this.#processing) return;
    this.#held = undefined;
    this.#process(held, 0);
    const rest = this.#held as Buffer | undefined; // what the next response in turn holds back
    if (this.#pausedForHold && (rest === undefined || rest.length <= HOLD_LIMIT)) {
      this.#pausedForHold = false;
      this.#updatePause();
    }
  }

  #onDrain(): void {
    if (this.#waitDrain) {
      this.#waitDrain = false;
      if (this.#state === ST_HEAD) this.#next();
    }
    this.#request?.listener?.onDrain();
  }

  /** Ends the connection after what was written: no more requests; the client's further bytes are read and dropped until it closes. */
  #close(): void {
    if (this.#state >= ST_CLOSING) return;
    this.#state = ST_CLOSING;
    this.#held = undefined;
    this.#partialLen = 0;
    if (this.#reading !== undefined) {
      const body = this.#body;
      this.#reading = undefined;
      this.#body = undefined;
      this.#chunks = undefined;
      body?.destroy();
    }
    this.#pausedForBody = false;
    this.#pausedForHold = false;
    this.#updatePause();
    this.socket.end();
    // Closing at once would reset a connection whose client is still sending (a body nobody
    // read), and the reset can destroy the response before the client has read it: linger.
    this.#lingerWritten = this.socket.bytesWritten;
    this.#arm(T_LINGER, LINGER_MS, this.server.coarseNow);
  }

  /** The current deadline has passed. */
  timedOut(now: number): void {
    switch (this.#timer) {
      case T_HEADER:
        if (this.#partialLen === 0 && this.#held === undefined && !(this.served === 0 && this.#gotBytes)) {
          // Nothing of a request arrived (a browser's preconnect, a port scan): close quietly, as nginx does.
          this.server.log.debug(
            { client: this.remoteAddress },
            `closed a connection from ${this.remoteAddress}: no request within ${this.server.headerMs} ms`,
          );
          this.socket.destroy();
        } else this.#reject(TIMED_OUT);
        break;
      case T_REQUEST:
        this.#rejectInProgress(TIMED_OUT);
        break;
      case T_KEEPALIVE:
        this.socket.destroy();
        break;
      case T_LINGER: {
        // Still sending to a slow reader: wait while it makes progress.
        const written = this.socket.bytesWritten;
        if (this.socket.writableLength > 0 && written > this.#lingerWritten) {
          this.#lingerWritten = written;
          this.#arm(T_LINGER, LINGER_MS, now);
        } else this.socket.destroy();
        break;
      }
    }
  }

  /**
   * A request that could not be read (or not in time) before it became one: answered in plain
   * text with the status that names the fault, logged and counted, and the connection closed.
   */
  #reject(f: ParseFailure): -1 {
    const body = `${f.status} ${STATUS_CODES[f.status]}: ${f.reason}\n`;
    const id = this.server.sink.rejected(this, f.status, f.reason, body.length);
    this.server.log.info(
      { client: this.remoteAddress, status: f.status, code: f.code, reason: f.reason, request_id: id },
      `rejected a request from ${this.remoteAddress}: ${f.status} ${f.reason}`,
    );
    this.#partialLen = 0;
    if (this.socket.writable) this.sendText(plainAnswer(f.status, body, `${this.server.options.requestIdHeader}: ${id}\r\n`));
    this.#close();
    return -1;
  }

  /** The request in progress failed while its body was read (too slow, malformed): that request's own log line says so. */
  #rejectInProgress(f: ParseFailure): void {
    const req = this.#reading!;
    req.rejection ??= { status: f.status, reason: f.reason };
    this.server.log.info(
      { client: this.remoteAddress, status: f.status, code: f.code, reason: f.reason },
      `rejected a request from ${this.remoteAddress}: ${f.status} ${f.reason}`,
    );
    this.#abortBody();
    if (!req.headersSent && !req.done) {
      req.takeOver();
      this.sendText(plainAnswer(f.status, `${f.status} ${STATUS_CODES[f.status]}: ${f.reason}\n`, ''));
      this.#close();
    } else this.socket.destroy();
  }

  // -------------------------------------------------------------------------------------------
  // The client's side of the connection

  #onEnd(): void {
    this.#clientEnded = true;
    switch (this.#state) {
      case ST_HEAD:
        // Nothing (or part of a head) will come: close once written out, unless pipelined requests wait their turn.
        if (this.#held === undefined && this.#request === undefined) this.#close();
        break;
      case ST_BODY:
        // The body cannot be completed any more.
        this.#abortBody();
        this.socket.destroy();
        break;
      // ST_BUSY: the response goes out, then the connection closes. ST_CLOSING: it closes once written out.
    }
  }

  #onClose(): void {
    this.#state = ST_CLOSED;
    this.#arm(T_NONE, 0, 0);
    this.server.removed(this);
    if (this.#reading !== undefined) this.#abortBody();
    const req = this.#request;
    this.#request = undefined;
    req?.finish(false);
    const flushing = this.#flushing;
    this.#flushing = undefined;
    if (flushing !== undefined) for (const r of flushing) r.finish(false);
  }
}

function plainAnswer(status: number, body: string, extra: string): string {
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** True when a Connection field value holds the "close" option. */
function hasClose(value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'close') return true;
  if (v.indexOf('close') === -1) return false;
  for (const t of v.split(',')) if (t.trim() === 'close') return true;
  return false;
}

/** One HTTP/1.x request on an Http1Connection and its response: the Downstream the request path uses. */
export class Http1Request implements Downstream {
  readonly #conn: Http1Connection;
  readonly method: string;
  readonly url: string;
  readonly target: string;
  readonly httpVersion: string;
  readonly headers: Downstream['headers'];
  readonly hasBody: boolean;
  body: RequestBody | null = null;
  uploadAborted = false;
  rejection: Rejection | undefined = undefined;
  listener: DownstreamListener | undefined = undefined;
  headersSent = false;
  done = false;
  readonly keepAliveWanted: boolean;
  readonly expectContinue: boolean;
  continueSent = false;
  /** The request body was read to its end (or there was none). */
  bodyComplete: boolean;
  #finished = false;
  #noBody = false;
  #chunked = false;
  /** Content-Length of the response; -1 without. */
  #length = -1;
  #written = 0;
  #keepAlive = false;
  #overflow = false;
  #pendingHead: string | undefined = undefined;
  /** The request head as received, for rawHeaders(). */
  readonly #requestHead: string;
  readonly #fieldsStart: number;

  constructor(
    conn: Http1Connection,
    method: string,
    url: string,
    target: string,
    httpVersion: string,
    headers: Downstream['headers'],
    hasBody: boolean,
    keepAliveWanted: boolean,
    expectContinue: boolean,
    head: string,
    fieldsStart: number,
  ) {
    this.#conn = conn;
    this.#requestHead = head;
    this.#fieldsStart = fieldsStart;
    this.method = method;
    this.url = url;
    this.target = target;
    this.httpVersion = httpVersion;
    this.headers = headers;
    this.hasBody = hasBody;
    this.bodyComplete = !hasBody;
    this.keepAliveWanted = keepAliveWanted;
    this.expectContinue = expectContinue;
  }

  rawHeaders(): readonly string[] {
    return rawHeaderFields(this.#requestHead, this.#fieldsStart);
  }

  get remoteAddress(): string {
    return this.#conn.remoteAddress;
  }
  get holding(): boolean {
    return this.#conn.holding;
  }
  get remotePort(): number {
    return this.#conn.remotePort;
  }
  get encrypted(): boolean {
    return this.#conn.encrypted;
  }
  /** An HTTP/1 connection rejects an oversized head itself (431), before there is a request. */
  get headTooLarge(): boolean {
    return false;
  }

  respond(status: number, headers: ResponseHeaders, body: Uint8Array | undefined): void {
    if (this.done || this.headersSent) return;
    this.#pendingHead = this.#head(status, headers);
    this.headersSent = true;
    if (body !== undefined && body.length > 0) this.write(body);
    this.end();
  }

  writeHead(status: number, headers: ResponseHeaders): void {
    if (this.done || this.headersSent) return;
    // Held back and sent with the first body bytes or the end (as node:http does), so that head
    // and body leave in one write.
    this.#pendingHead = this.#head(status, headers);
    this.headersSent = true;
  }

  write(chunk: Uint8Array): boolean {
    if (this.done || this.#noBody) return true;
    let n = chunk.length;
    if (n === 0) return true;
    if (this.#length >= 0 && this.#written + n > this.#length) {
      // More than the announced length would be read as the start of the next response: drop it, and close after.
      this.#overflow = true;
      n = this.#length - this.#written;
      if (n === 0) return true;
      chunk = chunk.subarray(0, n);
    }
    this.#written += n;
    const head = this.#pendingHead ?? '';
    this.#pendingHead = undefined;
    return this.#chunked ? this.#conn.send(`${head}${n.toString(16)}\r\n`, chunk, '\r\n') : this.#conn.send(head, chunk, '');
  }

  end(): void {
    if (this.done) return;
    if (!this.headersSent) {
      this.abort();
      return;
    }
    let tail = this.#pendingHead ?? '';
    this.#pendingHead = undefined;
    if (this.#chunked) tail += '0\r\n\r\n';
    if (tail.length > 0) this.#conn.sendText(tail);
    this.done = true;
    if (!this.#noBody && this.#length >= 0 && this.#written < this.#length) {
      // Shorter than announced: only an incomplete-looking connection tells the client the truth.
      this.#conn.socket.destroy();
      return;
    }
    this.#conn.responseEnded(this, this.#keepAlive && !this.#overflow);
  }

  abort(): void {
    if (this.#finished) return;
    this.done = true;
    this.#conn.socket.destroy();
  }

  /** The connection answered this request itself (a 408 while its body was read): nothing more is sent through here. */
  takeOver(): void {
    this.done = true;
    this.headersSent = true;
  }

  /** Tells the listener the exchange is over (once). */
  finish(complete: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.done = true;
    this.listener?.onEnd(complete);
  }

  /** The response head as one string; decides the body's framing and whether the connection stays open. */
  #head(status: number, headers: ResponseHeaders): string {
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`invalid response status ${status}`);
    let head = STATUS_LINES[status] ?? `HTTP/1.1 ${status} Unknown\r\n`;
    let close = false;
    let hasDate = false;
    let length = -1;
    for (const name in headers) {
      const raw = headers[name];
      if (raw === undefined) continue;
      const kind = fieldNameKind(name);
      if (kind === 0) throw new TypeError(`invalid response header name "${name.slice(0, 40)}"`);
      const key = kind === 1 ? name : name.toLowerCase();
      const value = typeof raw === 'string' || Array.isArray(raw) ? raw : String(raw);
      switch (key) {
        case 'connection':
          // frontline decides the connection's fate; a "close" asked for by the reply is kept.
          if (typeof value === 'string' ? hasClose(value) : value.some(hasClose)) close = true;
          continue;
        case 'keep-alive':
        case 'transfer-encoding':
        case 'proxy-connection':
          continue;
        case 'content-length':
          length = typeof value === 'string' ? parseLength(value) : -1;
          if (length === -1) throw new TypeError(`invalid response content-length "${String(raw).slice(0, 40)}"`);
          break;
        case 'date':
          hasDate = true;
          break;
      }
      if (typeof value === 'string') {
        if (!isFieldValue(value)) throw new TypeError(`invalid characters in the value of response header "${name}"`);
        head += `${name}: ${value}\r\n`;
      } else {
        for (const v of value) {
          if (!isFieldValue(v)) throw new TypeError(`invalid characters in the value of response header "${name}"`);
          head += `${name}: ${v}\r\n`;
        }
      }
    }
    const noBody = this.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    let chunked = false;
    if (!noBody && length === -1) {
      // Without a length: chunked for HTTP/1.1, until the connection closes for HTTP/1.0.
      if (this.httpVersion === '1.1') chunked = true;
      else close = true;
    }
    const conn = this.#conn;
    const keepAlive = !close && conn.keepAliveAllowed(this);
    if (chunked) head += 'transfer-encoding: chunked\r\n';
    head += keepAlive ? conn.server.keepAliveLines : 'connection: close\r\n';
    if (!hasDate) head += `date: ${httpDate()}\r\n`;
    this.#noBody = noBody;
    this.#chunked = chunked;
    this.#length = noBody ? -1 : length;
    this.#keepAlive = keepAlive;
    return `${head}\r\n`;
  }
}

/** A request body as a stream: what the connection reads of it, for the origin client to read in turn. */
class RequestBody extends Readable {
  readonly #conn: Http1Connection;
  readonly #req: Http1Request;

  constructor(conn: Http1Connection, req: Http1Request) {
    super({ highWaterMark: BODY_HIGH_WATER_MARK });
    this.#conn = conn;
    this.#req = req;
  }

  override _read(): void {
    this.#conn.bodyWanted(this.#req);
  }
}
