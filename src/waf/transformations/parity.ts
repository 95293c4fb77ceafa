// parityEven7bit, parityOdd7bit, parityZero7bit: bit 7 of each byte becomes a parity bit.
import { bytesString, inputBytes } from './bytes.ts';

/** 1 where the byte has an odd number of bits set. */
const ODD_BITS: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let byte = 1; byte < 256; byte++) table[byte] = table[byte >> 1] ^ (byte & 1);
  return table;
})();

/**
 * Bit 7 set where the byte's bits (all eight, as ModSecurity counts them) are odd, cleared where
 * they are even; for 7-bit bytes that makes the count even.
 */
export function parityEven7bit(input: string): string {
  return mapBytes(input, (c) => (ODD_BITS[c] === 1 ? c | 0x80 : c & 0x7f));
}

/** The opposite of parityEven7bit: for 7-bit bytes the count becomes odd. */
export function parityOdd7bit(input: string): string {
  return mapBytes(input, (c) => (ODD_BITS[c] === 1 ? c & 0x7f : c | 0x80));
}

/** Bit 7 cleared. */
export function parityZero7bit(input: string): string {
  return mapBytes(input, (c) => c & 0x7f);
}

function mapBytes(input: string, map: (c: number) => number): string {
  const length = input.length;
  const bytes = inputBytes(input);
  let changed = false;
  for (let i = 0; i < length; i++) {
    const c = bytes[i];
    const mapped = map(c);
    if (mapped !== c) {
      bytes[i] = mapped;
      changed = true;
    }
  }
  return changed ? bytesString(bytes, length) : input;
}
