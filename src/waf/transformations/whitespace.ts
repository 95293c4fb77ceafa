// Whitespace and NUL bytes: trim, trimLeft, trimRight, compressWhitespace, removeWhitespace,
// removeNulls, replaceNulls.
//
// ModSecurity v2 classifies bytes with C's isspace() ("C" locale: \t \n \v \f \r and space); the
// compress and remove transformations count the Latin-1 no-break space (byte 0xa0) as whitespace
// too, trimming does not. Bytes are classified one by one (Coraza decodes UTF-8 first; CRS's tests
// do not tell the two apart).
import { isCSpace } from './bytes.ts';

/** A byte that compressWhitespace/removeWhitespace treat as whitespace. */
const WHITESPACE_RUN = /[\t-\r \xa0]+/g;

/** Where compressWhitespace changes something: whitespace other than a lone space. */
const NOT_A_LONE_SPACE = /[\t-\r\xa0]| [\t-\r \xa0]/;

const WHITESPACE = /[\t-\r \xa0]/;

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
  if (!NOT_A_LONE_SPACE.test(input)) return input;
  return input.replace(WHITESPACE_RUN, ' ');
}

export function removeWhitespace(input: string): string {
  if (!WHITESPACE.test(input)) return input;
  return input.replace(WHITESPACE_RUN, '');
}

export function removeNulls(input: string): string {
  return input.indexOf('\0') < 0 ? input : input.replaceAll('\0', '');
}

export function replaceNulls(input: string): string {
  return input.indexOf('\0') < 0 ? input : input.replaceAll('\0', ' ');
}
