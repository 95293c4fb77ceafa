// normalizePath (normalisePath) and normalizePathWin (normalisePathWin): ModSecurity's in-place
// path normaliser, followed byte for byte, quirks included (CRS's path rules are written against
// it): `.` and `..` segments are resolved and repeated slashes collapsed, a relative path keeps
// the `..` it cannot resolve, a segment that merely ends in `..` ("a..") is taken for one, and a
// trailing slash stays only if the input had one. The Windows flavour first reads `\` as `/`.
// (Coraza uses Go's path.Clean, and for Windows also strips alternate data streams and trailing
// dots; CRS's tests do not depend on those.)
import { bytesString, inputBytes } from './bytes.ts';

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

export function normalizePath(input: string): string {
  return normalize(input, false);
}

export function normalizePathWin(input: string): string {
  return normalize(input, true);
}

function normalize(input: string, windows: boolean): string {
  const length = input.length;
  // with no separator, only a value ending in `.` can change
  if (input.indexOf('/') < 0 && (!windows || input.indexOf('\\') < 0) && input.charCodeAt(length - 1) !== DOT) return input;
  const path = inputBytes(input);
  const written = normalizeInPlace(path, length, windows);
  // the output never gets ahead of the input again once behind, so a full-length output is the
  // input itself, unless backslashes became slashes
  if (written === length && !(windows && input.indexOf('\\') >= 0)) return input;
  return bytesString(path, written);
}

/** Normalises path[0, length) in place (output never outruns input); returns the new length. */
function normalizeInPlace(path: Buffer, length: number, windows: boolean): number {
  const last = length - 1;
  const isSeparator = (c: number) => c === SLASH || (windows && c === BACKSLASH);
  const relative = !isSeparator(path[0]);
  const trailingSlash = isSeparator(path[last]);
  let src = 0;
  let dst = 0;
  let hitRoot = false;
  let done = false;
  while (!done && src <= last && dst <= last) {
    if (windows) {
      if (path[src] === BACKSLASH) path[src] = SLASH;
      if (src < last && path[src + 1] === BACKSLASH) path[src + 1] = SLASH;
    }
    if (src === last) done = true;
    // a segment is looked at when its last byte is reached
    if (done || path[src + 1] === SLASH) {
      const c = path[src];
      if (c === DOT) {
        if (dst > 0 && path[dst - 1] === DOT) {
          // `..`: unless nothing is left to remove, drop it and the segment before
          if (!(relative && (hitRoot || dst - 2 <= 0))) {
            dst -= 3;
            while (dst > 0 && path[dst] !== SLASH) dst--;
            if (dst <= 0) {
              hitRoot = true;
              dst = !relative && src === last ? 1 : 0;
            }
            if (done) break;
            src++;
          } else {
            hitRoot = true;
          }
        } else if (dst === 0) {
          // `.` leading a relative path
          if (done) break;
          src++;
        } else if (path[dst - 1] === SLASH) {
          // `.` segment
          if (done) break;
          dst--;
          src++;
        }
      } else if (c !== SLASH && dst > 0) {
        hitRoot = false;
      }
    }
    if (path[src] === SLASH) {
      // repeated separators: only the last is copied, and none at the start of a relative path
      while (src < last && isSeparator(path[src + 1])) src++;
      if (relative && dst === 0) {
        src++;
        continue;
      }
    }
    path[dst++] = path[src++];
  }
  if (!trailingSlash && dst > 0 && path[dst - 1] === SLASH) dst--;
  return dst;
}
