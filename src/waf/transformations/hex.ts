// hexDecode, hexEncode, sqlHexDecode.
import { bytesString, inputBytes } from './bytes.ts';

/**
 * Each pair of bytes becomes the byte they write in hex; a last odd byte is dropped. As in
 * ModSecurity, the digits are not checked (a non-hex byte is read with the arithmetic of a hex
 * letter), so every value decodes to something. (Coraza fails on them.)
 */
export function hexDecode(input: string): string {
  const pairs = input.length >> 1;
  const bytes = inputBytes(input);
  for (let k = 0; k < pairs; k++) bytes[k] = ((uncheckedHexDigit(bytes[2 * k]) << 4) + uncheckedHexDigit(bytes[2 * k + 1])) & 0xff;
  return bytesString(bytes, pairs);
}

/** ModSecurity's x2c() digit: `c - '0'` below 'A', `(c & 0xdf) - 'A' + 10` from 'A' on. */
function uncheckedHexDigit(c: number): number {
  return c >= 0x41 ? (c & 0xdf) - 0x41 + 10 : c - 0x30;
}

/** Each byte as two lower-case hex digits. */
export function hexEncode(input: string): string {
  return input.length === 0 ? input : Buffer.from(input, 'latin1').toString('hex');
}

/** `0x` or `0X` and the hex pairs that follow it. */
const SQL_HEX_LITERAL = /0[xX]((?:[0-9A-Fa-f]{2})+)/g;

/**
 * SQL hex literals become their bytes: 0x414243 → ABC; an odd last digit stays. As libmodsecurity3
 * decodes: ModSecurity v2 stops at the first NUL byte and copies the byte after each literal
 * without looking at it (so 0x410x42 stays 0x42 there); Coraza has no sqlHexDecode.
 */
export function sqlHexDecode(input: string): string {
  if (input.indexOf('0x') < 0 && input.indexOf('0X') < 0) return input;
  const decoded = input.replace(SQL_HEX_LITERAL, (_literal, digits: string) => Buffer.from(digits, 'hex').toString('latin1'));
  return decoded === input ? input : decoded;
}
