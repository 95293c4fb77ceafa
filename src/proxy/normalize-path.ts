// The one spelling of a request path that routes and plugins compare against, so that
// "//admin", "/./admin", "/a/../admin" and "/%61dmin" cannot slip past a rule written for
// "/admin" while the origin serves them as "/admin". Syntax-based normalisation (RFC 3986 §6.2.2):
// percent-encoded unreserved characters are decoded and other escapes kept (hex in upper case),
// dot segments are removed (§5.2.4), and repeated slashes are merged (nginx's merge_slashes).

/** ALPHA, DIGIT, "-", ".", "_", "~" (RFC 3986 §2.3): the only characters an escape is decoded to. */
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  UNRESERVED[c] = /[A-Za-z0-9._~-]/.test(ch) ? 1 : 0;
}
const HEX = '0123456789ABCDEF';

/**
 * The normal form of `path`: a request path without its query. A path that does not start with
 * "/" (`*`, an absolute-form target) is returned as it is. A path that is normal already, the
 * common case, comes back as the same string after one scan.
 */
export function normalizePath(path: string): string {
  return isNormal(path) ? path : walk(path, path.length, undefined);
}

/**
 * Where, in the request target `target` (path and query as received), the first `segments`
 * segments of its normal path end: what remains after that offset is the rest of the target in
 * its original bytes. The offset is that of the last time the segment was reached, so a rest
 * such as "/x/../../api/y" cannot climb back over the prefix.
 */
export function rawPrefixEnd(target: string, segments: number): number {
  if (segments === 0) return 0;
  const q = target.indexOf('?');
  const end = q === -1 ? target.length : q;
  const ends: number[] = [];
  walk(target, end, ends);
  return ends[segments - 1] ?? end;
}

/** Path segments in a normal path: "/" → 0, "/api" and "/api/" → 1, "/a/b" → 2. */
export function segmentCount(path: string): number {
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47 && i + 1 < path.length) n++;
  return n;
}

function isNormal(path: string): boolean {
  const len = path.length;
  if (len === 0 || path.charCodeAt(0) !== 47 /* / */) return true;
  for (let i = 0; i < len; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */) return false;
    if (c !== 47 || i + 1 === len) continue;
    const next = path.charCodeAt(i + 1);
    if (next === 47) return false;
    // "/." starts a dot segment only when the segment is "." or ".." ("/.well-known" is normal).
    if (next === 46 /* . */) {
      const after = i + 2 < len ? path.charCodeAt(i + 2) : 47;
      if (after === 47) return false;
      if (after === 46 && (i + 3 === len || path.charCodeAt(i + 3) === 47)) return false;
    }
  }
  return true;
}

/**
 * Normalises path[0, end). With `ends`, records for each segment of the result the offset in
 * `path` where it ends.
 */
function walk(path: string, end: number, ends: number[] | undefined): string {
  if (end === 0 || path.charCodeAt(0) !== 47) return path.slice(0, end);
  const out: string[] = [];
  let trailingSlash = false;
  let start = 1;
  while (start <= end) {
    let stop = path.indexOf('/', start);
    if (stop === -1 || stop > end) stop = end;
    const segment = decodeSegment(path, start, stop);
    const last = stop === end;
    if (segment === '..') {
      out.pop();
      ends?.pop();
      trailingSlash = last;
    } else if (segment === '.' || segment === '') {
      // "/a/." and "/a/" name the directory: keep its trailing slash; "//" in between merges.
      if (last) trailingSlash = true;
    } else {
      out.push(segment);
      ends?.push(stop);
      trailingSlash = false;
    }
    start = stop + 1;
  }
  return out.length === 0 ? '/' : '/' + out.join('/') + (trailingSlash ? '/' : '');
}

/**
 * path[start, stop) with escapes of unreserved characters decoded and other escapes in upper
 * case; a "%" that starts no escape becomes "%25", so the result reads the same when normalised again.
 */
function decodeSegment(path: string, start: number, stop: number): string {
  let pct = path.indexOf('%', start);
  if (pct === -1 || pct >= stop) return path.slice(start, stop);
  let out = '';
  let from = start;
  while (pct !== -1 && pct < stop) {
    out += path.slice(from, pct);
    const hi = pct + 2 < stop ? hexValue(path.charCodeAt(pct + 1)) : -1;
    const lo = hi === -1 ? -1 : hexValue(path.charCodeAt(pct + 2));
    if (lo === -1) {
      out += '%25';
      from = pct + 1;
    } else {
      const byte = hi * 16 + lo;
      out += byte < 128 && UNRESERVED[byte] === 1 ? String.fromCharCode(byte) : '%' + HEX[hi] + HEX[lo];
      from = pct + 3;
    }
    pct = path.indexOf('%', from);
  }
  return out + path.slice(from, stop);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}
