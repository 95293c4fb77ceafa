// url_decode (SPEC.md 11.3): `+` → space, `%HH` → byte, optionally `%uXXXX` → UTF-8 and
// repetition to a fixed point; malformed sequences are copied unchanged.
import { utf8OfCodePoint, type Bytes } from '../values.ts';
import { defineFunction, field, literal, literalValue } from './signature.ts';

export interface UrlDecodeOptions {
  /** `u`: decode `%uXXXX`. */
  readonly unicode: boolean;
  /** `r`: decode again until nothing changes. */
  readonly repeat: boolean;
}

export const urlDecode = defineFunction({
  name: 'url_decode',
  arguments: [field('Bytes'), literal(['Bytes'], (options) => /^[ru]*$/.test(options as Bytes))],
  minArgs: 1,
  returns: 'Bytes',
  compile(params) {
    const letters = params.length > 1 ? (literalValue(params[1]) as Bytes) : '';
    const options: UrlDecodeOptions = { unicode: letters.includes('u'), repeat: letters.includes('r') };
    return (args) => (args[0] === undefined ? undefined : decodeUrl(args[0] as Bytes, options));
  },
});

export function decodeUrl(encoded: Bytes, options: UrlDecodeOptions): Bytes {
  let decoded = decodePass(encoded, options.unicode);
  // Each changing pass shortens the text or removes a `+`, so this ends.
  if (options.repeat) {
    for (let previous = encoded; decoded !== previous; ) {
      previous = decoded;
      decoded = decodePass(previous, options.unicode);
    }
  }
  return decoded;
}

const PERCENT = 0x25;
const PLUS = 0x2b;

/** One decoding pass; returns `encoded` itself when nothing changes. */
function decodePass(encoded: Bytes, unicode: boolean): Bytes {
  if (encoded.indexOf('%') < 0 && encoded.indexOf('+') < 0) return encoded;
  let decoded = '';
  let copiedUpTo = 0;
  for (let i = 0; i < encoded.length; i++) {
    const code = encoded.charCodeAt(i);
    let replacement: string | undefined;
    let length = 1;
    if (code === PLUS) {
      replacement = ' ';
    } else if (code === PERCENT) {
      const high = hexValue(encoded.charCodeAt(i + 1));
      const low = hexValue(encoded.charCodeAt(i + 2));
      if (high >= 0 && low >= 0) {
        replacement = String.fromCharCode((high << 4) | low);
        length = 3;
      } else if (unicode && (encoded[i + 1] === 'u' || encoded[i + 1] === 'U')) {
        const codePoint = hex4(encoded, i + 2);
        // Surrogate code points have no UTF-8 form: the sequence stays as it is.
        if (codePoint >= 0 && (codePoint < 0xd800 || codePoint > 0xdfff)) {
          replacement = utf8OfCodePoint(codePoint);
          length = 6;
        }
      }
    }
    if (replacement !== undefined) {
      decoded += encoded.slice(copiedUpTo, i) + replacement;
      i += length - 1;
      copiedUpTo = i + 1;
    }
  }
  return copiedUpTo === 0 ? encoded : decoded + encoded.slice(copiedUpTo);
}

/** The value of a hex digit's char code, or -1 (also for NaN, past the end). */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const letter = code | 0x20;
  return letter >= 0x61 && letter <= 0x66 ? letter - 0x57 : -1;
}

/** Four hex digits at `i` as a number, or -1. */
function hex4(text: Bytes, i: number): number {
  let value = 0;
  for (let k = i; k < i + 4; k++) {
    const digit = hexValue(text.charCodeAt(k));
    if (digit < 0) return -1;
    value = (value << 4) | digit;
  }
  return value;
}
