// Comments: replaceComments, removeComments, removeCommentsChar.
import { bytesString, inputBytes, moveRun } from './bytes.ts';

/** Each C comment /* … *\/ becomes one space; an unterminated one runs to the end of the value. */
export function replaceComments(input: string): string {
  let open = input.indexOf('/*');
  if (open < 0) return input;
  const length = input.length;
  const bytes = inputBytes(input);
  let written = open;
  while (open >= 0) {
    bytes[written++] = 0x20;
    const close = input.indexOf('*/', open + 2);
    if (close < 0) return bytesString(bytes, written);
    const after = close + 2;
    open = input.indexOf('/*', after);
    const end = open < 0 ? length : open;
    written = moveRun(bytes, written, after, end);
  }
  return bytesString(bytes, written);
}

/**
 * Removes /* … *\/ and <!-- … --> comments (an unterminated one becomes a space at the end) and
 * cuts the value at the first `--` or `#` outside them. As in ModSecurity (and Coraza), either end
 * marker closes either kind of comment, the byte just after a comment's end is copied without
 * being looked at, and a comment ending the value leaves a NUL byte in its place (the C string's
 * terminator).
 */
export function removeComments(input: string): string {
  const first = firstOf(input, ['/*', '<!--', '--', '#']);
  if (first < 0) return input;
  const length = input.length;
  const bytes = inputBytes(input);
  let written = first;
  let read = first;
  while (read < length) {
    const c = bytes[read];
    if (c === 0x2f && bytes[read + 1] === 0x2a) {
      read = commentEnd(input, read + 2);
    } else if (c === 0x3c && bytes[read + 1] === 0x21 && bytes[read + 2] === 0x2d && bytes[read + 3] === 0x2d) {
      read = commentEnd(input, read + 4);
    } else if ((c === 0x2d && bytes[read + 1] === 0x2d) || c === 0x23) {
      break;
    } else {
      bytes[written++] = c;
      read++;
      continue;
    }
    if (read > length) {
      bytes[written++] = 0x20;
      break;
    }
    bytes[written++] = bytes[read++];
  }
  return bytesString(bytes, written);
}

/** Where the comment whose body starts at `from` ends: just after its end marker, or past the value's end. */
function commentEnd(input: string, from: number): number {
  const star = input.indexOf('*/', from);
  const dashes = input.indexOf('-->', from);
  if (star >= 0 && (dashes < 0 || star < dashes)) return star + 2;
  return dashes >= 0 ? dashes + 3 : input.length + 1;
}

/** Removes the comment markers /* *\/ <!-- --> -- and #, leaving what they enclose. */
export function removeCommentsChar(input: string): string {
  const first = firstOf(input, ['/*', '*/', '<!--', '--', '#']);
  if (first < 0) return input;
  const length = input.length;
  const bytes = inputBytes(input);
  let written = first;
  let read = first;
  while (read < length) {
    const c = bytes[read];
    const next = bytes[read + 1];
    if ((c === 0x2f && next === 0x2a) || (c === 0x2a && next === 0x2f)) {
      read += 2;
    } else if (c === 0x3c && next === 0x21 && bytes[read + 2] === 0x2d && bytes[read + 3] === 0x2d) {
      read += 4;
    } else if (c === 0x2d && next === 0x2d) {
      read += bytes[read + 2] === 0x3e ? 3 : 2;
    } else if (c === 0x23) {
      read++;
    } else {
      bytes[written++] = c;
      read++;
    }
  }
  return bytesString(bytes, written);
}

/** Where the first of the markers occurs in input, or -1. */
function firstOf(input: string, markers: readonly string[]): number {
  let first = -1;
  for (const marker of markers) {
    const at = input.indexOf(marker);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}
