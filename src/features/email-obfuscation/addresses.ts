// Finding email addresses in HTML text, and the encoded form that hides them from scrapers: the
// address's UTF-8 bytes XORed with a one-byte key, in hex, key first. It stops harvesters that
// match addresses in page source; a visitor's browser undoes it with the script in
// decoder-script.ts. Scanning is linear: each "@" is extended left and right over the characters
// an address may hold, never re-scanning what was passed.

/** Characters of an address's local part (the common unquoted ones). */
const isLocal = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
/** Characters of a domain: letters, digits, hyphen, dot. */
const isDomain = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46;
const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/** Longest local part and domain looked at (RFC 5321: 64 and 255). */
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
/** Longest text held back at the end of a text chunk because an address may continue in the next one. */
export const MAX_ADDRESS = MAX_LOCAL + 1 + MAX_DOMAIN;

export interface Found {
  start: number;
  end: number;
}

/** The next address in `text` at or after `from`, or undefined. */
export function findAddress(text: string, from: number): Found | undefined {
  let at = text.indexOf('@', from);
  while (at !== -1) {
    let start = at;
    while (start > from && at - start < MAX_LOCAL && isLocal(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && end - at <= MAX_DOMAIN && isDomain(text.charCodeAt(end))) end++;
    // A sentence's full stop or a dash after the address is not part of it.
    while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
    if (start < at && validDomain(text, at + 1, end)) return { start, end };
    at = text.indexOf('@', at + 1);
  }
  return undefined;
}

/** At least two labels, none empty, the last one of two or more letters. */
function validDomain(text: string, start: number, end: number): boolean {
  const lastDot = text.lastIndexOf('.', end - 1);
  if (lastDot <= start || end - lastDot - 1 < 2) return false;
  for (let i = lastDot + 1; i < end; i++) if (!isLetter(text.charCodeAt(i))) return false;
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 46 && (i === start || text.charCodeAt(i - 1) === 46)) return false;
  return true;
}

/**
 * Where the text that may still grow into an address begins: the start of the run of address
 * characters at its end (at most MAX_ADDRESS long); text.length when there is none.
 */
export function unfinishedTail(text: string): number {
  let i = text.length;
  const limit = Math.max(0, text.length - MAX_ADDRESS);
  while (i > limit) {
    const c = text.charCodeAt(i - 1);
    if (!isLocal(c) && c !== 64 /* @ */) break;
    i--;
  }
  return i;
}

const HEX = '0123456789abcdef';

/** `value`'s UTF-8 bytes XORed with `key` (1–255), in hex, after the key itself. */
export function encodeAddress(value: string, key: number): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = HEX[key >> 4] + HEX[key & 15];
  for (const byte of bytes) {
    const x = byte ^ key;
    out += HEX[x >> 4] + HEX[x & 15];
  }
  return out;
}

/** The inverse of encodeAddress. */
export function decodeAddress(hex: string): string {
  const key = parseInt(hex.slice(0, 2), 16);
  const bytes = Buffer.alloc((hex.length >> 1) - 1);
  for (let i = 2; i < hex.length; i += 2) bytes[(i >> 1) - 1] = parseInt(hex.slice(i, i + 2), 16) ^ key;
  return bytes.toString('utf8');
}

const REFERENCES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * An attribute value as a browser reads it, for the character references a mailto: link
 * plausibly holds (&amp; &lt; &gt; &quot; &apos; and numeric ones; `&name=` stays as written, as
 * in a query string); undefined when it holds any other reference, so that the caller leaves such
 * a link alone rather than change it.
 */
export function decodeAttributeValue(raw: string): string | undefined {
  if (raw.indexOf('&') === -1) return raw;
  let unknown = false;
  const decoded = raw.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*)(;?)/g, (whole, name: string, semi: string, offset: number) => {
    if (name.charCodeAt(0) === 35 /* # */) {
      const hex = name.charCodeAt(1) === 120 || name.charCodeAt(1) === 88;
      const code = hex ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (semi === '' || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        unknown = true;
        return whole;
      }
      return String.fromCodePoint(code);
    }
    // In an attribute, a name without ";" followed by "=" is never a reference (HTML standard 13.2.5.73).
    if (semi === '' && raw.charCodeAt(offset + whole.length) === 61 /* = */) return whole;
    const text = semi === ';' ? REFERENCES[name] : undefined;
    if (text === undefined) unknown = true;
    return text ?? whole;
  });
  return unknown ? undefined : decoded;
}
