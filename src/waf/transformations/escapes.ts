// Backslash escapes: jsDecode, cssDecode, escapeSeqDecode. Each escape decodes to one byte (a
// code point to its low byte); a backslash that ends the value stays (jsDecode, escapeSeqDecode)
// or goes (cssDecode).
import { copyRun, HEX_VALUE, isCSpace, isOctal, outputBuffer, outputString } from './bytes.ts';

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

/** How many octal digits (at most 3) start at input[at]. */
function octalDigits(input: string, at: number): number {
  let count = 0;
  while (count < 3 && isOctal(input.charCodeAt(at + count))) count++;
  return count;
}

function octalByte(input: string, at: number, digits: number): number {
  let value = 0;
  for (let k = at; k < at + digits; k++) value = value * 8 + input.charCodeAt(k) - 0x30;
  return value & 0xff;
}

function hexPair(input: string, at: number): number {
  const high = HEX_VALUE[input.charCodeAt(at)];
  const low = HEX_VALUE[input.charCodeAt(at + 1)];
  return high >= 0 && low >= 0 ? (high << 4) | low : -1;
}

/**
 * JavaScript escapes: \uHHHH (its low byte, plus 0x20 for full-width ASCII U+FF01–U+FF5E), \xHH,
 * \OOO (up to three octal digits while the value fits a byte), \a \b \f \n \r \t \v, and any
 * other escaped byte as itself. `u` and `x` must be lower case.
 */
export function jsDecode(input: string): string {
  let backslash = input.indexOf('\\');
  if (backslash < 0) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  let copied = 0;
  while (backslash >= 0 && backslash + 1 < length) {
    const at = backslash;
    const next = input.charCodeAt(at + 1);
    let byte: number;
    let end = at + 2;
    let high: number;
    let low: number;
    if (next === 0x75 && at + 5 < length && (high = hexPair(input, at + 2)) >= 0 && (low = hexPair(input, at + 4)) >= 0) {
      byte = high === 0xff && low > 0 && low < 0x5f ? low + 0x20 : low;
      end = at + 6;
    } else if (next === 0x78 && at + 3 < length && (low = hexPair(input, at + 2)) >= 0) {
      byte = low;
      end = at + 4;
    } else if (isOctal(next)) {
      let digits = octalDigits(input, at + 1);
      if (digits === 3 && next > 0x33) digits = 2;
      byte = octalByte(input, at + 1, digits);
      end = at + 1 + digits;
    } else {
      byte = C_ESCAPES[next] || next;
    }
    written = copyRun(out, written, input, copied, at);
    out[written++] = byte;
    copied = end;
    backslash = input.indexOf('\\', end);
  }
  if (copied === 0) return input;
  written = copyRun(out, written, input, copied, length);
  return outputString(out, written);
}

/**
 * CSS escapes, as ModSecurity v2 decodes them: \ and 1–6 hex digits become one byte, the last two
 * digits (the value's low byte; 0x20 more for full-width ASCII U+FF01–U+FF5E written with 4, or 5–6
 * with leading zeros), and one whitespace byte after them is dropped; a backslash before a newline
 * or at the end goes; any other escaped byte is itself. (Coraza encodes the whole code point as
 * UTF-8; CRS's tests do not tell the two apart.)
 */
export function cssDecode(input: string): string {
  let backslash = input.indexOf('\\');
  if (backslash < 0) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  let copied = 0;
  while (backslash >= 0) {
    const at = backslash;
    written = copyRun(out, written, input, copied, at);
    const digitsAt = at + 1;
    let digits = 0;
    while (digits < 6 && digitsAt + digits < length && HEX_VALUE[input.charCodeAt(digitsAt + digits)] >= 0) digits++;
    let end: number;
    if (digits > 0) {
      out[written++] = cssEscapeByte(input, digitsAt, digits);
      end = digitsAt + digits;
      if (end < length && isCSpace(input.charCodeAt(end))) end++;
    } else if (digitsAt === length) {
      end = length;
    } else if (input.charCodeAt(digitsAt) === 0x0a) {
      end = digitsAt + 1;
    } else {
      out[written++] = input.charCodeAt(digitsAt);
      end = digitsAt + 1;
    }
    copied = end;
    backslash = input.indexOf('\\', end);
  }
  written = copyRun(out, written, input, copied, length);
  return outputString(out, written);
}

function cssEscapeByte(input: string, at: number, digits: number): number {
  const last = at + digits - 1;
  const low = digits === 1 ? HEX_VALUE[input.charCodeAt(last)] : (HEX_VALUE[input.charCodeAt(last - 1)] << 4) | HEX_VALUE[input.charCodeAt(last)];
  // leading zeros of a 5- or 6-digit escape leave 4 significant digits, the FFxx of full-width ASCII
  const fullWidthCandidate = digits === 4 || (digits === 5 && input.charCodeAt(at) === 0x30) || (digits === 6 && input.charCodeAt(at) === 0x30 && input.charCodeAt(at + 1) === 0x30);
  if (!fullWidthCandidate || low === 0 || low >= 0x5f) return low;
  return HEX_VALUE[input.charCodeAt(last - 3)] === 15 && HEX_VALUE[input.charCodeAt(last - 2)] === 15 ? low + 0x20 : low;
}

/**
 * ANSI C escapes: \a \b \f \n \r \t \v \\ \? \' \", \xHH (x or X), \OOO (up to three octal
 * digits, the value's low byte); any other escaped byte, a \x without two hex digits included, is
 * the byte itself.
 */
export function escapeSeqDecode(input: string): string {
  let backslash = input.indexOf('\\');
  if (backslash < 0) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  let copied = 0;
  while (backslash >= 0 && backslash + 1 < length) {
    const at = backslash;
    const next = input.charCodeAt(at + 1);
    let byte = C_ESCAPES[next];
    let end = at + 2;
    let hex: number;
    if (byte !== 0 || isQuotedByte(next)) {
      byte ||= next;
    } else if ((next | 0x20) === 0x78 && at + 3 < length && (hex = hexPair(input, at + 2)) >= 0) {
      byte = hex;
      end = at + 4;
    } else if (isOctal(next)) {
      const digits = octalDigits(input, at + 1);
      byte = octalByte(input, at + 1, digits);
      end = at + 1 + digits;
    } else {
      byte = next;
    }
    written = copyRun(out, written, input, copied, at);
    out[written++] = byte;
    copied = end;
    backslash = input.indexOf('\\', end);
  }
  if (copied === 0) return input;
  written = copyRun(out, written, input, copied, length);
  return outputString(out, written);
}
