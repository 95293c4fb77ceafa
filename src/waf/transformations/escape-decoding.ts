// The loop the decoding transformations share (urlDecode, urlDecodeUni, htmlEntityDecode,
// jsDecode, cssDecode, escapeSeqDecode): find each byte that may start an escape, let the
// transformation read the escape there, and assemble the output.
//
// The output is assembled in one of two ways, whichever is cheaper for the value at hand. While
// escapes are few and far between, it is the slices of the input between them joined with the
// decoded bytes as strings, the escapes found with String#indexOf: V8 joins strings lazily, so
// this costs little more than the lookups. Once two come close together (or many have come), the
// rest is decoded in place in the input's bytes, read byte by byte by the transformation's own
// loop (written with its escape reader called directly, which V8 inlines; one loop shared by all
// would call six readers from one site, which it cannot).
import { inputBytes } from './bytes.ts';

/** What a transformation read at a byte that may start an escape. */
export interface Escape {
  /** Where the escape ends (the index just after it). */
  end: number;
  /** The byte it decodes to, or -1 if it decodes to nothing. */
  byte: number;
}

/**
 * Reads the escape at bytes[at] (whose value is `length` bytes, followed by zero bytes): fills in
 * `escape` and returns true, or returns false if no escape starts there (the byte then stays).
 */
export type EscapeReader = (bytes: Buffer, at: number, length: number, escape: Escape) => boolean;

/**
 * Decodes input[read, input.length) into bytes[written, …), bytes holding the input (and the
 * output so far before `written`, which never passes `read`); returns the whole output.
 */
export type InPlaceDecoder = (input: string, bytes: Buffer, written: number, read: number) => string;

/**
 * Escapes are decoded as string slices until a byte that may start one comes fewer than NEAR_GAP
 * bytes after another (or MANY_ESCAPES have been): each slice costs about as much as moving 20
 * bytes one by one, going in place two native copies of the whole value.
 */
const NEAR_GAP = 16;
const MANY_ESCAPES = 64;

/** One-char strings by byte. */
const BYTE_STRINGS: readonly string[] = Array.from({ length: 256 }, (_, byte) => String.fromCharCode(byte));

/**
 * Decodes every escape `readEscape` finds at the bytes in `triggers` (one or two chars), handing
 * over to `decodeInPlace` if they are dense; returns the input itself if there is none.
 */
export function decodeEscapes(input: string, triggers: string, readEscape: EscapeReader, decodeInPlace: InPlaceDecoder): string {
  let at = nextTrigger(input, 0, triggers);
  if (at < 0) return input;
  const length = input.length;
  const bytes = inputBytes(input);
  const escape: Escape = { end: 0, byte: -1 };
  let output = '';
  // input[0, copied) is in output
  let copied = 0;
  let decoded = 0;
  while (at >= 0) {
    let next = nextTrigger(input, at + 1, triggers);
    if ((next >= 0 && next - at < NEAR_GAP) || decoded === MANY_ESCAPES) {
      // bytes before the first escape are where they belong already
      return decoded === 0 ? decodeInPlace(input, bytes, at, at) : decodeInPlace(input, bytes, bytes.write(output, 0, 'latin1'), copied);
    }
    if (readEscape(bytes, at, length, escape)) {
      if (at > copied) output += input.slice(copied, at);
      if (escape.byte >= 0) output += BYTE_STRINGS[escape.byte];
      copied = escape.end;
      decoded++;
      if (next >= 0 && next < copied) next = nextTrigger(input, copied, triggers);
    }
    at = next;
  }
  if (decoded === 0) return input;
  return copied < length ? output + input.slice(copied) : output;
}

/** The next index at or after `from` of either char of `triggers`, or -1. */
export function nextTrigger(input: string, from: number, triggers: string): number {
  const first = input.indexOf(triggers[0], from);
  if (triggers.length === 1) return first;
  const second = input.indexOf(triggers[1], from);
  if (first < 0) return second;
  return second < 0 || first < second ? first : second;
}
