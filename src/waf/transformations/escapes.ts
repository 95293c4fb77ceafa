// Backslash escapes: jsDecode, cssDecode, escapeSeqDecode. Each escape decodes to one byte (a
// code point to its low byte); a backslash that ends the value stays (jsDecode, escapeSeqDecode)
// or goes (cssDecode).
import { bytesString, HEX_VALUE, isCSpace, isOctal, LONG_RUN, moveRun } from './bytes.ts';
import { decodeEscapes, type Escape, type EscapeReader } from './escape-decoding.ts';

const BACKSLASH = 0x5c;

/** The byte of a one-letter C escape (\a \b \f \n \r \t \v), by letter; 0 for other bytes. */
const C_ESCAPES: Uint8Array = (() => {
  const table = new Uint8Array(256);
  const escapes: [string, number][] = [['a', 7], ['b', 8], ['f', 12], ['n', 10], ['r', 13], ['t', 9], ['v', 11]];
  for (const [letter, byte] of escapes) table[letter.charCodeAt(0)] = byte;
  return table;
})();

/** Bytes escapeSeqDecode takes literally after a backslash: \ ? ' " */
function isQuotedByte(c: number): boolean {
  return c === 0x5c || c === 0x3f || c === 0x27 || c === 0x22;
}

/** How many octal digits (at most 3) start at bytes[at]; the terminating zero bytes are none. */
function octalDigits(bytes: Buffer, at: number): number {
  let count = 0;
  while (count < 3 && isOctal(bytes[at + count])) count++;
  return count;
}

function octalByte(bytes: Buffer, at: number, digits: number): number {
  let value = 0;
  for (let k = at; k < at + digits; k++) value = value * 8 + bytes[k] - 0x30;
  return value & 0xff;
}

/** The byte two hex digits at bytes[at] write, or -1. */
function hexPair(bytes: Buffer, at: number): number {
  const high = HEX_VALUE[bytes[at]];
  const low = HEX_VALUE[bytes[at + 1]];
  return high >= 0 && low >= 0 ? (high << 4) | low : -1;
}

/**
 * JavaScript escapes: \uHHHH (its low byte, plus 0x20 for full-width ASCII U+FF01–U+FF5E), \xHH,
 * \OOO (up to three octal digits while the value fits a byte), \a \b \f \n \r \t \v, and any
 * other escaped byte as itself. `u` and `x` must be lower case.
 */
export function jsDecode(input: string): string {
  return decodeEscapes(input, '\\', readJsEscape, decodeJsInPlace);
}

function readJsEscape(bytes: Buffer, at: number, length: number, escape: Escape): boolean {
  if (at + 1 === length) return false;
  const next = bytes[at + 1];
  let high: number;
  let low: number;
  if (next === 0x75 && at + 5 < length && (high = hexPair(bytes, at + 2)) >= 0 && (low = hexPair(bytes, at + 4)) >= 0) {
    escape.byte = high === 0xff && low > 0 && low < 0x5f ? low + 0x20 : low;
    escape.end = at + 6;
  } else if (next === 0x78 && at + 3 < length && (low = hexPair(bytes, at + 2)) >= 0) {
    escape.byte = low;
    escape.end = at + 4;
  } else if (isOctal(next)) {
    let digits = octalDigits(bytes, at + 1);
    if (digits === 3 && next > 0x33) digits = 2;
    escape.byte = octalByte(bytes, at + 1, digits);
    escape.end = at + 1 + digits;
  } else {
    escape.byte = C_ESCAPES[next] || next;
    escape.end = at + 2;
  }
  return true;
}

/**
 * CSS escapes, as ModSecurity v2 decodes them: \ and 1–6 hex digits become one byte, the last two
 * digits (the value's low byte; 0x20 more for full-width ASCII U+FF01–U+FF5E written with 4, or 5–6
 * with leading zeros), and one whitespace byte after them is dropped; a backslash before a newline
 * or at the end goes; any other escaped byte is itself. (Coraza encodes the whole code point as
 * UTF-8; CRS's tests do not tell the two apart.)
 */
export function cssDecode(input: string): string {
  return decodeEscapes(input, '\\', readCssEscape, decodeCssInPlace);
}

function readCssEscape(bytes: Buffer, at: number, length: number, escape: Escape): boolean {
  const digitsAt = at + 1;
  let digits = 0;
  // the terminating zero bytes are not hex digits, so this stops at the value's end
  while (digits < 6 && HEX_VALUE[bytes[digitsAt + digits]] >= 0) digits++;
  if (digits > 0) {
    escape.byte = cssEscapeByte(bytes, digitsAt, digits);
    const end = digitsAt + digits;
    escape.end = end < length && isCSpace(bytes[end]) ? end + 1 : end;
  } else if (digitsAt === length || bytes[digitsAt] === 0x0a) {
    escape.byte = -1;
    escape.end = Math.min(digitsAt + 1, length);
  } else {
    escape.byte = bytes[digitsAt];
    escape.end = digitsAt + 1;
  }
  return true;
}

function cssEscapeByte(bytes: Buffer, at: number, digits: number): number {
  const last = at + digits - 1;
  const low = digits === 1 ? HEX_VALUE[bytes[last]] : (HEX_VALUE[bytes[last - 1]] << 4) | HEX_VALUE[bytes[last]];
  // leading zeros of a 5- or 6-digit escape leave 4 significant digits, the FFxx of full-width ASCII
  const fullWidthCandidate = digits === 4 || (digits === 5 && bytes[at] === 0x30) || (digits === 6 && bytes[at] === 0x30 && bytes[at + 1] === 0x30);
  if (!fullWidthCandidate || low === 0 || low >= 0x5f) return low;
  return HEX_VALUE[bytes[last - 3]] === 15 && HEX_VALUE[bytes[last - 2]] === 15 ? low + 0x20 : low;
}

/**
 * ANSI C escapes: \a \b \f \n \r \t \v \\ \? \' \", \xHH (x or X), \OOO (up to three octal
 * digits, the value's low byte); any other escaped byte, a \x without two hex digits included, is
 * the byte itself.
 */
export function escapeSeqDecode(input: string): string {
  return decodeEscapes(input, '\\', readCEscape, decodeCInPlace);
}

function readCEscape(bytes: Buffer, at: number, length: number, escape: Escape): boolean {
  if (at + 1 === length) return false;
  const next = bytes[at + 1];
  const letter = C_ESCAPES[next];
  let hex: number;
  if (letter !== 0 || isQuotedByte(next)) {
    escape.byte = letter || next;
    escape.end = at + 2;
  } else if ((next | 0x20) === 0x78 && at + 3 < length && (hex = hexPair(bytes, at + 2)) >= 0) {
    escape.byte = hex;
    escape.end = at + 4;
  } else if (isOctal(next)) {
    const digits = octalDigits(bytes, at + 1);
    escape.byte = octalByte(bytes, at + 1, digits);
    escape.end = at + 1 + digits;
  } else {
    escape.byte = next;
    escape.end = at + 2;
  }
  return true;
}

function decodeJsInPlace(input: string, bytes: Buffer, written: number, read: number): string {
  return decodeBackslashesInPlace(input, bytes, written, read, readJsEscape);
}

function decodeCssInPlace(input: string, bytes: Buffer, written: number, read: number): string {
  return decodeBackslashesInPlace(input, bytes, written, read, readCssEscape);
}

function decodeCInPlace(input: string, bytes: Buffer, written: number, read: number): string {
  return decodeBackslashesInPlace(input, bytes, written, read, readCEscape);
}

/** The in-place loop of the three (its call of readEscape sees only their three readers). */
function decodeBackslashesInPlace(input: string, bytes: Buffer, written: number, read: number, readEscape: EscapeReader): string {
  const length = input.length;
  const escape: Escape = { end: 0, byte: -1 };
  let plainRun = 0;
  while (read < length) {
    const c = bytes[read];
    if (c === BACKSLASH && readEscape(bytes, read, length, escape)) {
      if (escape.byte >= 0) bytes[written++] = escape.byte;
      read = escape.end;
      plainRun = 0;
    } else if (++plainRun < LONG_RUN) {
      bytes[written++] = c;
      read++;
    } else {
      const next = input.indexOf('\\', read + 1);
      const end = next < 0 ? length : next;
      written = moveRun(bytes, written, read, end);
      read = end;
      plainRun = 0;
    }
  }
  return bytesString(bytes, written);
}
