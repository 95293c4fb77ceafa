// frontline's own HTTP/1.1 client for origins: a keep-alive connection pool per origin server.
// A general-purpose client spends more per request than the rest of the proxy together
// (measured: node:http + undici ≈ 75 µs/request, node:http + this design ≈ 40 µs). This one does
// only what a proxy needs: write one request head as one string, parse the response head with
// indexOf on a latin1 view, frame the body (Content-Length, chunked, or until close), hand body
// slices to the handler without copying, and pause the socket when the handler asks. A plain
// connection reads into one buffer of its own, reused read after read (net's `onread`), unless
// the handler kept the last slice: a 60 KB response then costs no allocation, and no garbage
// collection that external memory would trigger.
import { lowerFieldName } from '../headers.ts';
import net from 'node:net';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { isFieldValue, isToken } from '../http1/parse.ts';

/** One request as the proxy sends it. Header names are lower case; values were validated by the caller's parser or are checked here. */
export interface OriginRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Readable | null;
}

/** The handle a handler gets for the request it handles. */
export interface RequestController {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
  /**
   * The chunk last given to onResponseData is still referenced after that call returned (queued
   * for a slow client, held by a stream): the memory under it must not be reused for the next read.
   */
  keep(): void;
}

/**
 * Receives one exchange's events, in this order: start, response start, data*, end — or error
 * (at most once, and nothing after). The response headers are end-to-end only: hop-by-hop
 * fields (RFC 9110 §7.6.1) are never handed over, since a proxy must not forward them.
 */
export interface ResponseHandler {
  /** The request is about to be written on a connection: from here on it may have reached the origin. */
  onRequestStart(controller: RequestController): void;
  onResponseStart(controller: RequestController, status: number, headers: Record<string, string | string[]>): void;
  /** `chunk` is valid during this call only, unless the handler calls controller.keep(). */
  onResponseData(controller: RequestController, chunk: Buffer): void;
  onResponseEnd(controller: RequestController): void;
  onResponseError(controller: RequestController, err: Error): void;
}

export interface Http1PoolOptions {
  /** Most connections open at once; requests beyond wait in a queue. */
  connections: number;
  /** Close a connection left unused this long. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /** From the request written to the response head received. */
  firstByteTimeoutMs: number;
  /** Longest pause between body bytes. */
  bodyIdleTimeoutMs: number;
  /** Largest response head accepted (default 64 KiB). */
  maxHeadSize?: number;
}

export interface PoolStats {
  connected: number;
  free: number;
  pending: number;
  running: number;
  size: number;
}

/** Failures this client names itself; system errors (ECONNREFUSED, ...) keep their own codes. */
export type OriginErrorCode =
  | 'FL_CONNECT_TIMEOUT'
  | 'FL_FIRST_BYTE_TIMEOUT'
  | 'FL_BODY_TIMEOUT'
  | 'FL_BAD_RESPONSE'
  | 'FL_CLOSED_EARLY'
  | 'FL_BAD_HEADER'
  | 'FL_POOL_CLOSED';

export class OriginError extends Error {
  readonly code: OriginErrorCode;
  constructor(code: OriginErrorCode, message: string) {
    super(message);
    this.name = 'OriginError';
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Timeouts: one coarse clock for every connection. Re-arming a Node timer per request and per
// phase allocates; a sweep every TICK_MS over live connections costs a few compares each.

const TICK_MS = 50;
const live = new Set<Connection>();
let coarseNow = performance.now();
let ticker: NodeJS.Timeout | undefined;

function track(conn: Connection): void {
  live.add(conn);
  if (ticker === undefined) {
    coarseNow = performance.now();
    ticker = setInterval(sweep, TICK_MS);
    ticker.unref();
  }
}

function untrack(conn: Connection): void {
  live.delete(conn);
  if (live.size === 0 && ticker !== undefined) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

function sweep(): void {
  coarseNow = performance.now();
  for (const conn of live) conn.checkDeadline(coarseNow);
}

const TIMER_NONE = 0;
const TIMER_CONNECT = 1;
const TIMER_FIRST_BYTE = 2;
const TIMER_BODY = 3;
const TIMER_IDLE = 4;

// Response parser states.
const S_IDLE = 0;
const S_HEAD = 1;
const S_BODY_LENGTH = 2;
const S_BODY_CLOSE = 3;
const S_CHUNK_SIZE = 4;
const S_CHUNK_DATA = 5;
const S_CHUNK_DATA_END = 6;
const S_TRAILERS = 7;

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** Size of a plain connection's read buffer (what Node reads at once). */
const READ_SIZE = 64 * 1024;

/** Response header names that nearly every response carries, as origins spell them, by length. */
const COMMON_NAMES: [string, string][][] = [];
for (const name of [
  'Date', 'ETag', 'Vary', 'Server', 'Expires', 'Location', 'Connection', 'Keep-Alive', 'Set-Cookie', 'Content-Type',
  'Last-Modified', 'Accept-Ranges', 'Cache-Control', 'Content-Length', 'Content-Encoding', 'Transfer-Encoding',
]) {
  (COMMON_NAMES[name.length] ??= []).push([name, name.toLowerCase()]);
}

/** The lower-case name of the field at text[start, start + len): a common one is matched in place (no slice, no hashing). */
function fieldName(text: string, start: number, len: number): string {
  const common = COMMON_NAMES[len];
  if (common !== undefined) {
    for (const [canonical, lowerCase] of common) {
      if (text.startsWith(canonical, start) || text.startsWith(lowerCase, start)) return lowerCase;
    }
  }
  return lowerFieldName(text.slice(start, start + len));
}

/** A Content-Length value: 1 to 15 digits, else -1. */
function parseLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The per-request controller: a request's own handle, so a late call after it ended touches nothing else. */
class Attempt implements RequestController {
  readonly pool: Http1Pool;
  readonly request: OriginRequest;
  readonly handler: ResponseHandler;
  conn: Connection | undefined = undefined;
  paused = false;
  finished = false;
  /** A reused connection failed before any response byte: this request was retried once on a new one. */
  retried = false;

  constructor(pool: Http1Pool, request: OriginRequest, handler: ResponseHandler) {
    this.pool = pool;
    this.request = request;
    this.handler = handler;
  }

  pause(): void {
    if (this.finished || this.paused) return;
    this.paused = true;
    this.conn?.socket.pause();
  }

  resume(): void {
    if (this.finished || !this.paused) return;
    this.paused = false;
    this.conn?.resumeParsing();
  }

  keep(): void {
    this.conn?.keepReadBuffer();
  }

  abort(reason: Error): void {
    if (this.finished) return;
    const conn = this.conn;
    if (conn !== undefined) conn.fail(reason, false);
    else {
      // Still queued: the queue skips finished attempts.
      this.finished = true;
      this.handler.onResponseError(this, reason);
    }
  }
}

class Connection {
  readonly pool: Http1Pool;
  readonly socket: net.Socket;
  connected = false;
  /** Requests completed on this connection (a reused connection may have been closed by the origin meanwhile). */
  served = 0;
  attempt: Attempt | undefined = undefined;
  /** Why the connection could not be made, for the request that was waiting for it. */
  connectError: Error | undefined = undefined;
  #timer = TIMER_NONE;
  #timerStart = 0;
  #timerMs = 0;

  // Parser state.
  #state = S_IDLE;
  #head: Buffer | undefined = undefined;
  #remaining = 0;
  #keepAlive = true;
  #noBody = false;
  #gotBytes = false;
  /** Bytes received while the handler had paused delivery. */
  #pending: Buffer | undefined = undefined;
  #parsing = false;
  /** The origin ended the connection while bytes were held back for a paused handler. */
  #ended = false;
  /** The request body is still being written: an early response leaves the connection unusable. */
  #uploading = false;
  /** Where the next read lands (plain connections); replaced when a handler kept a slice of it. */
  #readBuffer: Buffer | undefined = undefined;

  constructor(pool: Http1Pool, connect: (conn: Connection) => net.Socket) {
    this.pool = pool;
    const socket = connect(this);
    this.socket = socket;
    socket.setNoDelay(true);
    // TLS connections deliver fresh buffers through 'data'.
    if (socket instanceof tls.TLSSocket) socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: Error) => {
      if (!this.connected) this.connectError = err;
      this.fail(err, true);
    });
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      this.#timer = TIMER_NONE;
      pool.release(this);
    });
    socket.on('close', () => this.#onClose());
    track(this);
    this.#arm(TIMER_CONNECT, pool.options.connectTimeoutMs);
  }

  #arm(kind: number, ms: number): void {
    this.#timer = ms > 0 ? kind : TIMER_NONE;
    this.#timerStart = coarseNow;
    this.#timerMs = ms;
  }

  checkDeadline(now: number): void {
    // The start was read from the coarse clock, up to one tick early: wait a tick more rather than fire early.
    if (this.#timer === TIMER_NONE || now - this.#timerStart < this.#timerMs + TICK_MS) return;
    switch (this.#timer) {
      case TIMER_CONNECT:
        this.connectError = new OriginError('FL_CONNECT_TIMEOUT', `connecting to ${this.pool.origin} took longer than ${this.#timerMs} ms`);
        this.fail(this.connectError, true);
        break;
      case TIMER_FIRST_BYTE:
        this.fail(new OriginError('FL_FIRST_BYTE_TIMEOUT', `${this.pool.origin} sent no response head within ${this.#timerMs} ms`), false);
        break;
      case TIMER_BODY:
        this.fail(new OriginError('FL_BODY_TIMEOUT', `${this.pool.origin} sent no body bytes for ${this.#timerMs} ms`), false);
        break;
      case TIMER_IDLE:
        this.#timer = TIMER_NONE;
        this.pool.drop(this);
        this.socket.destroy();
        break;
    }
  }

  /** Writes `attempt`'s request on this (connected, idle) connection. */
  start(attempt: Attempt): void {
    this.attempt = attempt;
    attempt.conn = this;
    this.#state = S_HEAD;
    this.#head = undefined;
    this.#gotBytes = false;
    this.#keepAlive = true;
    const req = attempt.request;
    this.#noBody = req.method === 'HEAD';
    let head: string;
    try {
      head = serializeHead(req);
    } catch (err) {
      this.attempt = undefined;
      attempt.conn = undefined;
      this.#state = S_IDLE;
      attempt.finished = true;
      attempt.handler.onResponseError(attempt, err as Error);
      this.pool.release(this);
      return;
    }
    attempt.handler.onRequestStart(attempt);
    if (attempt.finished) return; // aborted from onRequestStart
    const body = req.body;
    if (body === null) {
      this.socket.write(head, 'latin1');
      this.#arm(TIMER_FIRST_BYTE, this.pool.options.firstByteTimeoutMs);
      return;
    }
    const chunked = req.headers['content-length'] === undefined;
    this.socket.write(chunked ? head.slice(0, -2) + 'transfer-encoding: chunked\r\n\r\n' : head, 'latin1');
    this.#arm(TIMER_BODY, this.pool.options.bodyIdleTimeoutMs);
    this.#sendBody(attempt, body, chunked);
  }

  #sendBody(attempt: Attempt, body: Readable, chunked: boolean): void {
    const socket = this.socket;
    this.#uploading = true;
    const onData = (chunk: Buffer | string) => {
      if (this.attempt !== attempt) return;
      this.#timerStart = coarseNow;
      const len = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (len === 0) return;
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(len.toString(16) + '\r\n', 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else ok = socket.write(chunk);
      if (!ok) {
        body.pause();
        socket.once('drain', () => body.resume());
      }
    };
    const cleanup = () => {
      if (this.attempt === attempt || this.attempt === undefined) this.#uploading = false;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('aborted', onAborted);
    };
    const onEnd = () => {
      cleanup();
      if (this.attempt !== attempt) return;
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      // The origin may answer before the upload ends; then the head timer must not restart.
      if (this.#state === S_HEAD && !this.#gotBytes) this.#arm(TIMER_FIRST_BYTE, this.pool.options.firstByteTimeoutMs);
    };
    const onError = (err: Error) => {
      cleanup();
      if (this.attempt === attempt) this.fail(err, false);
    };
    const onAborted = () => onError(new Error('the client aborted the request body'));
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('aborted', onAborted);
  }

  /** The buffer the next read goes into (net's onread). */
  readBuffer(): Buffer {
    return (this.#readBuffer ??= Buffer.allocUnsafeSlow(READ_SIZE));
  }

  /** A read landed in readBuffer() (net's onread). */
  onRead(bytes: number, buf: Buffer): boolean {
    this.#onData(bytes === buf.length ? buf : buf.subarray(0, bytes));
    return true;
  }

  /** A handler kept a slice of the current read buffer: the next read goes into a new one. */
  keepReadBuffer(): void {
    this.#readBuffer = undefined;
  }

  /** Continue after the handler resumed: parse what arrived while paused, then read again. */
  resumeParsing(): void {
    if (this.#parsing) return;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) this.#parse(pending, 0);
    if (this.#pending === undefined && this.#ended) {
      this.#ended = false;
      this.#onEnd();
      return;
    }
    if (this.attempt !== undefined && !this.attempt.paused) this.socket.resume();
  }

  #onData(chunk: Buffer): void {
    const attempt = this.attempt;
    if (attempt === undefined) {
      // Bytes on an idle connection: the origin is out of step with us; never reuse it.
      this.pool.drop(this);
      this.socket.destroy();
      return;
    }
    this.#gotBytes = true;
    if (attempt.paused) {
      // Copied: the read buffer is reused.
      this.#pending = this.#pending === undefined ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
      return;
    }
    this.#parse(chunk, 0);
  }

  #parse(buf: Buffer, at: number): void {
    this.#parsing = true;
    try {
      this.#parseLoop(buf, at);
    } finally {
      this.#parsing = false;
    }
  }

  #parseLoop(buf: Buffer, at: number): void {
    const len = buf.length;
    while (at < len) {
      const attempt = this.attempt;
      if (attempt === undefined || attempt.finished) return;
      if (attempt.paused) {
        // Copied: the read buffer is reused.
        this.#pending = Buffer.from(buf.subarray(at));
        this.socket.pause();
        return;
      }
      switch (this.#state) {
        case S_HEAD: {
          at = this.#parseHead(buf, at);
          if (at < 0) return;
          break;
        }
        case S_BODY_LENGTH: {
          const n = Math.min(this.#remaining, len - at);
          this.#remaining -= n;
          this.#timerStart = coarseNow;
          attempt.handler.onResponseData(attempt, at === 0 && n === len ? buf : buf.subarray(at, at + n));
          at += n;
          if (this.#remaining === 0) {
            this.#complete(at < len);
            return;
          }
          break;
        }
        case S_BODY_CLOSE: {
          this.#timerStart = coarseNow;
          attempt.handler.onResponseData(attempt, at === 0 ? buf : buf.subarray(at));
          return;
        }
        case S_CHUNK_SIZE: {
          const eol = buf.indexOf(10, at);
          if (eol === -1) return this.#hold(buf, at, 'chunk size line');
          const line = this.#takeLine(buf, at, eol);
          at = eol + 1;
          const semi = line.indexOf(';');
          const hex = (semi === -1 ? line : line.slice(0, semi)).trim();
          const size = hex.length > 0 && hex.length <= 12 ? Number(`0x${hex}`) : NaN;
          if (!Number.isInteger(size) || hex.charCodeAt(0) === 43 /* + */) return this.#bad(`invalid chunk size "${hex.slice(0, 20)}"`);
          if (size === 0) this.#state = S_TRAILERS;
          else {
            this.#remaining = size;
            this.#state = S_CHUNK_DATA;
          }
          break;
        }
        case S_CHUNK_DATA: {
          const n = Math.min(this.#remaining, len - at);
          this.#remaining -= n;
          this.#timerStart = coarseNow;
          attempt.handler.onResponseData(attempt, buf.subarray(at, at + n));
          at += n;
          if (this.#remaining === 0) this.#state = S_CHUNK_DATA_END;
          break;
        }
        case S_CHUNK_DATA_END: {
          const eol = buf.indexOf(10, at);
          if (eol === -1) return this.#hold(buf, at, 'chunk end');
          const line = this.#takeLine(buf, at, eol);
          if (line !== '') return this.#bad('chunk data longer than its size');
          at = eol + 1;
          this.#state = S_CHUNK_SIZE;
          break;
        }
        case S_TRAILERS: {
          // Trailer fields are dropped: the client response has already committed its head.
          const eol = buf.indexOf(10, at);
          if (eol === -1) return this.#hold(buf, at, 'trailer');
          const line = this.#takeLine(buf, at, eol);
          at = eol + 1;
          if (line === '') {
            this.#complete(at < len);
            return;
          }
          break;
        }
        default:
          return this.#bad('bytes after the response');
      }
    }
  }

  /** Keeps a partial line for the next read; lines are short, so a bound guards against a stream of garbage. */
  #hold(buf: Buffer, at: number, what: string): void {
    const rest = buf.subarray(at);
    const held = this.#head === undefined ? rest : Buffer.concat([this.#head, rest]);
    if (held.length > 4096) return this.#bad(`${what} longer than 4096 bytes`);
    this.#head = Buffer.from(held);
  }

  /** The line ending at `eol` (a LF), with any held prefix, without its CR LF. */
  #takeLine(buf: Buffer, at: number, eol: number): string {
    let line = buf.toString('latin1', at, eol);
    if (this.#head !== undefined) {
      line = this.#head.toString('latin1') + line;
      this.#head = undefined;
    }
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }

  /** Returns the offset after the head, or -1 when it needs more bytes or failed. */
  #parseHead(buf: Buffer, at: number): number {
    let data = buf;
    let start = at;
    const heldLen = this.#head === undefined ? 0 : this.#head.length;
    if (this.#head !== undefined) {
      data = Buffer.concat([this.#head, buf.subarray(at)]);
      start = 0;
    }
    const end = data.indexOf(CRLFCRLF, start);
    const max = this.pool.options.maxHeadSize ?? 65536;
    if (end === -1) {
      if (data.length - start > max) this.#bad(`response head larger than ${max} bytes`);
      else this.#head = data === buf ? Buffer.from(buf.subarray(at)) : data;
      return -1;
    }
    if (end - start > max) {
      this.#bad(`response head larger than ${max} bytes`);
      return -1;
    }
    // Offset in `buf` just past the head (data = held bytes + buf[at..] when a head spanned reads).
    const consumedFromBuf = heldLen === 0 ? end + 4 : at + end + 4 - heldLen;
    this.#head = undefined;
    const text = data.toString('latin1', start, end);
    const attempt = this.attempt!;
    // Status line: HTTP/1.x SP 3DIGIT [SP reason]
    if (text.length < 12 || !text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32) {
      this.#bad(`not an HTTP/1.x status line: "${text.slice(0, 40)}"`);
      return -1;
    }
    const minor = text.charCodeAt(7) - 48;
    const status = (text.charCodeAt(9) - 48) * 100 + (text.charCodeAt(10) - 48) * 10 + (text.charCodeAt(11) - 48);
    if ((minor !== 0 && minor !== 1) || !(status >= 100 && status <= 999) || (text.length > 12 && text.charCodeAt(12) !== 32)) {
      this.#bad(`not an HTTP/1.x status line: "${text.slice(0, 40)}"`);
      return -1;
    }
    const headers: Record<string, string | string[]> = {};
    let contentLength = -1;
    let chunked = false;
    let teOther = false;
    let connClose = minor === 0;
    let listed: string[] | undefined;
    let pos = text.indexOf('\r\n');
    while (pos !== -1) {
      const lineStart = pos + 2;
      const next = text.indexOf('\r\n', lineStart);
      const lineEnd = next === -1 ? text.length : next;
      pos = next;
      const colon = text.indexOf(':', lineStart);
      if (colon === -1 || colon >= lineEnd || colon === lineStart) {
        this.#bad(`malformed header line "${text.slice(lineStart, Math.min(lineEnd, lineStart + 40))}"`);
        return -1;
      }
      const c0 = text.charCodeAt(lineStart);
      const cLast = text.charCodeAt(colon - 1);
      // obs-fold and whitespace before the colon are invalid in a response (RFC 9112 §5.1, §5.2).
      if (c0 === 32 || c0 === 9 || cLast === 32 || cLast === 9) {
        this.#bad('header line with folding or whitespace before the colon');
        return -1;
      }
      const name = fieldName(text, lineStart, colon - lineStart);
      let vs = colon + 1;
      let ve = lineEnd;
      while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
      while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
      const value = text.slice(vs, ve);
      switch (name) {
        case 'content-length': {
          const n = parseLength(value);
          if (n === -1 || (contentLength !== -1 && contentLength !== n)) {
            this.#bad(`invalid Content-Length "${value.slice(0, 20)}"`);
            return -1;
          }
          contentLength = n;
          break;
        }
        case 'transfer-encoding': {
          // Only the final coding frames the body (RFC 9112 §6.3).
          const last = value.slice(value.lastIndexOf(',') + 1).trim().toLowerCase();
          chunked = last === 'chunked';
          teOther = !chunked;
          continue;
        }
        case 'connection': {
          const v = value.toLowerCase();
          if (v.includes('close')) connClose = true;
          else if (minor === 0 && v.includes('keep-alive')) connClose = false;
          if (v !== 'close' && v !== 'keep-alive') (listed ??= []).push(v);
          continue;
        }
        case 'keep-alive':
        case 'proxy-connection':
        case 'trailer':
        case 'upgrade':
        case 'proxy-authenticate':
          continue;
      }
      const prior = headers[name];
      if (prior === undefined) headers[name] = value;
      else if (typeof prior === 'string') headers[name] = [prior, value];
      else prior.push(value);
    }
    // Fields named in Connection are hop-by-hop too (RFC 9110 §7.6.1); rare, so a second pass is fine.
    if (listed !== undefined) {
      for (const v of listed) for (const t of v.split(',')) delete headers[t.trim()];
    }
    if (status < 200) {
      // Interim responses (100 Continue, 103 Early Hints) are not forwarded; 101 needs an upgrade path frontline does not offer.
      if (status === 101) {
        this.#bad('the origin switched protocols (101), which frontline does not proxy');
        return -1;
      }
      return consumedFromBuf;
    }
    this.#keepAlive = !connClose;
    // With Transfer-Encoding, Content-Length is not the body's length (RFC 9112 §6.3): never pass it on.
    if ((chunked || teOther) && contentLength !== -1) delete headers['content-length'];
    const noBody = this.#noBody || status === 204 || status === 304;
    if (noBody) this.#state = S_IDLE;
    else if (chunked) this.#state = S_CHUNK_SIZE;
    else if (teOther || contentLength === -1) {
      this.#state = S_BODY_CLOSE;
      this.#keepAlive = false;
    } else if (contentLength === 0) this.#state = S_IDLE;
    else {
      this.#state = S_BODY_LENGTH;
      this.#remaining = contentLength;
    }
    this.#arm(TIMER_BODY, this.pool.options.bodyIdleTimeoutMs);
    attempt.handler.onResponseStart(attempt, status, headers);
    if (attempt.finished) return -1;
    if (this.#state === S_IDLE) {
      this.#complete(consumedFromBuf < buf.length);
      return -1;
    }
    return consumedFromBuf;
  }

  /** The response is complete. `extra`: bytes followed it, so the connection cannot be trusted again. */
  #complete(extra: boolean): void {
    const attempt = this.attempt!;
    this.attempt = undefined;
    attempt.conn = undefined;
    attempt.finished = true;
    this.#state = S_IDLE;
    this.served++;
    // A handler that paused on the last chunk must not leave the socket paused for the next request.
    if (attempt.paused) this.socket.resume();
    // An origin may answer before the upload ends (e.g. 413): the rest of the body would then be
    // read as the next request, so such a connection is closed, never reused.
    if (this.#keepAlive && !extra && !this.#uploading && !this.pool.closing) {
      this.#arm(TIMER_IDLE, this.pool.options.idleTimeoutMs);
      this.pool.release(this);
    } else {
      this.#timer = TIMER_NONE;
      this.pool.drop(this);
      this.socket.destroy();
    }
    attempt.handler.onResponseEnd(attempt);
  }

  #bad(reason: string): void {
    this.fail(new OriginError('FL_BAD_RESPONSE', `invalid response from ${this.pool.origin}: ${reason}`), false);
  }

  #onEnd(): void {
    if (this.attempt !== undefined && this.#pending !== undefined) {
      // Bytes held back for a paused handler may complete the response: decide after they are delivered.
      this.#ended = true;
      return;
    }
    if (this.attempt !== undefined && this.#state === S_BODY_CLOSE) {
      this.#keepAlive = false;
      this.#complete(false);
      return;
    }
    if (this.attempt === undefined) {
      this.pool.drop(this);
      this.socket.destroy();
      return;
    }
    this.fail(
      new OriginError(
        'FL_CLOSED_EARLY',
        this.#state === S_HEAD
          ? `${this.pool.origin} closed the connection before sending a response`
          : `${this.pool.origin} closed the connection before the response body was complete`,
      ),
      true,
    );
  }

  /** Ends this connection; the request on it, if any, fails with `err` (or is retried once, see below). */
  fail(err: Error, fromSocket: boolean): void {
    this.#timer = TIMER_NONE;
    const attempt = this.attempt;
    this.attempt = undefined;
    this.pool.drop(this);
    this.socket.destroy();
    if (attempt === undefined || attempt.finished) return;
    attempt.conn = undefined;
    // A kept-alive connection the origin closed as we reused it: nothing reached the origin's
    // application, so a bodyless request goes again on a new connection (as browsers do).
    if (fromSocket && this.served > 0 && !this.#gotBytes && attempt.request.body === null && !attempt.retried) {
      attempt.retried = true;
      this.pool.requeue(attempt);
      return;
    }
    attempt.finished = true;
    attempt.handler.onResponseError(attempt, err);
  }

  #onClose(): void {
    untrack(this);
    if (this.attempt !== undefined) this.fail(new OriginError('FL_CLOSED_EARLY', `connection to ${this.pool.origin} closed`), true);
    this.pool.closed(this);
  }
}

function serializeHead(req: OriginRequest): string {
  let head = req.method + ' ' + req.path + ' HTTP/1.1\r\n';
  const headers = req.headers;
  for (const name in headers) {
    const value = headers[name];
    if (!isToken(name)) throw new OriginError('FL_BAD_HEADER', `invalid header name "${name.slice(0, 40)}" for the origin request`);
    if (typeof value === 'string') {
      if (!isFieldValue(value)) throw new OriginError('FL_BAD_HEADER', `invalid characters in the value of header "${name}"`);
      head += name + ': ' + value + '\r\n';
    } else {
      for (const v of value) {
        if (!isFieldValue(v)) throw new OriginError('FL_BAD_HEADER', `invalid characters in the value of header "${name}"`);
        head += name + ': ' + v + '\r\n';
      }
    }
  }
  return head + '\r\n';
}

export class Http1Pool {
  readonly origin: string;
  readonly options: Http1PoolOptions;
  readonly #connect: (conn: Connection) => net.Socket;
  /** Idle connections, most recently used last (reusing the warmest one keeps fewer connections open). */
  readonly #free: Connection[] = [];
  readonly #all = new Set<Connection>();
  #queue: (Attempt | undefined)[] = [];
  #queueHead = 0;
  closing = false;
  #closed: (() => void) | undefined = undefined;

  constructor(origin: string, options: Http1PoolOptions) {
    const url = new URL(origin);
    this.origin = url.origin;
    this.options = options;
    const secure = url.protocol === 'https:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port || (secure ? 443 : 80));
    this.#connect = secure
      ? () => tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
      : (conn) =>
          net.connect({
            host,
            port,
            onread: { buffer: () => conn.readBuffer(), callback: (bytes: number, buf: Uint8Array) => conn.onRead(bytes, buf as Buffer) },
          });
  }

  dispatch(request: OriginRequest, handler: ResponseHandler): void {
    const attempt = new Attempt(this, request, handler);
    if (this.closing) {
      attempt.finished = true;
      handler.onResponseError(attempt, new OriginError('FL_POOL_CLOSED', `the pool for ${this.origin} is closed`));
      return;
    }
    const conn = this.#free.pop();
    if (conn !== undefined) conn.start(attempt);
    else {
      this.#queue.push(attempt);
      if (this.#all.size < this.options.connections) this.#open();
    }
  }

  #open(): void {
    this.#all.add(new Connection(this, this.#connect));
  }

  /** The oldest queued request not yet aborted. */
  #shift(): Attempt | undefined {
    while (this.#queueHead < this.#queue.length) {
      const a = this.#queue[this.#queueHead];
      this.#queue[this.#queueHead++] = undefined;
      if (this.#queueHead === this.#queue.length) {
        this.#queue.length = 0;
        this.#queueHead = 0;
      } else if (this.#queueHead > 1024) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      if (a !== undefined && !a.finished) return a;
    }
    return undefined;
  }

  /** A connection is ready for a request: give it the oldest waiting one, or keep it idle. */
  release(conn: Connection): void {
    if (!this.#all.has(conn)) return;
    const next = this.#shift();
    if (next !== undefined) conn.start(next);
    else if (this.closing) {
      this.drop(conn);
      conn.socket.destroy();
    } else this.#free.push(conn);
  }

  /** A request to try again, first in line (see Connection.fail). */
  requeue(attempt: Attempt): void {
    if (this.#queueHead > 0) this.#queue[--this.#queueHead] = attempt;
    else this.#queue.unshift(attempt);
    const conn = this.#free.pop();
    if (conn !== undefined) this.release(conn);
    else if (this.#all.size < this.options.connections) this.#open();
  }

  /** Forget a connection that is being closed, so it is never handed out again. */
  drop(conn: Connection): void {
    if (!this.#all.delete(conn)) return;
    const i = this.#free.lastIndexOf(conn);
    if (i !== -1) this.#free.splice(i, 1);
  }

  /** A connection's socket closed. One that never came up fails the request waiting longest, so a dead origin fails requests one for one instead of leaving them queued. */
  closed(conn: Connection): void {
    this.drop(conn);
    if (!conn.connected) {
      const waiting = this.#shift();
      if (waiting !== undefined) {
        waiting.finished = true;
        waiting.handler.onResponseError(
          waiting,
          conn.connectError ?? new OriginError('FL_CLOSED_EARLY', `could not connect to ${this.origin}`),
        );
      }
    }
    if (this.#queueHead < this.#queue.length && !this.closing && this.#all.size < this.options.connections) this.#open();
    this.#checkClosed();
  }

  get stats(): PoolStats {
    let running = 0;
    let connected = 0;
    for (const c of this.#all) {
      if (c.connected) connected++;
      if (c.attempt !== undefined) running++;
    }
    let pending = 0;
    for (let i = this.#queueHead; i < this.#queue.length; i++) if (this.#queue[i] && !this.#queue[i]!.finished) pending++;
    return { connected, free: this.#free.length, pending, running, size: pending + running };
  }

  /** Stops taking requests; resolves when the running ones have finished and every connection is closed. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.#closed = resolve;
      this.#checkClosed();
    });
  }

  /** Closes every connection now; requests on them and in the queue fail. */
  destroy(): void {
    this.closing = true;
    const err = new OriginError('FL_POOL_CLOSED', `the pool for ${this.origin} was closed`);
    for (const conn of [...this.#all]) conn.fail(err, false);
    let a: Attempt | undefined;
    while ((a = this.#shift()) !== undefined) {
      a.finished = true;
      a.handler.onResponseError(a, err);
    }
    this.#checkClosed();
  }

  #checkClosed(): void {
    if (!this.closing) return;
    for (const conn of this.#free.splice(0)) {
      this.#all.delete(conn);
      conn.socket.destroy();
    }
    if (this.#all.size === 0 && this.#closed !== undefined) {
      const done = this.#closed;
      this.#closed = undefined;
      done();
    }
  }
}
