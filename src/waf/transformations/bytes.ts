// What the transformations share: byte classes, hex digits, and the scratch buffers in which a
// value is rewritten.
//
// Values are binary strings (one char per byte, code units 0–255). A transformation that has to
// rewrite a value copies it into a scratch buffer with one native call, rewrites the bytes there
// (in place when the output never outgrows the input), and turns the result back into a string
// with another. Reading bytes from a buffer is cheaper than charCodeAt, and runs of bytes that
// pass through unchanged are found with the native String#indexOf and moved with copyWithin.

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

/**
 * Whether the value has no byte from 0x80 on: its UTF-8 length equals its length (a vectorised
 * native count, several times faster than any scan in JavaScript or a RegExp).
 */
export function isAscii(input: string): boolean {
  return Buffer.byteLength(input, 'utf8') === input.length;
}

/** An octal digit. */
export function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

/** Zero bytes after the value in inputBytes(): C's string terminator, which ModSecurity's code reads. */
const TERMINATOR_BYTES = 8;

/** Longest value kept in the scratch buffers; longer ones get buffers of their own. */
const KEPT_CAPACITY = 1 << 20;

/**
 * After this many plain bytes in a row, the rest of the run is found with String#indexOf and moved
 * with copyWithin; the two native calls cost about as much as moving a hundred bytes one by one.
 */
export const LONG_RUN = 128;

let inputScratch: Buffer = Buffer.allocUnsafeSlow(16 * 1024);
let outputScratch: Buffer = Buffer.allocUnsafeSlow(16 * 1024);

/** `kept` if it holds `capacity` bytes, else a new buffer (grown geometrically while it may be kept). */
function scratchOf(kept: Buffer, capacity: number): Buffer {
  if (capacity <= kept.length) return kept;
  if (capacity > KEPT_CAPACITY) return Buffer.allocUnsafeSlow(capacity);
  return Buffer.allocUnsafeSlow(Math.min(KEPT_CAPACITY, Math.max(capacity, kept.length * 2)));
}

/**
 * The value's bytes in a scratch buffer, followed by zero bytes as a C string is. The scratch
 * buffers are shared: a transformation turns its result into a string before it returns, and none
 * calls another in between, so one pair serves them all (per thread: each loads its own module).
 */
export function inputBytes(input: string): Buffer {
  const length = input.length;
  const bytes = scratchOf(inputScratch, length + TERMINATOR_BYTES);
  if (bytes.length <= KEPT_CAPACITY) inputScratch = bytes;
  bytes.write(input, 0, 'latin1');
  for (let k = length; k < length + TERMINATOR_BYTES; k++) bytes[k] = 0;
  return bytes;
}

/** A second scratch buffer of at least `capacity` bytes, for outputs that outgrow their input. */
export function outputBuffer(capacity: number): Buffer {
  const bytes = scratchOf(outputScratch, capacity);
  if (bytes.length <= KEPT_CAPACITY) outputScratch = bytes;
  return bytes;
}

/** bytes[0, length) as a binary string. */
export function bytesString(bytes: Buffer, length: number): string {
  return bytes.toString('latin1', 0, length);
}

/** Moves bytes[from, to) down to `at` (a no-op while nothing before them has shrunk); returns where they end. */
export function moveRun(bytes: Buffer, at: number, from: number, to: number): number {
  if (at !== from) bytes.copyWithin(at, from, to);
  return at + (to - from);
}
