// base64Decode, base64DecodeExt, base64Encode.
import { bytesString, inputBytes } from './bytes.ts';

/** A base64 digit's value (standard alphabet), or -1; indexed by byte. */
const BASE64_VALUE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let value = 0; value < 64; value++) table[alphabet.charCodeAt(value)] = value;
  return table;
})();

/**
 * Decodes the base64 digits the value starts with and stops at the first other byte, padding
 * included, as ModSecurity v2 (APR's decoder) does; a last group of 2 or 3 digits gives 1 or 2
 * bytes, a lone digit none. (Coraza skips CR and LF instead of stopping; CRS removes whitespace
 * before it decodes.)
 */
export function base64Decode(input: string): string {
  if (input.length === 0) return input;
  let digits = 0;
  while (digits < input.length && BASE64_VALUE[input.charCodeAt(digits)] >= 0) digits++;
  if (digits <= SHORT_DIGITS) return decodeShort(input, digits);
  // only digits are passed, so Node's decoder has nothing to be lenient about
  return Buffer.from(digits === input.length ? input : input.slice(0, digits), 'base64').toString('latin1');
}

/** Up to this many digits are decoded here: for the short values most requests have, a Buffer round trip costs more. */
const SHORT_DIGITS = 64;

/** The first `digits` characters of `input` (all base64 digits) decoded, a lone last digit dropped. */
function decodeShort(input: string, digits: number): string {
  let out = '';
  let i = 0;
  for (; i + 4 <= digits; i += 4) {
    const n = (value(input, i) << 18) | (value(input, i + 1) << 12) | (value(input, i + 2) << 6) | value(input, i + 3);
    out += String.fromCharCode(n >>> 16, (n >>> 8) & 0xff, n & 0xff);
  }
  const rest = digits - i;
  if (rest >= 2) {
    const n = (value(input, i) << 18) | (value(input, i + 1) << 12) | (rest === 3 ? value(input, i + 2) << 6 : 0);
    out += rest === 3 ? String.fromCharCode(n >>> 16, (n >>> 8) & 0xff) : String.fromCharCode(n >>> 16);
  }
  return out;
}

function value(input: string, at: number): number {
  return BASE64_VALUE[input.charCodeAt(at)];
}

/**
 * Forgiving base64, as ModSecurity's decode_base64_ext: bytes outside the alphabet are skipped
 * and `=` too, except that a `=` which follows a lone digit of a group and is not followed by
 * another `=` makes the whole result empty. NUL bytes are skipped like any other (v2 stops at the
 * first, its C string ending there; libmodsecurity3 reads on).
 */
export function base64DecodeExt(input: string): string {
  const length = input.length;
  if (length === 0) return input;
  // decoded in place: 4 digits give 3 bytes
  const bytes = inputBytes(input);
  let written = 0;
  let digits = 0;
  let partial = 0;
  for (let i = 0; i < length; i++) {
    const c = bytes[i];
    if (c === 0x3d) {
      if (digits % 4 === 1 && bytes[i + 1] !== 0x3d) return '';
      continue;
    }
    const value = BASE64_VALUE[c];
    if (value < 0) continue;
    switch (digits % 4) {
      case 0:
        partial = value << 2;
        break;
      case 1:
        bytes[written++] = partial | (value >> 4);
        partial = (value & 0x0f) << 4;
        break;
      case 2:
        bytes[written++] = partial | (value >> 2);
        partial = (value & 0x03) << 6;
        break;
      default:
        bytes[written++] = partial | value;
    }
    digits++;
  }
  return bytesString(bytes, written);
}

export function base64Encode(input: string): string {
  return input.length === 0 ? input : Buffer.from(input, 'latin1').toString('base64');
}
