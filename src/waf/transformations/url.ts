// Percent-encoding: urlDecode, urlDecodeUni, urlEncode, and utf8toUnicode, which writes UTF-8
// characters as the %uXXXX escapes urlDecodeUni reads (CRS chains the two).
import { BEST_FIT } from './unicode-best-fit.ts';
import { copyRun, HEX_DIGITS, HEX_VALUE, outputBuffer, outputString } from './bytes.ts';

/** `+` becomes a space and %HH its byte; a `%` not followed by two hex digits stays as it is. */
export function urlDecode(input: string): string {
  return percentDecode(input, false);
}

/**
 * urlDecode, and IIS's %uXXXX (u or U) too: the code point's best-fit ASCII byte where it has one
 * (unicode-best-fit.ts), else its low byte, plus 0x20 for full-width ASCII (U+FF01–U+FF5E). A %u
 * without four hex digits stays as it is, and is not read as %HH either.
 */
export function urlDecodeUni(input: string): string {
  return percentDecode(input, true);
}

function percentDecode(input: string, iisUnicode: boolean): string {
  let percent = input.indexOf('%');
  let plus = input.indexOf('+');
  if (percent < 0 && plus < 0) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  // input[0, copied) is in out; it stays 0 until something is decoded
  let copied = 0;
  while (percent >= 0 || plus >= 0) {
    if (plus >= 0 && (percent < 0 || plus < percent)) {
      written = copyRun(out, written, input, copied, plus);
      out[written++] = 0x20;
      copied = plus + 1;
      plus = input.indexOf('+', copied);
      continue;
    }
    const at = percent;
    const next = input.charCodeAt(at + 1);
    let byte = -1;
    let escapeLength = 3;
    if (iisUnicode && (next === 0x75 || next === 0x55)) {
      if (at + 5 < length) byte = iisUnicodeByte(input, at + 2);
      escapeLength = 6;
    } else if (at + 2 < length) {
      const high = HEX_VALUE[next];
      const low = HEX_VALUE[input.charCodeAt(at + 2)];
      if (high >= 0 && low >= 0) byte = (high << 4) | low;
    }
    if (byte < 0) {
      percent = input.indexOf('%', at + 1);
      continue;
    }
    written = copyRun(out, written, input, copied, at);
    out[written++] = byte;
    copied = at + escapeLength;
    percent = input.indexOf('%', copied);
  }
  if (copied === 0) return input;
  written = copyRun(out, written, input, copied, length);
  return outputString(out, written);
}

/** The byte for the four hex digits of a %uXXXX at input[at], or -1 if they are not all hex. */
function iisUnicodeByte(input: string, at: number): number {
  const d1 = HEX_VALUE[input.charCodeAt(at)];
  const d2 = HEX_VALUE[input.charCodeAt(at + 1)];
  const d3 = HEX_VALUE[input.charCodeAt(at + 2)];
  const d4 = HEX_VALUE[input.charCodeAt(at + 3)];
  if ((d1 | d2 | d3 | d4) < 0) return -1;
  const bestFit = BEST_FIT[(d1 << 12) | (d2 << 8) | (d3 << 4) | d4];
  if (bestFit !== 0) return bestFit;
  const low = (d3 << 4) | d4;
  return d1 === 15 && d2 === 15 && low > 0 && low < 0x5f ? low + 0x20 : low;
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
  const out = outputBuffer(length * 3);
  let written = copyRun(out, 0, input, 0, first);
  for (let i = first; i < length; i++) {
    const c = input.charCodeAt(i);
    if (URL_KEPT[c] === 1) {
      out[written++] = c;
    } else if (c === 0x20) {
      out[written++] = 0x2b;
    } else {
      out[written++] = 0x25;
      out[written++] = HEX_DIGITS.charCodeAt(c >> 4);
      out[written++] = HEX_DIGITS.charCodeAt(c & 15);
    }
  }
  return outputString(out, written);
}

/** Bytes utf8toUnicode may change: NUL and everything from 0x80 on. */
const NOT_PLAIN_ASCII = /[\0\x80-\xff]/;

/**
 * Each well-formed UTF-8 sequence becomes %uXXXX: its code point in lower-case hex, padded to four
 * digits (five or six for the planes above the BMP, which ModSecurity also decodes from F5–F7 lead
 * bytes). As in ModSecurity v2, a lead byte is written once more after its escape when the
 * sequence is overlong or encodes a surrogate (twice when both), a lead byte from F5 on is
 * written before its escape, a lead byte whose continuation bytes are missing is dropped, stray
 * continuation bytes and F8–FF stay, and NUL bytes are dropped.
 */
export function utf8toUnicode(input: string): string {
  const first = input.search(NOT_PLAIN_ASCII);
  if (first < 0) return input;
  const length = input.length;
  const out = outputBuffer(length * 4);
  let written = copyRun(out, 0, input, 0, first);
  let changed = false;
  let i = first;
  while (i < length) {
    const c = input.charCodeAt(i);
    if (c < 0x80) {
      if (c !== 0) out[written++] = c;
      else changed = true;
      i++;
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
      i++;
      continue;
    }
    let k = 1;
    for (; k < sequenceLength && i + k < length; k++) {
      const continuation = input.charCodeAt(i + k);
      if ((continuation & 0xc0) !== 0x80) break;
      codePoint = (codePoint << 6) | (continuation & 0x3f);
    }
    if (k < sequenceLength) {
      if (c < 0xf5) changed = true;
      i++;
      continue;
    }
    changed = true;
    written = writeUnicodeEscape(out, written, codePoint);
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) out[written++] = c;
    if (codePoint < OVERLONG_BELOW[sequenceLength]) out[written++] = c;
    i += sequenceLength;
  }
  return changed ? outputString(out, written) : input;
}

/** A sequence of this many bytes (the index) is overlong when its code point is below the value. */
const OVERLONG_BELOW = [0, 0, 0x80, 0x800, 0x10000];

function writeUnicodeEscape(out: Buffer, at: number, codePoint: number): number {
  out[at++] = 0x25;
  out[at++] = 0x75;
  let digits = 4;
  while (codePoint >>> (digits * 4) !== 0) digits++;
  for (let shift = (digits - 1) * 4; shift >= 0; shift -= 4) out[at++] = HEX_DIGITS.charCodeAt((codePoint >>> shift) & 15);
  return at;
}
