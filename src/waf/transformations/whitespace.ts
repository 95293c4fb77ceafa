// Whitespace and NUL bytes: trim, trimLeft, trimRight, compressWhitespace, removeWhitespace,
// removeNulls, replaceNulls.
//
// ModSecurity v2 classifies bytes with C's isspace() ("C" locale: \t \n \v \f \r and space); the
// compress and remove transformations count the Latin-1 no-break space (byte 0xa0) as whitespace
// too, trimming does not. Bytes are classified one by one (Coraza decodes UTF-8 first; CRS's tests
// do not tell the two apart).
import { bytesString, inputBytes, isCSpace } from './bytes.ts';

/** 1 for the bytes compressWhitespace and removeWhitespace treat as whitespace. */
const WHITESPACE_BYTES: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]) table[c] = 1;
  return table;
})();

const WHITESPACE = /[\t-\r \xa0]/;

/** Where compressWhitespace changes something: whitespace other than a lone space. */
const NOT_A_LONE_SPACE = /[\t-\r\xa0]| [\t-\r \xa0]/;

export function trimLeft(input: string): string {
  let start = 0;
  while (start < input.length && isCSpace(input.charCodeAt(start))) start++;
  return start === 0 ? input : input.slice(start);
}

export function trimRight(input: string): string {
  let end = input.length;
  while (end > 0 && isCSpace(input.charCodeAt(end - 1))) end--;
  return end === input.length ? input : input.slice(0, end);
}

export function trim(input: string): string {
  return trimRight(trimLeft(input));
}

/** Each run of whitespace becomes one space. */
export function compressWhitespace(input: string): string {
  // the byte before the first change is not whitespace, so no run is open there
  const first = input.search(NOT_A_LONE_SPACE);
  if (first < 0) return input;
  const length = input.length;
  const bytes = inputBytes(input);
  let written = first;
  let inRun = false;
  for (let read = first; read < length; read++) {
    const c = bytes[read];
    if (WHITESPACE_BYTES[c] === 0) {
      bytes[written++] = c;
      inRun = false;
    } else if (!inRun) {
      bytes[written++] = 0x20;
      inRun = true;
    }
  }
  return bytesString(bytes, written);
}

export function removeWhitespace(input: string): string {
  const first = input.search(WHITESPACE);
  if (first < 0) return input;
  const length = input.length;
  const bytes = inputBytes(input);
  let written = first;
  for (let read = first + 1; read < length; read++) {
    const c = bytes[read];
    if (WHITESPACE_BYTES[c] === 0) bytes[written++] = c;
  }
  return bytesString(bytes, written);
}

export function removeNulls(input: string): string {
  return input.indexOf('\0') < 0 ? input : input.replaceAll('\0', '');
}

export function replaceNulls(input: string): string {
  return input.indexOf('\0') < 0 ? input : input.replaceAll('\0', ' ');
}
