// The HTTP/1.x request parser: the request head and chunked request bodies, as strict as llhttp
// (Node's parser without its lenient flags) and nginx, because a proxy that reads a message
// differently from the origin behind it lets requests be smuggled past it (RFC 9112 §11.2).
// Every line ends with CR LF; a bare CR or LF, a NUL or any other control character, a folded
// header line, whitespace before a colon, a Content-Length that is not only digits or that comes
// twice, a Transfer-Encoding whose final coding is not chunked, or both framing headers together
// end the connection with a 4xx/5xx. What is accepted is forwarded re-framed by frontline itself,
// so the origin never sees the client's framing.
//
// No regular expressions: the head is read once as a latin1 string and checked with charCodeAt
// against class tables.
import { lowerFieldName } from '../headers.ts';
import type { IncomingHttpHeaders } from 'node:http';

// Character classes (bit flags) for one byte.
const TCHAR = 1; // token character (RFC 9110 §5.6.2)
const VCHAR = 2; // field value character: VCHAR, obs-text, SP, HTAB (RFC 9110 §5.5)
const TARGET = 4; // request-target character: visible ASCII and obs-text (as llhttp and nginx accept)
const METHOD = 8; // method character as nginx accepts it: A-Z, "_", "-"
const HEX = 16;
const QDTEXT = 32; // quoted-string text: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text

const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  let k = 0;
  const ch = String.fromCharCode(c);
  if (c < 128 && "!#$%&'*+-.^_`|~".includes(ch)) k |= TCHAR;
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) k |= TCHAR;
  if (c === 9 || (c >= 32 && c <= 126) || c >= 128) k |= VCHAR;
  if ((c >= 33 && c <= 126) || c >= 128) k |= TARGET;
  if ((c >= 65 && c <= 90) || c === 95 || c === 45) k |= METHOD;
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)) k |= HEX;
  if (c === 9 || c === 32 || c === 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126) || c >= 128) k |= QDTEXT;
  CLASS[c] = k;
}

/** True when every character of `s` is a token character (a header field name). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || (CLASS[c] & TCHAR) === 0) return false;
  }
  return true;
}

/** 0: not a field name; 1: a token in lower case; 2: a token with upper-case letters. */
export function fieldNameKind(s: string): 0 | 1 | 2 {
  if (s.length === 0) return 0;
  let kind: 1 | 2 = 1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || (CLASS[c] & TCHAR) === 0) return 0;
    if (c >= 65 && c <= 90) kind = 2;
  }
  return kind;
}

/** True when `s` may be sent as a header field value (no CR, LF, NUL or other control characters). */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || (CLASS[c] & VCHAR) === 0) return false;
  }
  return true;
}

/** Why a request was refused, in the words the access log and the plain-text answer use. */
export interface ParseFailure {
  status: number;
  /** A short name for the process log. */
  code: string;
  reason: string;
}

export const TOO_LARGE: ParseFailure = { status: 431, code: 'head-too-large', reason: 'the request head is larger than this server accepts' };
export const TIMED_OUT: ParseFailure = { status: 408, code: 'timeout', reason: 'the request was not received in time' };
const BAD_CHARS: ParseFailure = { status: 400, code: 'bad-header', reason: 'a header name or value holds characters that are not allowed' };
const BOTH_LENGTHS: ParseFailure = { status: 400, code: 'cl-and-te', reason: 'the request has both Content-Length and Transfer-Encoding' };
const TWO_LENGTHS: ParseFailure = { status: 400, code: 'duplicate-cl', reason: 'the request has more than one Content-Length' };
const EXTENSIONS_TOO_LARGE: ParseFailure = {
  status: 413,
  code: 'chunk-extensions-too-large',
  reason: 'the chunk extensions of the request body are larger than this server accepts',
};
const malformed = (code: string, what: string, status = 400): ParseFailure => ({ status, code, reason: `malformed request (${what})` });
export const BARE_LF = malformed('bare-lf', 'a line ends with LF alone; lines end with CR LF');
const FOLDED = malformed('obs-fold', 'a header line is folded (starts with whitespace)');
const SPACE_BEFORE_COLON: ParseFailure = { ...BAD_CHARS, code: 'space-before-colon' };
const NO_COLON = malformed('no-colon', 'a header line has no colon');

/** Request header fields that keep their first value when repeated, as Node's parser does. */
const SINGLE = new Set([
  'content-type',
  'user-agent',
  'referer',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
]);

/**
 * Header objects without a prototype chain to trip over: a field named "constructor" or
 * "__proto__" is a field like any other. Instances of a constructor (not Object.create(null),
 * which makes slow dictionary objects).
 */
const Headers = function (this: object) {} as unknown as { new (): IncomingHttpHeaders };
Headers.prototype = Object.create(null) as object;


/** The value of a Content-Length field: 1 to 15 digits and nothing else, or -1. */
export function parseLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Parses one request head: the latin1 text from the request line up to, not including, the CR LF
 * CR LF that ends it. Reuse one parser per connection: the results are its fields, valid until
 * the next parse.
 */
export class HeadParser {
  method = '';
  /** The request target in origin-form (an absolute-form target is reduced to its path and query), `*`, or CONNECT's authority. */
  url = '';
  /** The request target exactly as received (an absolute-form target kept whole). */
  target = '';
  /** 0 or 1: HTTP/1.0 or HTTP/1.1. */
  minor = 1;
  headers: IncomingHttpHeaders = new Headers();
  /** -1 without a Content-Length. */
  contentLength = -1;
  chunked = false;
  /** The client asked to keep the connection open (HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive"). */
  keepAlive = true;
  expectContinue = false;
  /** Set when parse() returns false. */
  failure: ParseFailure | undefined = undefined;
  /** The head parsed last, and where its header fields start (for rawHeaderFields). */
  head = '';
  fieldsStart = 0;

  parse(s: string): boolean {
    this.failure = undefined;
    const len = s.length;
    // Request line: method SP request-target SP HTTP-version
    let i = 0;
    while (i < len && (CLASS[s.charCodeAt(i)] & METHOD) !== 0) i++;
    if (i === 0 || s.charCodeAt(i) !== 32) return this.#fail(malformed('bad-method', 'the method is not valid'));
    const method = i === 3 && s.startsWith('GET') ? 'GET' : i === 4 && s.startsWith('POST') ? 'POST' : i === 4 && s.startsWith('HEAD') ? 'HEAD' : s.slice(0, i);
    const t0 = ++i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c > 255 || (CLASS[c] & TARGET) === 0) break;
      i++;
    }
    if (i === t0 || s.charCodeAt(i) !== 32) {
      const c = s.charCodeAt(i);
      return this.#fail(c === 10 || c === 13 ? malformed('bad-request-line', 'the request line is not complete') : malformed('bad-target', 'the request target holds characters that are not allowed'));
    }
    let url = s.slice(t0, i);
    const target = url;
    // A fragment is never part of a request target (RFC 9112 §3.2); a client sending one is broken or probing.
    if (url.includes('#')) return this.#fail(malformed('bad-target', 'the request target has a fragment ("#"), which clients never send'));
    i++;
    // HTTP-version, then the end of the line.
    if (
      s.charCodeAt(i) !== 72 || s.charCodeAt(i + 1) !== 84 || s.charCodeAt(i + 2) !== 84 || s.charCodeAt(i + 3) !== 80 ||
      s.charCodeAt(i + 4) !== 47 || s.charCodeAt(i + 6) !== 46
    ) {
      return this.#fail(malformed('bad-version', 'the HTTP version is not valid'));
    }
    const major = s.charCodeAt(i + 5) - 48;
    const minor = s.charCodeAt(i + 7) - 48;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) return this.#fail(malformed('bad-version', 'the HTTP version is not valid'));
    i += 8;
    if (i !== len && (s.charCodeAt(i) !== 13 || s.charCodeAt(i + 1) !== 10)) {
      return this.#fail(s.charCodeAt(i) === 10 ? BARE_LF : malformed('bad-request-line', 'characters after the HTTP version'));
    }
    if (major !== 1 || minor > 1) return this.#fail({ status: 505, code: 'version', reason: `HTTP/${major}.${minor} is not supported` });
    i += 2;
    this.head = s;
    this.fieldsStart = i;

    const headers = new Headers();
    let contentLength = -1;
    let te: string | undefined;
    let connection: string | undefined;
    let expect: string | undefined;
    let host: string | undefined;
    while (i < len) {
      const n0 = i;
      while (i < len && (CLASS[s.charCodeAt(i)] & TCHAR) !== 0) i++;
      const c = s.charCodeAt(i);
      if (c !== 58 /* : */) {
        if (i === n0 && (c === 32 || c === 9)) return this.#fail(FOLDED);
        if (c === 32 || c === 9) return this.#fail(SPACE_BEFORE_COLON);
        if (c === 13 || c === 10 || i === len) return this.#fail(c === 10 ? BARE_LF : NO_COLON);
        return this.#fail(BAD_CHARS);
      }
      if (i === n0) return this.#fail(malformed('empty-name', 'a header line has no name'));
      const name = lowerFieldName(s.slice(n0, i));
      i++;
      while (i < len && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
      const v0 = i;
      while (i < len) {
        const v = s.charCodeAt(i);
        if (v > 255 || (CLASS[v] & VCHAR) === 0) break;
        i++;
      }
      let v1 = i;
      if (i !== len) {
        if (s.charCodeAt(i) !== 13 || s.charCodeAt(i + 1) !== 10) return this.#fail(s.charCodeAt(i) === 10 ? BARE_LF : BAD_CHARS);
        i += 2;
      }
      while (v1 > v0 && (s.charCodeAt(v1 - 1) === 32 || s.charCodeAt(v1 - 1) === 9)) v1--;
      const value = s.slice(v0, v1);
      switch (name) {
        case 'host':
          if (host !== undefined) return this.#fail(malformed('duplicate-host', 'the request has more than one Host header'));
          host = value;
          break;
        case 'content-length':
          if (contentLength !== -1) return this.#fail(TWO_LENGTHS);
          contentLength = parseLength(value);
          if (contentLength === -1) {
            return this.#fail({ status: 400, code: 'bad-cl', reason: `the Content-Length header is not valid ("${value.slice(0, 40)}")` });
          }
          break;
        case 'transfer-encoding':
          if (te !== undefined) return this.#fail(malformed('duplicate-te', 'the request has more than one Transfer-Encoding header'));
          te = value;
          break;
        case 'connection':
          connection = connection === undefined ? value : `${connection}, ${value}`;
          break;
        case 'expect':
          expect = value;
          break;
      }
      // Repeated fields as Node's parser combines them: set-cookie as a list, cookie with "; ",
      // fields that cannot repeat keep their first value, any other joined with ", ".
      const prior = headers[name];
      if (name === 'set-cookie') {
        if (prior === undefined) headers[name] = [value];
        else (prior as string[]).push(value);
      } else if (prior === undefined) headers[name] = value;
      else if (name === 'cookie') headers[name] = `${prior as string}; ${value}`;
      else if (!SINGLE.has(name)) headers[name] = `${prior as string}, ${value}`;
    }

    let chunked = false;
    if (te !== undefined) {
      if (contentLength !== -1) return this.#fail(BOTH_LENGTHS);
      // Only "chunked", alone, is a framing frontline reads: a final coding other than chunked
      // leaves the length unknown (400, RFC 9112 §6.3); codings before chunked are not implemented (501).
      if (te.length !== 7 || te.toLowerCase() !== 'chunked') {
        const codings = te.toLowerCase().split(',');
        const last = codings[codings.length - 1].trim();
        if (last === 'chunked' && codings.every((x) => isToken(x.trim()))) {
          return this.#fail({ status: 501, code: 'te-unsupported', reason: `the request uses a transfer coding frontline does not support ("${te.slice(0, 40)}")` });
        }
        return this.#fail({ status: 400, code: 'bad-te', reason: `the Transfer-Encoding header is not valid ("${te.slice(0, 40)}"): chunked must be the only coding` });
      }
      if (minor === 0) return this.#fail(malformed('te-http10', 'an HTTP/1.0 request with Transfer-Encoding'));
      chunked = true;
    }

    // Absolute-form: the target's authority replaces Host (RFC 9112 §3.2.2); asterisk-form only for OPTIONS.
    const first = url.charCodeAt(0);
    if (first !== 47 /* / */ && method !== 'CONNECT') {
      if (url === '*') {
        if (method !== 'OPTIONS') return this.#fail(malformed('bad-target', 'the target "*" is only for OPTIONS'));
      } else {
        const lowerUrl = url.slice(0, 8).toLowerCase();
        const schemeEnd = lowerUrl.startsWith('http://') ? 7 : lowerUrl.startsWith('https://') ? 8 : -1;
        if (schemeEnd === -1) return this.#fail(malformed('bad-target', 'the request target is neither a path nor an http(s) URL'));
        let end = schemeEnd;
        while (end < url.length && url.charCodeAt(end) !== 47 && url.charCodeAt(end) !== 63 && url.charCodeAt(end) !== 35) end++;
        const authority = url.slice(schemeEnd, end);
        if (authority === '' || authority.includes('@')) return this.#fail(malformed('bad-target', 'the authority of the request target is not valid'));
        headers.host = authority;
        url = end === url.length ? '/' : url.charCodeAt(end) === 47 ? url.slice(end) : `/${url.slice(end)}`;
      }
    }

    let keepAlive = minor === 1;
    if (connection !== undefined) {
      const c = connection.toLowerCase();
      if (c === 'close') keepAlive = false;
      else if (c === 'keep-alive') keepAlive = true;
      else {
        for (const token of c.split(',')) {
          const t = token.trim();
          if (t === 'close') {
            keepAlive = false;
            break;
          }
          if (t === 'keep-alive') keepAlive = true;
        }
      }
    }
    let expectContinue = false;
    if (expect !== undefined && minor === 1) {
      if (expect.toLowerCase() !== '100-continue') {
        return this.#fail({ status: 417, code: 'expectation', reason: `the expectation "${expect.slice(0, 40)}" is not supported` });
      }
      expectContinue = true;
    }

    this.method = method;
    this.url = url;
    this.target = target;
    this.minor = minor;
    this.headers = headers;
    this.contentLength = contentLength;
    this.chunked = chunked;
    this.keepAlive = keepAlive;
    this.expectContinue = expectContinue;
    return true;
  }

  #fail(failure: ParseFailure): false {
    this.failure = failure;
    return false;
  }
}

/** Scans `buf[from, to)` for a LF not preceded by CR (a line that does not end with CR LF); `prev` is the byte before `from` (-1 if none). */
export function hasBareLf(buf: Buffer, from: number, to: number, prev: number): boolean {
  let at = buf.indexOf(10, from);
  while (at !== -1 && at < to) {
    const before = at === from ? prev : buf[at - 1];
    if (before !== 13) return true;
    at = buf.indexOf(10, at + 1);
  }
  return false;
}

// Chunked body decoder states.
const C_SIZE = 0; // first hex digit of a chunk size
const C_SIZE_MORE = 1; // more hex digits, ";" or CR
const C_EXT_NAME_START = 2;
const C_EXT_NAME = 3;
const C_EXT_VALUE_START = 4;
const C_EXT_TOKEN = 5;
const C_EXT_QUOTED = 6;
const C_EXT_QUOTED_PAIR = 7;
const C_EXT_QUOTED_END = 8;
const C_SIZE_LF = 9;
const C_DATA = 10;
const C_DATA_CR = 11;
const C_DATA_LF = 12;
const C_TRAILER_START = 13; // start of a trailer line, or the CR of the final empty line
const C_TRAILER_NAME = 14;
const C_TRAILER_VALUE = 15;
const C_TRAILER_LF = 16;
const C_FINAL_LF = 17;
const C_DONE = 18;
const C_FAILED = 19;

/** Longest chunk-size line (size and extensions), as llhttp's limit on chunk extensions. */
export const MAX_CHUNK_LINE = 4096;
/** Largest chunk size accepted: more hex digits than fit a safe integer is an overflow. */
const MAX_CHUNK_SIZE = Number.MAX_SAFE_INTEGER;

/** Where decoded body bytes go. */
export interface BodySink {
  bodyData(chunk: Buffer): void;
}

/**
 * Decodes a chunked request body (RFC 9112 §7.1) incrementally, across any split of its bytes:
 * chunk sizes in hex (no sign, no whitespace, no overflow), extensions as `;name[=token|"quoted"]`
 * (discarded), CR LF after every line and chunk, and a trailer section read with the same rules as
 * header lines (and discarded).
 */
export class ChunkedDecoder {
  #state = C_SIZE;
  #size = 0;
  /** Bytes of the current size line, or of the whole trailer section. */
  #lineBytes = 0;
  readonly #maxTrailers: number;
  failure: ParseFailure | undefined = undefined;

  constructor(maxTrailerBytes: number) {
    this.#maxTrailers = maxTrailerBytes > 0 ? maxTrailerBytes : 65536;
  }

  get done(): boolean {
    return this.#state === C_DONE;
  }

  /** Decodes from `buf[at]`: returns where it stopped (the end of `buf`, or just past the body), or -1 on an error (see failure). */
  decode(buf: Buffer, at: number, sink: BodySink): number {
    const len = buf.length;
    let state = this.#state;
    while (at < len) {
      if (state === C_DATA) {
        const n = Math.min(this.#size, len - at);
        this.#size -= n;
        sink.bodyData(at === 0 && n === len ? buf : buf.subarray(at, at + n));
        at += n;
        if (this.#size === 0) state = C_DATA_CR;
        continue;
      }
      const c = buf[at++];
      const k = CLASS[c];
      switch (state) {
        case C_SIZE:
        case C_SIZE_MORE:
          if ((k & HEX) !== 0) {
            const d = c <= 57 ? c - 48 : (c | 0x20) - 87;
            if (this.#size > (MAX_CHUNK_SIZE - d) / 16) return this.#fail(malformed('chunk-size-overflow', 'a chunk size is too large'));
            this.#size = this.#size * 16 + d;
            state = C_SIZE_MORE;
          } else if (state === C_SIZE_MORE && c === 59 /* ; */) state = C_EXT_NAME_START;
          else if (state === C_SIZE_MORE && c === 13) state = C_SIZE_LF;
          else return this.#fail(malformed('bad-chunk-size', 'a chunk size is not valid'));
          break;
        case C_EXT_NAME_START:
          if ((k & TCHAR) === 0) return this.#fail(malformed('bad-chunk-extension', 'a chunk extension is not valid'));
          state = C_EXT_NAME;
          break;
        case C_EXT_NAME:
        case C_EXT_TOKEN:
          if ((k & TCHAR) !== 0) break;
          if (c === 61 /* = */ && state === C_EXT_NAME) state = C_EXT_VALUE_START;
          else if (c === 59) state = C_EXT_NAME_START;
          else if (c === 13) state = C_SIZE_LF;
          else return this.#fail(malformed('bad-chunk-extension', 'a chunk extension is not valid'));
          break;
        case C_EXT_VALUE_START:
          if (c === 34 /* " */) state = C_EXT_QUOTED;
          else if ((k & TCHAR) !== 0) state = C_EXT_TOKEN;
          else return this.#fail(malformed('bad-chunk-extension', 'a chunk extension is not valid'));
          break;
        case C_EXT_QUOTED:
          if (c === 34) state = C_EXT_QUOTED_END;
          else if (c === 92 /* \ */) state = C_EXT_QUOTED_PAIR;
          else if ((k & QDTEXT) === 0) return this.#fail(malformed('bad-chunk-extension', 'a chunk extension is not valid'));
          break;
        case C_EXT_QUOTED_PAIR:
          if ((k & VCHAR) === 0) return this.#fail(malformed('bad-chunk-extension', 'a chunk extension is not valid'));
          state = C_EXT_QUOTED;
          break;
        case C_EXT_QUOTED_END:
          if (c === 59) state = C_EXT_NAME_START;
          else if (c === 13) state = C_SIZE_LF;
          else return this.#fail(malformed('bad-chunk-extension', 'a chunk extension is not valid'));
          break;
        case C_SIZE_LF:
          if (c !== 10) return this.#fail(malformed('bad-chunk-size', 'a chunk size line does not end with CR LF'));
          this.#lineBytes = 0;
          if (this.#size === 0) state = C_TRAILER_START;
          else state = C_DATA;
          continue;
        case C_DATA_CR:
          if (c !== 13) return this.#fail(malformed('bad-chunk', 'a chunk is longer than its size or not followed by CR LF'));
          state = C_DATA_LF;
          continue;
        case C_DATA_LF:
          if (c !== 10) return this.#fail(malformed('bad-chunk', 'a chunk is not followed by CR LF'));
          state = C_SIZE;
          this.#lineBytes = 0;
          continue;
        case C_TRAILER_START:
          if (c === 13) state = C_FINAL_LF;
          else if ((k & TCHAR) !== 0) state = C_TRAILER_NAME;
          else return this.#fail(c === 32 || c === 9 ? FOLDED : malformed('bad-trailer', 'a trailer line is not valid'));
          break;
        case C_TRAILER_NAME:
          if (c === 58) state = C_TRAILER_VALUE;
          else if ((k & TCHAR) === 0) return this.#fail(c === 32 || c === 9 ? SPACE_BEFORE_COLON : malformed('bad-trailer', 'a trailer line is not valid'));
          break;
        case C_TRAILER_VALUE:
          if (c === 13) state = C_TRAILER_LF;
          else if ((k & VCHAR) === 0) return this.#fail(c === 10 ? BARE_LF : BAD_CHARS);
          break;
        case C_TRAILER_LF:
          if (c !== 10) return this.#fail(BAD_CHARS);
          state = C_TRAILER_START;
          break;
        case C_FINAL_LF:
          if (c !== 10) return this.#fail(malformed('bad-chunk', 'the chunked body does not end with CR LF'));
          this.#state = C_DONE;
          return at;
        default:
          return -1;
      }
      // Size lines (with extensions) and the trailer section are bounded.
      if (++this.#lineBytes > (state >= C_TRAILER_START ? this.#maxTrailers : MAX_CHUNK_LINE)) {
        return this.#fail(state >= C_TRAILER_START ? TOO_LARGE : EXTENSIONS_TOO_LARGE);
      }
    }
    this.#state = state;
    return at;
  }

  #fail(failure: ParseFailure): number {
    this.#state = C_FAILED;
    this.failure = failure;
    return -1;
  }
}

/**
 * The header fields of a head that parse() accepted, as received: name, value, … (values without
 * the surrounding whitespace). The head was validated, so every line is `name ":" OWS value OWS`.
 */
export function rawHeaderFields(head: string, start: number): string[] {
  const fields: string[] = [];
  let i = start;
  while (i < head.length) {
    let end = head.indexOf('\r\n', i);
    if (end === -1) end = head.length;
    if (end === i) break;
    const colon = head.indexOf(':', i);
    let v0 = colon + 1;
    while (v0 < end && (head.charCodeAt(v0) === 32 || head.charCodeAt(v0) === 9)) v0++;
    let v1 = end;
    while (v1 > v0 && (head.charCodeAt(v1 - 1) === 32 || head.charCodeAt(v1 - 1) === 9)) v1--;
    fields.push(head.slice(i, colon), head.slice(v0, v1));
    i = end + 2;
  }
  return fields;
}
