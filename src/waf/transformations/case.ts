// lowercase and uppercase. ModSecurity maps bytes with C's tolower()/toupper() in the "C" locale,
// so only the ASCII letters change (Coraza's Unicode case mapping of UTF-8 differs; CRS's tests do
// not depend on it). JavaScript's own case mapping is used when it agrees, which is whenever no
// Latin-1 letter it would also map is present.
import { bytesString, inputBytes, isAscii } from './bytes.ts';

/** Latin-1 bytes that String#toLowerCase changes besides A–Z. */
const LATIN1_UPPER = /[\xc0-\xd6\xd8-\xde]/;

/** Latin-1 bytes that String#toUpperCase changes besides a–z (ÿ, µ and ß even leave Latin-1). */
const LATIN1_LOWER = /[\xb5\xdf-\xf6\xf8-\xff]/;

export function lowercase(input: string): string {
  const lowered = input.toLowerCase();
  if (lowered === input) return input;
  return isAscii(input) || !LATIN1_UPPER.test(input) ? lowered : shiftLetters(input, 0x41, 0x20);
}

export function uppercase(input: string): string {
  const uppered = input.toUpperCase();
  if (uppered === input) return input;
  return isAscii(input) || !LATIN1_LOWER.test(input) ? uppered : shiftLetters(input, 0x61, -0x20);
}

/** Adds `shift` to the 26 ASCII letters from `first` on, leaving every other byte as it is. */
function shiftLetters(input: string, first: number, shift: number): string {
  const length = input.length;
  const bytes = inputBytes(input);
  for (let i = 0; i < length; i++) {
    const c = bytes[i];
    if (c >= first && c < first + 26) bytes[i] = c + shift;
  }
  return bytesString(bytes, length);
}
