// Percent-encoding: urlDecode, urlDecodeUni, urlEncode, and utf8toUnicode, which writes UTF-8
// characters as the %uXXXX escapes urlDecodeUni reads (CRS chains the two).
import { BEST_FIT } from './unicode-best-fit.ts';
import { bytesString, HEX_DIGITS, HEX_VALUE, inputBytes, isAscii, LONG_RUN, moveRun, outputBuffer } from './bytes.ts';
import { decodeEscapes, type Escape, nextTrigger } from './escape-decoding.ts';

const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;

/** `+` becomes a space and %HH its byte; a `%` not followed by two hex digits stays as it is. */
export function urlDecode(input: string): string {
  return decodeEscapes(input, '%+', readUrlEscape, decodeUrlInPlace);
}

/**
 * urlDecode, and IIS's %uXXXX (u or U) too: the code point's best-fit ASCII byte where it has one
 * (unicode-best-fit.ts), else its low byte, plus 0x20 for full-width ASCII (U+FF01–U+FF5E). A %u
 * without four hex digits stays as it is, and is not read as %HH either.
 */
export function urlDecodeUni(input: string): string {
  return decodeEscapes(input, '%+', readUrlUniEscape, decodeUrlUniInPlace);
}

function readUrlEscape(bytes: Buffer, at: number, length: number, escape: Escape): boolean {
  return readPercentEscape(bytes, at, length, escape, false);
}

function readUrlUniEscape(bytes: Buffer, at: number, length: number, escape: Escape): boolean {
  return readPercentEscape(bytes, at, length, escape, true);
}

function decodeUrlInPlace(input: string, bytes: Buffer, written: number, read: number): string {
  return percentDecodeInPlace(input, bytes, written, read, false);
}

function decodeUrlUniInPlace(input: string, bytes: Buffer, written: number, read: number): string {
  return percentDecodeInPlace(input, bytes, written, read, true);
}

function readPercentEscape(bytes: Buffer, at: number, length: number, escape: Escape, iisUnicode: boolean): boolean {
  if (bytes[at] === PLUS) {
    escape.byte = SPACE;
    escape.end = at + 1;
    return true;
  }
  const next = bytes[at + 1];
  if (iisUnicode && (next === 0x75 || next === 0x55)) {
    if (at + 5 >= length) return false;
    const d1 = HEX_VALUE[bytes[at + 2]];
    const d2 = HEX_VALUE[bytes[at + 3]];
    const d3 = HEX_VALUE[bytes[at + 4]];
    const d4 = HEX_VALUE[bytes[at + 5]];
    if ((d1 | d2 | d3 | d4) < 0) return false;
    const bestFit = BEST_FIT[(d1 << 12) | (d2 << 8) | (d3 << 4) | d4];
    const low = (d3 << 4) | d4;
    if (bestFit !== 0) escape.byte = bestFit;
    else escape.byte = d1 === 15 && d2 === 15 && low > 0 && low < 0x5f ? low + 0x20 : low;
    escape.end = at + 6;
    return true;
  }
  const high = HEX_VALUE[next];
  const low = HEX_VALUE[bytes[at + 2]];
  if (at + 2 >= length || high < 0 || low < 0) return false;
  escape.byte = (high << 4) | low;
  escape.end = at + 3;
  return true;
}

function percentDecodeInPlace(input: string, bytes: Buffer, written: number, read: number, iisUnicode: boolean): string {
  const length = input.length;
  const escape: Escape = { end: 0, byte: -1 };
  let plainRun = 0;
  while (read < length) {
    const c = bytes[read];
    if ((c === PERCENT || c === PLUS) && readPercentEscape(bytes, read, length, escape, iisUnicode)) {
      bytes[written++] = escape.byte;
      read = escape.end;
      plainRun = 0;
    } else if (++plainRun < LONG_RUN) {
      bytes[written++] = c;
      read++;
    } else {
      const next = nextTrigger(input, read + 1, '%+');
      const end = next < 0 ? length : next;
      written = moveRun(bytes, written, read, end);
      read = end;
      plainRun = 0;
    }
  }
  return bytesString(bytes, written);
}

/** Bytes urlEncode keeps: `*`, digits and ASCII letters. */
const URL_KEPT: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (const c of '*0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') table[c.charCodeAt(0)] = 1;
  return table;
})();

const URL_ENCODED = /[^*0-9A-Za-z]/;

/** A space becomes `+`, `*`, digits and letters stay, every other byte becomes %hh (lower case). */
export function urlEncode(input: string): string {
  const first = input.search(URL_ENCODED);
  if (first < 0) return input;
  const length = input.length;
  const bytes = inputBytes(input);
  const out = outputBuffer(length * 3);
  let written = bytes.copy(out, 0, 0, first);
  for (let read = first; read < length; read++) {
    const c = bytes[read];
    if (URL_KEPT[c] === 1) {
      out[written++] = c;
    } else if (c === SPACE) {
      out[written++] = PLUS;
    } else {
      out[written++] = PERCENT;
      out[written++] = HEX_DIGITS.charCodeAt(c >> 4);
      out[written++] = HEX_DIGITS.charCodeAt(c & 15);
    }
  }
  return bytesString(out, written);
}

/** Bytes utf8toUnicode may change: NUL and everything from 0x80 on. */
const NOT_PLAIN_ASCII = /[\0\x80-\xff]/;

/** A sequence of this many bytes (the index) is overlong when its code point is below the value. */
const OVERLONG_BELOW = [0, 0, 0x80, 0x800, 0x10000];

/**
 * Each well-formed UTF-8 sequence becomes %uXXXX: its code point in lower-case hex, padded to four
 * digits (five or six for the planes above the BMP, which ModSecurity also decodes from F5–F7 lead
 * bytes). As in ModSecurity v2, a lead byte is written once more after its escape when the
 * sequence is overlong or encodes a surrogate (twice when both), a lead byte from F5 on is
 * written before its escape, a lead byte whose continuation bytes are missing is dropped, stray
 * continuation bytes and F8–FF stay, and NUL bytes are dropped.
 */
export function utf8toUnicode(input: string): string {
  if (isAscii(input) && input.indexOf('\0') < 0) return input;
  const first = input.search(NOT_PLAIN_ASCII);
  const length = input.length;
  const bytes = inputBytes(input);
  // at most 7 bytes out of 2 in (an overlong 2-byte sequence)
  const out = outputBuffer(length * 4);
  let written = bytes.copy(out, 0, 0, first);
  let changed = false;
  let read = first;
  while (read < length) {
    const c = bytes[read];
    if (c < 0x80) {
      if (c !== 0) out[written++] = c;
      else changed = true;
      read++;
      continue;
    }
    let sequenceLength: number;
    let codePoint: number;
    if ((c & 0xe0) === 0xc0) {
      sequenceLength = 2;
      codePoint = c & 0x1f;
    } else if ((c & 0xf0) === 0xe0) {
      sequenceLength = 3;
      codePoint = c & 0x0f;
    } else if ((c & 0xf8) === 0xf0) {
      sequenceLength = 4;
      codePoint = c & 0x07;
      if (c >= 0xf5) out[written++] = c;
    } else {
      out[written++] = c;
      read++;
      continue;
    }
    // the terminating zero bytes are not continuation bytes, so this stops at the value's end
    let k = 1;
    for (; k < sequenceLength && (bytes[read + k] & 0xc0) === 0x80; k++) codePoint = (codePoint << 6) | (bytes[read + k] & 0x3f);
    if (k < sequenceLength) {
      if (c < 0xf5) changed = true;
      read++;
      continue;
    }
    changed = true;
    written = writeUnicodeEscape(out, written, codePoint);
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) out[written++] = c;
    if (codePoint < OVERLONG_BELOW[sequenceLength]) out[written++] = c;
    read += sequenceLength;
  }
  return changed ? bytesString(out, written) : input;
}

function writeUnicodeEscape(out: Buffer, at: number, codePoint: number): number {
  out[at++] = PERCENT;
  out[at++] = 0x75;
  let digits = 4;
  while (codePoint >>> (digits * 4) !== 0) digits++;
  for (let shift = (digits - 1) * 4; shift >= 0; shift -= 4) out[at++] = HEX_DIGITS.charCodeAt((codePoint >>> shift) & 15);
  return at;
}
