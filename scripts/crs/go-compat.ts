// Small re-implementations of the Go standard library functions whose exact behaviour decides
// the bytes go-ftw sends: net/textproto.CanonicalMIMEHeaderKey, net/url.QueryEscape,
// encoding/base64.StdEncoding.DecodeString, and Go's byte-wise string ordering.

/** RFC 7230 token characters: what Go's validHeaderFieldByte accepts. */
function isTokenByte(c: number): boolean {
  if (c >= 0x30 && c <= 0x39) return true; // 0-9
  if (c >= 0x41 && c <= 0x5a) return true; // A-Z
  if (c >= 0x61 && c <= 0x7a) return true; // a-z
  return "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c));
}

/**
 * net/textproto.CanonicalMIMEHeaderKey: "content-type" -> "Content-Type". A key with a byte that
 * is not a token character (a space, a colon, non-ASCII, ...) is returned unchanged.
 */
export function canonicalMimeHeaderKey(key: string): string {
  const bytes = Buffer.from(key, 'utf8');
  for (const c of bytes) if (!isTokenByte(c)) return key;
  let upper = true;
  let out = '';
  for (const c of bytes) {
    let ch = c;
    if (upper && ch >= 0x61 && ch <= 0x7a) ch -= 0x20;
    else if (!upper && ch >= 0x41 && ch <= 0x5a) ch += 0x20;
    out += String.fromCharCode(ch);
    upper = ch === 0x2d; // '-'
  }
  return out;
}

/** net/url.QueryEscape over bytes: unreserved bytes stay, space becomes '+', the rest %XX. */
export function goQueryEscape(bytes: Buffer): string {
  let out = '';
  for (const c of bytes) {
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f || c === 0x2e || c === 0x7e) {
      out += String.fromCharCode(c);
    } else if (c === 0x20) {
      out += '+';
    } else {
      out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

export class Base64Error extends Error {}

/**
 * encoding/base64.StdEncoding.DecodeString: '\r' and '\n' are skipped, every other character
 * must be in the standard alphabet, and padding is required. (Non-zero trailing bits are
 * accepted, as Go does without Strict().)
 */
export function goBase64Decode(text: string): Buffer {
  const s = text.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    const bad = s.search(/[^A-Za-z0-9+/=]/);
    throw new Base64Error(`illegal base64 data at input byte ${bad === -1 ? Math.max(0, s.length - (s.length % 4)) : bad}`);
  }
  return Buffer.from(s, 'base64');
}

/** Go's `<` on strings: byte-wise comparison of the UTF-8 encodings. */
export function goStringCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
