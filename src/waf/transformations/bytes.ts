// What the transformations share: byte classes, hex digits, and the scratch buffer in which a
// rewritten value is assembled.
//
// Values are binary strings (one char per byte, code units 0–255). A transformation that has to
// rewrite a value writes the new bytes into the scratch buffer and turns them into a string with
// one native call; runs of the input that pass through unchanged are copied into it in bulk.

/** A hex digit's value, or -1; indexed by byte. */
export const HEX_VALUE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let c = 0x30; c <= 0x39; c++) table[c] = c - 0x30;
  for (let c = 0x41; c <= 0x46; c++) {
    table[c] = c - 0x41 + 10;
    table[c + 0x20] = c - 0x41 + 10;
  }
  return table;
})();

/** Lower-case hex digits by value, as ModSecurity prints them. */
export const HEX_DIGITS = '0123456789abcdef';

/** C's isspace() in the "C" locale ModSecurity runs in: \t \n \v \f \r and space. */
export function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** C's isdigit(). */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** C's isalnum() in the "C" locale: ASCII letters and digits only. */
export function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
}

/** An octal digit. */
export function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

/**
 * ModSecurity's x2c(): the byte written as two hex digits at input[at], computed without checking
 * that they are hex digits (as hexDecode relies on): a digit is `c - '0'` below 'A' and
 * `(c & 0xdf) - 'A' + 10` from 'A' on, in byte arithmetic.
 */
export function hexPairValue(input: string, at: number): number {
  const high = input.charCodeAt(at);
  const low = input.charCodeAt(at + 1);
  const highDigit = high >= 0x41 ? (high & 0xdf) - 0x41 + 10 : high - 0x30;
  const lowDigit = low >= 0x41 ? (low & 0xdf) - 0x41 + 10 : low - 0x30;
  return ((highDigit << 4) + lowDigit) & 0xff;
}

/** Longest value whose output is assembled in the kept scratch buffer; longer ones get their own. */
const KEPT_CAPACITY = 1 << 20;

/** Runs shorter than this are copied byte by byte; a native copy costs more to set up. */
const BULK_COPY = 32;

let scratch: Buffer = Buffer.allocUnsafeSlow(16 * 1024);

/**
 * A buffer of at least `capacity` bytes to assemble one output in. It is shared: a transformation
 * fills it from offset 0 and turns it into a string before it returns, and none calls another in
 * between, so one buffer serves them all (per thread: each worker thread loads its own module).
 */
export function outputBuffer(capacity: number): Buffer {
  if (capacity <= scratch.length) return scratch;
  if (capacity > KEPT_CAPACITY) return Buffer.allocUnsafeSlow(capacity);
  scratch = Buffer.allocUnsafeSlow(Math.min(KEPT_CAPACITY, Math.max(capacity, scratch.length * 2)));
  return scratch;
}

/** Copies input[from, to) into out at `at`; returns the offset after it. */
export function copyRun(out: Buffer, at: number, input: string, from: number, to: number): number {
  if (to - from >= BULK_COPY) return at + out.write(input.slice(from, to), at, 'latin1');
  for (let k = from; k < to; k++) out[at++] = input.charCodeAt(k);
  return at;
}

/** The first `length` bytes of out as a binary string. */
export function outputString(out: Buffer, length: number): string {
  return out.toString('latin1', 0, length);
}
