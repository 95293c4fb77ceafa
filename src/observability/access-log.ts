// The access log: one line per finished request, as JSON or in nginx's `combined` format.
// It runs on the event loop for every request, so lines are built by string concatenation
// (measured 3x faster than pino's serialiser) and gathered into chunks: 64 KiB appended at once
// to a file, 4 KiB through pino's asynchronous destination to standard output.
import { closeSync, openSync, writeSync } from 'node:fs';
import pino from 'pino';
import type { Config } from '../config/types.ts';
import type { RequestContext } from '../proxy/context.ts';

export interface AccessLog {
  write(ctx: RequestContext): void;
  /** Writes out what is buffered and opens the file again by its path (after log rotation moved it). */
  reopen(): void;
  /** Writes out every buffered line, then closes the file. */
  close(): Promise<void>;
}

/** A quiet worker's last lines wait at most this long. */
const FLUSH_INTERVAL_MS = 1000;

/** Where gathered lines go. */
interface LineSink {
  /** Lines are gathered until this many characters, then written in one call. */
  readonly chunk: number;
  write(lines: string): void;
  /** Write out anything queued, synchronously (the process is exiting). */
  flushSync(): void;
  reopen(): void;
  close(): Promise<void>;
}

export function createAccessLog(
  config: Config['logging']['access'],
  workerId: number,
  onError: (err: Error) => void = (err) => process.emitWarning(err),
): AccessLog {
  if (!config.enabled) return { write() {}, reopen() {}, close: async () => {} };
  const sink = config.path === 'stdout' ? streamSink(1, onError) : fileSink(config.path, onError);
  const clock = new LogClock();
  const format = config.format === 'json' ? jsonLine : combinedLine;
  let pending = '';
  const flush = (): void => {
    if (pending === '') return;
    sink.write(pending);
    pending = '';
  };
  const timer = setInterval(flush, FLUSH_INTERVAL_MS).unref();
  // No event loop is left at exit: what is buffered must be written synchronously.
  const onExit = (): void => {
    flush();
    sink.flushSync();
  };
  process.on('exit', onExit);
  let closed: Promise<void> | undefined;
  return {
    write(ctx) {
      // Late requests of a stopping worker are dropped rather than written to a closed stream.
      if (closed) return;
      pending += format(ctx, workerId, clock);
      if (pending.length >= sink.chunk) flush();
    },
    reopen() {
      flush();
      sink.reopen();
    },
    close() {
      closed ??= (() => {
        clearInterval(timer);
        process.off('exit', onExit);
        flush();
        return sink.close();
      })();
      return closed;
    },
  };
}

/**
 * A log file: 64 KiB of lines appended with one synchronous write, as nginx's `buffer=64k`
 * does. An append to the page cache takes microseconds; going through the thread pool instead
 * costs a thread hand-off (futex wake-ups) per write, measured at more than the write itself.
 * O_APPEND keeps each write whole when several workers share the file.
 */
function fileSink(path: string, onError: (err: Error) => void): LineSink {
  let fd = openSync(path, 'a');
  let open = true;
  const write = (lines: string) => {
    if (!open) return;
    try {
      writeSync(fd, lines);
    } catch (err) {
      // A full disk must not stop the proxy: the lines are lost, and said so.
      onError(err as Error);
    }
  };
  return {
    chunk: 64 * 1024,
    write,
    flushSync() {},
    reopen() {
      if (!open) return;
      try {
        const next = openSync(path, 'a');
        closeSync(fd);
        fd = next;
      } catch (err) {
        // Keep writing to the old file rather than lose lines.
        onError(err as Error);
      }
    },
    async close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/**
 * Standard output, which may be a pipe to a slow reader: written asynchronously through pino's
 * destination, in 4 KiB chunks (sonic-boom measures its whole pending buffer on every write, so
 * fewer, larger writes are cheaper).
 */
function streamSink(fd: number, onError: (err: Error) => void): LineSink {
  const dest = pino.destination({
    fd,
    sync: false,
    // Chunks are gathered by the caller; a chunk is written at once unless a write is in flight.
    minLength: 0,
    // Bounds the buffer when the reader cannot keep up: lines are dropped rather than memory grown.
    maxLength: 64 * 1024 * 1024,
  });
  // pino's destination re-emits the first error it sees, so a listener may get it twice; on
  // EPIPE it silences the stream instead (write and end become no-ops), so it will never close.
  let lastError: Error | undefined;
  let silenced = false;
  dest.on('error', (err: NodeJS.ErrnoException) => {
    if (err === lastError) return;
    lastError = err;
    if (err.code === 'EPIPE') silenced = true;
    onError(err);
  });
  return {
    chunk: 4096,
    write: (lines) => void dest.write(lines),
    // Standard output is not a file that rotation moves.
    reopen() {},
    flushSync() {
      try {
        dest.flushSync();
      } catch (err) {
        onError(err as Error);
      }
    },
    close: () =>
      new Promise((resolve) => {
        if (silenced) return resolve();
        // A failed close reports through onError; stopping must not wait for it forever.
        dest.once('close', () => resolve());
        dest.once('error', () => resolve());
        dest.end();
      }),
  };
}

/** Time strings for log lines, rebuilt once a second rather than per request (as nginx does). */
class LogClock {
  #second = -1;
  #isoPrefix = '';
  #local = '';

  #refresh(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#second) return;
    this.#second = second;
    const date = new Date(second * 1000);
    this.#isoPrefix = date.toISOString().slice(0, 20);
    this.#local = timeLocal(date);
  }

  /** ISO 8601 UTC with milliseconds, e.g. 2000-10-10T20:55:36.123Z. */
  iso(): string {
    const now = Date.now();
    this.#refresh(now);
    const ms = now % 1000;
    return this.#isoPrefix + (ms < 10 ? '00' : ms < 100 ? '0' : '') + ms + 'Z';
  }

  /** nginx's $time_local, e.g. 10/Oct/2000:13:55:36 -0700. */
  local(): string {
    this.#refresh(Date.now());
    return this.#local;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function timeLocal(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const abs = Math.abs(offset);
  return (
    pad2(d.getDate()) + '/' + MONTHS[d.getMonth()] + '/' + d.getFullYear() + ':' +
    pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()) + ' ' +
    (offset < 0 ? '-' : '+') + pad2(Math.floor(abs / 60)) + pad2(abs % 60)
  );
}

/**
 * Milliseconds with three decimals; -1 ("did not happen") becomes null. Integer arithmetic:
 * converting the double itself to a string costs twice as much.
 */
function ms(value: number): string {
  if (value < 0) return 'null';
  const us = Math.round(value * 1000);
  const frac = us % 1000;
  return (us - frac) / 1000 + (frac < 10 ? '.00' : frac < 100 ? '.0' : '.') + frac;
}

function jsonString(value: string | undefined): string {
  return value ? JSON.stringify(value) : 'null';
}

const HIGH_BYTE = /[\x80-\xff]/;

/**
 * Header values hold one byte per character (latin1); in JSON, text is what a reader expects,
 * so bytes above ASCII are decoded as the UTF-8 that clients send.
 */
function headerJSON(value: string | undefined): string {
  if (!value) return 'null';
  return JSON.stringify(HIGH_BYTE.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value);
}

function jsonLine(ctx: RequestContext, workerId: number, clock: LogClock): string {
  const t = ctx.timings;
  return (
    '{"time":"' + clock.iso() +
    '","method":' + JSON.stringify(ctx.method) +
    ',"host":' + JSON.stringify(ctx.host) +
    ',"path":' + JSON.stringify(ctx.url) +
    ',"status":' + ctx.status +
    ',"bytes":' + ctx.bytesSent +
    ',"total_ms":' + ms(t.totalMs) +
    ',"upstream_connect_ms":' + ms(t.upstreamConnectMs) +
    ',"upstream_first_byte_ms":' + ms(t.upstreamFirstByteMs) +
    ',"ttfb_ms":' + ms(t.ttfbMs) +
    ',"upstream_address":' + jsonString(ctx.upstreamAddress) +
    ',"attempts":' + ctx.upstreamAttempts +
    ',"worker":' + workerId +
    ',"request_id":' + JSON.stringify(ctx.id) +
    ',"client_address":' + JSON.stringify(ctx.clientAddress) +
    ',"user_agent":' + headerJSON(ctx.headers['user-agent']) +
    ',"referer":' + headerJSON(ctx.headers.referer) +
    ',"error":' + jsonString(ctx.error) +
    ',"answered_by":' + jsonString(ctx.answeredBy) +
    (ctx.matchedRules === undefined ? '' : ',"rules":' + JSON.stringify(ctx.matchedRules)) +
    '}\n'
  );
}

/** `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"` */
function combinedLine(ctx: RequestContext, _workerId: number, clock: LogClock): string {
  const h = ctx.headers;
  return (
    (ctx.clientAddress ? nginxEscape(ctx.clientAddress) : '-') + ' - ' +
    remoteUser(h.authorization) + ' [' + clock.local() + '] "' +
    // A request that could not be parsed has no request line to show.
    (ctx.method === '-' ? '-' : nginxEscape(ctx.method + ' ' + ctx.url + ' HTTP/' + ctx.httpVersion)) + '" ' +
    ctx.status + ' ' + ctx.bytesSent + ' "' +
    (h.referer ? nginxEscape(h.referer) : '-') + '" "' +
    (h['user-agent'] ? nginxEscape(h['user-agent']) : '-') + '"\n'
  );
}

/** nginx's $remote_user: the user name of Basic authentication, "-" without one. */
function remoteUser(authorization: string | undefined): string {
  if (!authorization || authorization.length < 6) return '-';
  if (authorization.slice(0, 6).toLowerCase() !== 'basic ') return '-';
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon > 0 ? nginxEscape(decoded.slice(0, colon)) : '-';
}

const NEEDS_ESCAPE = /[\x00-\x1f"\\\x7f-\uffff]/;
const HEX = '0123456789ABCDEF';

/**
 * nginx's default log escaping: `"`, `\`, control characters and bytes from 0x7f as \xXX.
 * Header strings hold one byte per character (latin1); wider characters are escaped as UTF-8.
 */
function nginxEscape(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (code > 0xff) {
      for (const byte of Buffer.from(ch, 'utf8')) out += '\\x' + HEX[byte >> 4] + HEX[byte & 15];
    } else if (code < 0x20 || code >= 0x7f || code === 0x22 || code === 0x5c) {
      out += '\\x' + HEX[code >> 4] + HEX[code & 15];
    } else {
      out += ch;
    }
  }
  return out;
}
