// The value model of the rules language (SPEC.md section 5), shared by the parser, the compiler,
// the function library and the context builders.
//
// Bytes are "binary strings": one UTF-16 code unit per byte, each in 0..255. Node hands request
// heads to us as latin1 strings already, V8 stores such strings one byte per character, and
// `===`, `<` and `indexOf` on them are byte equality, unsigned bytewise order and a native
// substring search. Text that is not already binary (expression source, JSON test vectors) is
// converted once with `utf8Bytes`.

/** A type name exactly as error details print it: Bytes, Int, Bool, Ip, Array<T>, Map<T>. */
export type Type = 'Bytes' | 'Int' | 'Bool' | 'Ip' | `Array<${string}>` | `Map<${string}>`;

/** A byte string: every char code is in 0..255. */
export type Bytes = string;

/** A signed 64-bit integer: a number when |v| ≤ 2^53−1, otherwise a bigint (never both for one value). */
export type Int = number | bigint;

/** An IP address; the family is part of the value (an IPv4-mapped IPv6 address is IPv6). */
export type Ip = Ipv4 | Ipv6;
export interface Ipv4 {
  readonly family: 4;
  /** The address as an unsigned 32-bit integer. */
  readonly value: number;
}
export interface Ipv6 {
  readonly family: 6;
  /** The address as an unsigned 128-bit integer. */
  readonly value: bigint;
}

/**
 * A map value. Its keys are byte strings and its iteration order is ascending bytewise key order
 * (SPEC 5): builders insert keys in that order (`sortedMap`), so map-each can iterate directly.
 */
export type ByteMap = ReadonlyMap<Bytes, Value>;

export type Value = Bytes | Int | boolean | Ip | readonly Value[] | ByteMap;

/** A missing value (SPEC 9) is `undefined` everywhere in the engine. */
export type MaybeValue = Value | undefined;

export const arrayOf = (element: Type): Type => `Array<${element}>`;
export const mapOf = (element: Type): Type => `Map<${element}>`;

export function isArrayType(type: Type): boolean {
  return type.startsWith('Array<');
}

export function isMapType(type: Type): boolean {
  return type.startsWith('Map<');
}

/** The element type of an Array or Map type, or undefined for a scalar type. */
export function elementType(type: Type): Type | undefined {
  if (type.startsWith('Array<')) return type.slice(6, -1) as Type;
  if (type.startsWith('Map<')) return type.slice(4, -1) as Type;
  return undefined;
}

/** Parses a type name as written in schemes (`Map<Array<Bytes>>`); undefined if it is not one. */
export function parseType(text: string): Type | undefined {
  if (text === 'Bytes' || text === 'Int' || text === 'Bool' || text === 'Ip') return text;
  for (const wrapper of ['Array<', 'Map<'] as const) {
    if (text.startsWith(wrapper) && text.endsWith('>')) {
      const inner = parseType(text.slice(wrapper.length, -1));
      return inner === undefined ? undefined : (`${wrapper}${inner}>` as Type);
    }
  }
  return undefined;
}

/** Depth of Array/Map nesting of a type (`Bytes` → 0, `Map<Array<Bytes>>` → 2). */
export function nestingDepth(type: Type): number {
  let depth = 0;
  for (let t: Type | undefined = elementType(type); t !== undefined; t = elementType(t)) depth++;
  return depth;
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of a JavaScript string, as a byte string. */
export function utf8Bytes(text: string): Bytes {
  // ASCII needs no conversion; most expressions and field values are ASCII.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text;
  return Buffer.from(encoder.encode(text)).toString('latin1');
}

/** Decodes a byte string as UTF-8; undefined when it is not valid UTF-8. */
export function decodeUtf8(bytes: Bytes): string | undefined {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return bytes;
  try {
    return utf8Decoder.decode(Buffer.from(bytes, 'latin1'));
  } catch {
    return undefined;
  }
}
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A byte string from raw bytes. */
export function bytesFrom(buffer: Uint8Array): Bytes {
  return Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).toString('latin1');
}

/** Normalises an integer to the engine's representation (number when safe, bigint otherwise). */
export function normalizeInt(value: bigint): Int {
  return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value;
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** A map whose iteration order is ascending bytewise key order, as map values require. */
export function sortedMap(entries: Iterable<readonly [Bytes, Value]>): ByteMap {
  const list = [...entries];
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(list);
}

// JavaScript's case mapping also maps Latin-1 letters (0xC0–0xDE ↔ 0xE0–0xFE, which are UTF-8 lead
// and continuation bytes here) and takes µ, ÿ and ß outside one byte, so the native methods are
// only used on pure-ASCII strings.
const ASCII_UPPER = /[A-Z]/;
const ASCII_LOWER = /[a-z]/;
const NON_ASCII = /[\x80-\xff]/;
const ASCII_UPPER_RUNS = /[A-Z]+/g;
const ASCII_LOWER_RUNS = /[a-z]+/g;
const toLower = (run: string): string => run.toLowerCase();
const toUpper = (run: string): string => run.toUpperCase();

/** Maps ASCII `A–Z` to `a–z` and leaves every other byte alone; returns the argument when nothing changes. */
export function asciiLowercase(bytes: Bytes): Bytes {
  if (!ASCII_UPPER.test(bytes)) return bytes;
  return NON_ASCII.test(bytes) ? bytes.replace(ASCII_UPPER_RUNS, toLower) : bytes.toLowerCase();
}

/** Maps ASCII `a–z` to `A–Z` and leaves every other byte alone; returns the argument when nothing changes. */
export function asciiUppercase(bytes: Bytes): Bytes {
  if (!ASCII_LOWER.test(bytes)) return bytes;
  return NON_ASCII.test(bytes) ? bytes.replace(ASCII_LOWER_RUNS, toUpper) : bytes.toUpperCase();
}

/** The UTF-8 bytes of one Unicode scalar value (not a surrogate). */
export function utf8OfCodePoint(codePoint: number): Bytes {
  if (codePoint < 0x80) return String.fromCharCode(codePoint);
  if (codePoint < 0x800) return String.fromCharCode(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f));
  if (codePoint < 0x10000) {
    return String.fromCharCode(0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f));
  }
  return String.fromCharCode(
    0xf0 | (codePoint >> 18),
    0x80 | ((codePoint >> 12) & 0x3f),
    0x80 | ((codePoint >> 6) & 0x3f),
    0x80 | (codePoint & 0x3f),
  );
}

/** Unicode White_Space (Rust's `char::is_whitespace`): what the reference engine trims and `\s` in Unicode mode means. */
export function isUnicodeWhiteSpace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x20 ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}
