// REQUEST_COOKIES / REQUEST_COOKIES_NAMES from the Cookie header(s), as ModSecurity parses them
// (v2 with its default SecCookieFormat 0, and v3, which agree):
// - each header is split on ';'; empty pieces are skipped;
// - whitespace before a cookie's name is skipped, and after the last cookie of a header;
// - the name ends at the first '=' and keeps any whitespace before it; the value is the rest,
//   as sent (not trimmed, not URL-decoded); a piece without '=' is a name with the value "";
// - a cookie whose name is empty is skipped.
// Coraza also trims whitespace around each name and at the end of each value; v2 guesses ',' as
// the separator for a header without ';' that holds ", ". Neither is followed: ModSecurity v3's
// way is v2's own for every header that has a ';'.
import type { NameValue } from './types.ts';

/** C `isspace`: space, \t, \n, \v, \f, \r. */
function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

export function parseCookies(headerValues: readonly string[]): NameValue[] {
  const cookies: NameValue[] = [];
  for (const header of headerValues) {
    let end = header.length;
    while (end > 0 && isSpace(header.charCodeAt(end - 1))) end--;
    // The next '=' is found once and moved forward only when passed: linear in the header.
    let nextEquals = header.indexOf('=');
    let start = 0;
    while (start < end) {
      let pieceEnd = header.indexOf(';', start);
      if (pieceEnd === -1 || pieceEnd > end) pieceEnd = end;
      let nameStart = start;
      while (nameStart < pieceEnd && isSpace(header.charCodeAt(nameStart))) nameStart++;
      if (nextEquals !== -1 && nextEquals < nameStart) nextEquals = header.indexOf('=', nameStart);
      const equals = nextEquals === -1 || nextEquals > pieceEnd ? pieceEnd : nextEquals;
      if (equals > nameStart) {
        cookies.push([header.slice(nameStart, equals), equals === pieceEnd ? '' : header.slice(equals + 1, pieceEnd)]);
      }
      start = pieceEnd + 1;
    }
  }
  return cookies;
}
