// UTF-8 for Unicode mode: code point ranges as byte-range sequences (the automaton a class compiles
// to), and decoding one character next to a haystack position (Unicode word boundaries).

export function encodeUtf8(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
}

/**
 * Calls `emit` with sequences of byte ranges, flattened [lo0, hi0, lo1, hi1, …], whose
 * concatenations are exactly the UTF-8 encodings of the scalar values in [start, end] (surrogates
 * excluded). Ranges are split until every byte position of a piece varies independently: then the
 * piece is the cross product of its per-byte ranges.
 */
export function utf8Sequences(start: number, end: number, emit: (sequence: number[]) => void): void {
  if (start > end) return;
  if (start <= 0xdfff && end >= 0xd800) {
    utf8Sequences(start, 0xd7ff, emit);
    utf8Sequences(0xe000, end, emit);
    return;
  }
  // Encoded lengths change at these code points.
  for (const boundary of [0x7f, 0x7ff, 0xffff]) {
    if (start <= boundary && end > boundary) {
      utf8Sequences(start, boundary, emit);
      utf8Sequences(boundary + 1, end, emit);
      return;
    }
  }
  if (end <= 0x7f) {
    emit([start, end]);
    return;
  }
  // Align on continuation-byte boundaries: a piece whose low 6·k bits do not span a full block
  // would make the earlier bytes depend on the later ones.
  for (let k = 1; k < 4; k++) {
    const low = (1 << (6 * k)) - 1;
    if ((start & ~low) !== (end & ~low)) {
      if ((start & low) !== 0) {
        utf8Sequences(start, start | low, emit);
        utf8Sequences((start | low) + 1, end, emit);
        return;
      }
      if ((end & low) !== low) {
        utf8Sequences(start, (end & ~low) - 1, emit);
        utf8Sequences(end & ~low, end, emit);
        return;
      }
    }
  }
  const from = encodeUtf8(start);
  const to = encodeUtf8(end);
  const sequence: number[] = [];
  for (let i = 0; i < from.length; i++) sequence.push(from[i], to[i]);
  emit(sequence);
}

/** The code point encoded at `at` in a byte string, or -1 if there is none or it is not valid UTF-8. */
export function decodeForward(bytes: string, at: number): number {
  if (at >= bytes.length) return -1;
  const b0 = bytes.charCodeAt(at) & 0xff;
  if (b0 < 0x80) return b0;
  const length = b0 >= 0xf0 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc0 ? 2 : 0;
  if (length === 0 || at + length > bytes.length) return -1;
  let cp = b0 & (0xff >> (length + 1));
  for (let i = 1; i < length; i++) {
    const b = bytes.charCodeAt(at + i) & 0xff;
    if ((b & 0xc0) !== 0x80) return -1;
    cp = (cp << 6) | (b & 0x3f);
  }
  // Overlong encodings, surrogates and values above U+10FFFF are not valid UTF-8.
  const minimum = length === 2 ? 0x80 : length === 3 ? 0x800 : 0x10000;
  if (cp < minimum || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  return cp;
}

/** The code point encoded just before `at`, or -1 if there is none or it is not valid UTF-8. */
export function decodeBackward(bytes: string, at: number): number {
  if (at <= 0) return -1;
  // A character is at most 4 bytes: find its lead byte.
  let start = at - 1;
  while (start > 0 && at - start < 4 && ((bytes.charCodeAt(start) & 0xff) & 0xc0) === 0x80) start--;
  const cp = decodeForward(bytes, start);
  if (cp < 0) return -1;
  const length = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  return start + length === at ? cp : -1;
}
