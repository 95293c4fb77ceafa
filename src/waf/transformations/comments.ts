// Comments: replaceComments, removeComments, removeCommentsChar.
import { copyRun, outputBuffer, outputString } from './bytes.ts';

/** Each C comment /* … *\/ becomes one space; an unterminated one runs to the end of the value. */
export function replaceComments(input: string): string {
  let open = input.indexOf('/*');
  if (open < 0) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  let copied = 0;
  while (open >= 0) {
    written = copyRun(out, written, input, copied, open);
    out[written++] = 0x20;
    const close = input.indexOf('*/', open + 2);
    if (close < 0) return outputString(out, written);
    copied = close + 2;
    open = input.indexOf('/*', copied);
  }
  written = copyRun(out, written, input, copied, length);
  return outputString(out, written);
}

/**
 * Removes /* … *\/ and <!-- … --> comments (an unterminated one becomes a space at the end) and
 * cuts the value at the first `--` or `#` outside them. As in ModSecurity (and Coraza), either end
 * marker closes either kind of comment, the byte just after a comment's end is copied without
 * being looked at, and a comment ending the value leaves a NUL byte in its place.
 */
export function removeComments(input: string): string {
  if (input.indexOf('/*') < 0 && input.indexOf('--') < 0 && input.indexOf('#') < 0) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  let i = 0;
  scan: while (i < length) {
    const c = input.charCodeAt(i);
    if (c === 0x2f && input.charCodeAt(i + 1) === 0x2a) {
      i = commentEnd(input, i + 2);
    } else if (c === 0x3c && input.startsWith('!--', i + 1)) {
      i = commentEnd(input, i + 4);
    } else if ((c === 0x2d && input.charCodeAt(i + 1) === 0x2d) || c === 0x23) {
      break scan;
    } else {
      out[written++] = c;
      i++;
      continue;
    }
    if (i > length) {
      out[written++] = 0x20;
      break;
    }
    out[written++] = i < length ? input.charCodeAt(i) : 0;
    i++;
  }
  return outputString(out, written);
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
  if (input.indexOf('/*') < 0 && input.indexOf('*/') < 0 && input.indexOf('--') < 0 && input.indexOf('#') < 0) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  let i = 0;
  while (i < length) {
    const c = input.charCodeAt(i);
    const next = input.charCodeAt(i + 1);
    if ((c === 0x2f && next === 0x2a) || (c === 0x2a && next === 0x2f)) {
      i += 2;
    } else if (c === 0x3c && input.startsWith('!--', i + 1)) {
      i += 4;
    } else if (c === 0x2d && next === 0x2d) {
      i += input.charCodeAt(i + 2) === 0x3e ? 3 : 2;
    } else if (c === 0x23) {
      i++;
    } else {
      out[written++] = c;
      i++;
    }
  }
  return outputString(out, written);
}
