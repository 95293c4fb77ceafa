// Document encodings (SPEC §9). The rewriter works on "byte strings" (latin1: one char per
// byte), so untouched input passes through exactly; strings for handlers are decoded from the
// document encoding on demand and strings from handlers are encoded back into it. Legacy
// encoders are built lazily from Node's decoders (one reverse table per encoding).

import { isAscii as isAsciiBytes } from 'node:buffer';

const NOT_ASCII_COMPATIBLE = new Set(['utf-16le', 'utf-16be', 'iso-2022-jp', 'replacement']);

/** Canonical WHATWG name of an ASCII-compatible encoding label; throws a TypeError otherwise. */
export function resolveEncoding(label: string): string {
  let name: string;
  try {
    name = new TextDecoder(label.trim()).encoding;
  } catch {
    throw new TypeError(`Unknown character encoding has been provided: ${label}`);
  }
  if (NOT_ASCII_COMPATIBLE.has(name)) throw new TypeError(`Expected ASCII-compatible encoding, got ${name}`);
  return name;
}

function isAscii(s: string): boolean {
  return isAsciiRange(s, 0, s.length);
}

/** Below this length a charCodeAt loop beats a native call. */
const SHORT = 16;

/**
 * Whether s[start..end) is ASCII. Long ranges are measured natively: a string is ASCII exactly
 * when its UTF-8 length is its length (charCodeAt costs a few ns per char).
 */
export function isAsciiRange(s: string, start: number, end: number): boolean {
  if (end - start >= SHORT) return Buffer.byteLength(start === 0 && end === s.length ? s : s.slice(start, end), 'utf8') === end - start;
  for (let i = start; i < end; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Index of the first byte ≥ 0x80 in bytes[from..), or bytes.length if none. The range holding it
 * is halved with the native ASCII test, so finding it costs a few calls, not a loop over the bytes.
 */
export function firstNonAscii(bytes: Buffer, from: number): number {
  let lo = from;
  let hi = bytes.length;
  if (isAsciiBytes(bytes.subarray(lo, hi))) return hi;
  while (hi - lo > 64) {
    const mid = (lo + hi) >>> 1;
    if (isAsciiBytes(bytes.subarray(lo, mid))) lo = mid;
    else hi = mid;
  }
  while (bytes[lo] < 0x80) lo++;
  return lo;
}

/** A reverse table: code point → byte string, from decoding every one- and two-byte sequence (and GB18030's four-byte BMP ones). */
function buildEncoderTable(name: string): Map<number, string> {
  const table = new Map<number, string>();
  const decoder = new TextDecoder(name);
  const single = new Uint8Array(256);
  for (let b = 0; b < 256; b++) single[b] = b;
  // One byte per line: newline bytes are never consumed by an ASCII-compatible decoder's error handling.
  const probe = (bytes: number[][]): void => {
    const buf = new Uint8Array(bytes.reduce((n, b) => n + b.length + 1, 0));
    let k = 0;
    for (const b of bytes) { buf.set(b, k); k += b.length; buf[k++] = 10; }
    const lines = decoder.decode(buf).split('\n');
    for (let i = 0; i < bytes.length; i++) {
      const line = lines[i];
      const cp = line.codePointAt(0);
      if (cp === undefined || cp === 0xfffd || line.length !== (cp > 0xffff ? 2 : 1) || cp < 0x80) continue;
      if (!table.has(cp)) table.set(cp, String.fromCharCode(...bytes[i]));
    }
  };
  const singles: number[][] = [];
  for (let b = 0x80; b < 256; b++) singles.push([b]);
  probe(singles);
  const pairs: number[][] = [];
  for (let lead = 0x81; lead < 0xff; lead++) for (let trail = 0x40; trail < 0xff; trail++) pairs.push([lead, trail]);
  probe(pairs);
  // GB18030 also has four-byte sequences for the rest of the BMP (two-byte ones win where both exist).
  if (name === 'gb18030') probe(Array.from({ length: GB18030_BMP_POINTERS }, (_, pointer) => gb18030FourBytes(pointer)));
  return table;
}

/** Four-byte GB18030 pointers below this are BMP code points (index gb18030 ranges); supplementary ones start at 189000. */
const GB18030_BMP_POINTERS = 39420;
const GB18030_SUPPLEMENTARY_POINTER = 189000;

/** The four bytes of a GB18030 four-byte pointer (WHATWG Encoding, gb18030 encoder). */
function gb18030FourBytes(pointer: number): number[] {
  return [
    0x81 + Math.floor(pointer / 12600),
    0x30 + Math.floor((pointer % 12600) / 1260),
    0x81 + Math.floor((pointer % 1260) / 10),
    0x30 + (pointer % 10),
  ];
}

/** Streaming decoder for the text of one text node after another. */
export class TextNodeDecoder {
  readonly #name: string;
  readonly #asciiIsIdentity: boolean;
  #decoder: InstanceType<typeof TextDecoder> | null = null; // created on the first non-ASCII byte
  /** The decoder may hold an incomplete sequence (the next piece does not start a character). */
  holding = false;

  constructor(name: string) {
    this.#name = name;
    this.#asciiIsIdentity = name !== 'x-user-defined';
  }

  /** Decodes the next piece of a node (latin1 byte string). */
  decode(bytes: string): string {
    if (this.#asciiIsIdentity && !this.holding && isAscii(bytes)) return bytes;
    this.holding = true;
    this.#decoder ??= new TextDecoder(this.#name, { ignoreBOM: true }); // a U+FEFF in the text is text
    const out = this.#decoder.decode(Buffer.from(bytes, 'latin1'), { stream: true });
    if (this.#asciiIsIdentity && isAscii(bytes)) this.holding = false;
    return out;
  }

  /** Ends the node: what the decoder still holds (usually "", or U+FFFD for a truncated sequence). */
  flush(): string {
    if (!this.holding || this.#decoder === null) return '';
    this.holding = false;
    return this.#decoder.decode();
  }
}

export class DocumentEncoding {
  readonly name: string;
  readonly isUtf8: boolean;
  /** ASCII bytes decode to the same characters (so ASCII text needs no decoder). */
  readonly asciiIsIdentity: boolean;
  #table: Map<number, string> | null = null;
  #decoder: InstanceType<typeof TextDecoder> | null = null;

  constructor(name: string) {
    this.name = name;
    this.isUtf8 = name === 'utf-8';
    this.asciiIsIdentity = name !== 'x-user-defined';
  }

  /** Decodes a whole value (attribute value, comment, doctype part) from document bytes. */
  decode(bytes: string): string {
    if (this.asciiIsIdentity && isAscii(bytes)) return bytes;
    this.#decoder ??= new TextDecoder(this.name);
    return this.#decoder.decode(Buffer.from(bytes, 'latin1'));
  }

  newTextDecoder(): TextNodeDecoder {
    return new TextNodeDecoder(this.name);
  }

  /** Encodes a string into document bytes; unrepresentable characters become `&#NNNN;`. */
  encode(s: string): string {
    if (isAscii(s)) return s;
    if (this.isUtf8) return Buffer.from(s, 'utf8').toString('latin1');
    return this.#encodeLegacy(s, true) as string;
  }

  /** Encodes a string into document bytes, or null if a character cannot be represented. */
  encodeStrict(s: string): string | null {
    if (isAscii(s)) return s;
    if (this.isUtf8) return Buffer.from(s.toWellFormed(), 'utf8').toString('latin1');
    return this.#encodeLegacy(s, false);
  }

  #encodeLegacy(s: string, refs: boolean): string | null {
    this.#table ??= buildEncoderTable(this.name);
    let out = '';
    for (const ch of s) {
      const cp = ch.codePointAt(0) as number;
      if (cp < 0x80) { out += ch; continue; }
      const bytes = this.#table.get(cp);
      if (bytes !== undefined) out += bytes;
      else if (cp > 0xffff && this.name === 'gb18030') out += String.fromCharCode(...gb18030FourBytes(GB18030_SUPPLEMENTARY_POINTER + cp - 0x10000));
      else if (refs) out += `&#${cp};`;
      else return null;
    }
    return out;
  }
}

const ENCODINGS = new Map<string, DocumentEncoding>();

/** The shared encoding object for a canonical encoding name. */
export function documentEncoding(name: string): DocumentEncoding {
  let e = ENCODINGS.get(name);
  if (e === undefined) ENCODINGS.set(name, e = new DocumentEncoding(name));
  return e;
}
