// XSS detection (ALGORITHM.md §2.3–§2.6): tokenize the input as HTML from five starting states
// and flag blacklisted tags, event-handler and other dangerous attributes, `javascript:`-like
// URLs and suspicious comments. Tables come from data/xss-tables.json.
import { readFileSync } from 'node:fs';
import { Html5Context, Html5TokenType, Html5Tokenizer } from './html5-tokenizer.ts';

interface XssTables {
  readonly blacklistedTags: { readonly exact: readonly string[]; readonly prefixes: readonly string[] };
  readonly eventAttributes: { readonly names: readonly string[] };
  readonly attributePrefixes: { readonly names: readonly string[] };
  readonly attributes: { readonly entries: Readonly<Record<string, string>> };
  readonly urlSchemePrefixes: { readonly names: readonly string[] };
}

function loadXssTables(): XssTables {
  const raw: unknown = JSON.parse(readFileSync(new URL('./data/xss-tables.json', import.meta.url), 'utf8'));
  const tables = raw as XssTables;
  if (
    !Array.isArray(tables.blacklistedTags?.exact) ||
    !Array.isArray(tables.blacklistedTags.prefixes) ||
    !Array.isArray(tables.eventAttributes?.names) ||
    !Array.isArray(tables.attributePrefixes?.names) ||
    typeof tables.attributes?.entries !== 'object' ||
    !Array.isArray(tables.urlSchemePrefixes?.names)
  ) {
    throw new Error('libinjection: data/xss-tables.json has an unexpected shape');
  }
  return tables;
}

/** What an attribute's value is checked for. */
const AttrKind = { NONE: 0, BLACK: 1, URL: 2, STYLE: 3, INDIRECT: 4 } as const;
const ATTR_KIND_BY_NAME: Readonly<Record<string, number>> = { black: AttrKind.BLACK, url: AttrKind.URL, style: AttrKind.STYLE, indirect: AttrKind.INDIRECT };

function upper(b: number): number {
  return b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
}

/** Longer than every tag and attribute name. */
const NAME_SCRATCH_SIZE = 32;
const nameScratch = new Uint8Array(NAME_SCRATCH_SIZE);

/**
 * Names compared with whole tokens ignoring NUL bytes and ASCII case (equalIgnoringNul in
 * ALGORITHM.md §2.4), bucketed by length so that a token meets only the names of its length.
 */
class NulBlindNameTable {
  private readonly byLength: { name: string; value: number }[][] = [];

  constructor(entries: readonly (readonly [name: string, value: number])[]) {
    for (const [name, value] of entries) {
      if (name.length >= NAME_SCRATCH_SIZE) throw new Error(`libinjection: name too long: ${name}`);
      (this.byLength[name.length] ??= []).push({ name, value });
    }
  }

  /**
   * The value of the name that s[start .. start+length) spells once NULs are dropped, or -1.
   * `hasNul` says whether the input has a NUL byte anywhere; without one, a token can only
   * match a name of its own length.
   */
  find(s: string, start: number, length: number, hasNul: boolean): number {
    if (!hasNul) {
      const candidates = this.byLength[length];
      if (candidates === undefined) return -1;
      next: for (const { name, value } of candidates) {
        for (let i = 0; i < length; i++) if (upper(s.charCodeAt(start + i)) !== name.charCodeAt(i)) continue next;
        return value;
      }
      return -1;
    }
    let stripped = 0;
    for (let i = start; i < start + length; i++) {
      const b = s.charCodeAt(i);
      if (b === 0) continue;
      if (stripped === NAME_SCRATCH_SIZE) return -1;
      nameScratch[stripped++] = upper(b);
    }
    const candidates = this.byLength[stripped];
    if (candidates === undefined) return -1;
    next: for (const { name, value } of candidates) {
      for (let i = 0; i < stripped; i++) if (nameScratch[i] !== name.charCodeAt(i)) continue next;
      return value;
    }
    return -1;
  }
}

const tables = loadXssTables();
const BLACKLISTED_TAGS = new NulBlindNameTable(tables.blacklistedTags.exact.map((name) => [name, 1]));
const BLACKLISTED_TAG_PREFIXES = tables.blacklistedTags.prefixes;
/** Event names after `on`, bucketed by their first letter (A–Z → 0–25) to compare few. */
const EVENT_NAMES_BY_LETTER: readonly (readonly string[])[] = (() => {
  const buckets: string[][] = Array.from({ length: 26 }, () => []);
  for (const name of tables.eventAttributes.names) {
    const letter = name.charCodeAt(0) - 0x41;
    if (letter < 0 || letter >= 26) throw new Error(`libinjection: unexpected event name ${name}`);
    buckets[letter].push(name);
  }
  return buckets;
})();
const BLACK_ATTRIBUTE_PREFIXES = tables.attributePrefixes.names;
const ATTRIBUTES = new NulBlindNameTable(
  Object.entries(tables.attributes.entries).map(([name, kind]): [string, number] => {
    const code = ATTR_KIND_BY_NAME[kind];
    if (code === undefined) throw new Error(`libinjection: unknown attribute kind ${kind}`);
    return [name, code];
  }),
);
const URL_SCHEME_PREFIXES = tables.urlSchemePrefixes.names;

/**
 * The `name.length` bytes at `at` contain no NUL and, upper-cased, equal `name`. Bytes past `end`
 * count as NUL: the reference reads on past the token, but the byte after a token is a delimiter
 * that no table name contains, so such a window never matches.
 */
function startsWithName(name: string, s: string, at: number, end: number): boolean {
  if (at + name.length > end) return false;
  for (let i = 0; i < name.length; i++) {
    if (upper(s.charCodeAt(at + i)) !== name.charCodeAt(i)) return false;
  }
  return true;
}

function isBlacklistedTag(s: string, start: number, length: number, hasNul: boolean): boolean {
  if (length < 3) return false;
  if (BLACKLISTED_TAGS.find(s, start, length, hasNul) !== -1) return true;
  // `<svg`, `<svg:x`, `<xslt`: the first three raw bytes
  for (const prefix of BLACKLISTED_TAG_PREFIXES) if (startsWithName(prefix, s, start, start + 3)) return true;
  return false;
}

function attributeKind(s: string, start: number, length: number, hasNul: boolean): number {
  if (length < 2) return AttrKind.NONE;
  const end = start + length;
  if (length >= 5) {
    // Event handlers are a prefix match after `on`: `onclickfoo` counts as `onclick`.
    if (upper(s.charCodeAt(start)) === 0x4f && upper(s.charCodeAt(start + 1)) === 0x4e) {
      const letter = upper(s.charCodeAt(start + 2)) - 0x41;
      if (letter >= 0 && letter < 26) {
        for (const name of EVENT_NAMES_BY_LETTER[letter]) if (startsWithName(name, s, start + 2, end)) return AttrKind.BLACK;
      }
    }
    for (const prefix of BLACK_ATTRIBUTE_PREFIXES) if (startsWithName(prefix, s, start, end)) return AttrKind.BLACK;
  }
  const kind = ATTRIBUTES.find(s, start, length, hasNul);
  return kind === -1 ? AttrKind.NONE : kind;
}

/** The minimal HTML character reference decoder (§2.6); sets decodedValue / decodedLength. */
let decodedValue = 0;
let decodedLength = 0;
const MAX_CODE_POINT = 0x1000ff;

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  return -1;
}

/** Byte i of s, or 0 at or past `end` (the reference reads the zeros after its input). */
function byteBefore(s: string, i: number, end: number): number {
  return i < end ? s.charCodeAt(i) : 0;
}

function decodeOne(s: string, at: number, end: number): void {
  const m = end - at;
  const b0 = s.charCodeAt(at);
  decodedLength = 1;
  decodedValue = b0;
  if (b0 !== 0x26 || m < 2) return;
  decodedValue = 0x26;
  if (s.charCodeAt(at + 1) !== 0x23) return;
  const b2 = byteBefore(s, at + 2, end);
  if (b2 === 0x78 || b2 === 0x58) {
    let v = hexValue(byteBefore(s, at + 3, end));
    if (v === -1) return;
    for (let i = 4; i < m; i++) {
      const b = s.charCodeAt(at + i);
      if (b === 0x3b) return setDecoded(v, i + 1);
      const digit = hexValue(b);
      if (digit === -1) return setDecoded(v, i);
      v = v * 16 + digit;
      if (v > MAX_CODE_POINT) return;
    }
    return setDecoded(v, m > 4 ? m : 4);
  }
  if (b2 < 0x30 || b2 > 0x39) return;
  let v = b2 - 0x30;
  for (let i = 3; i < m; i++) {
    const b = s.charCodeAt(at + i);
    if (b === 0x3b) return setDecoded(v, i + 1);
    if (b < 0x30 || b > 0x39) return setDecoded(v, i);
    v = v * 10 + (b - 0x30);
    if (v > MAX_CODE_POINT) return;
  }
  return setDecoded(v, m > 3 ? m : 3);
}

function setDecoded(value: number, length: number): void {
  decodedValue = value;
  decodedLength = length;
}

/** The entity-decoded bytes s[at .. end) start with `prefix` (upper case), as §2.5 compares. */
function htmlStartsWith(prefix: string, s: string, at: number, end: number): boolean {
  let k = 0;
  let first = true;
  let i = at;
  while (i < end) {
    if (k === prefix.length) return true;
    decodeOne(s, i, end);
    i += decodedLength;
    let v = decodedValue;
    if (first && v <= 32) continue; // leading whitespace and controls, encoded or not
    first = false;
    if (v === 0 || v === 10) continue; // NUL and newline are ignored anywhere
    if (v >= 0x61 && v <= 0x7a) v -= 0x20;
    if ((v & 0xff) !== prefix.charCodeAt(k)) return false;
    k++;
  }
  return k === prefix.length;
}

function isBlackUrl(s: string, start: number, length: number): boolean {
  const end = start + length;
  let i = start;
  while (i < end) {
    const b = s.charCodeAt(i);
    if (b > 0x20 && b < 0x7f) break;
    i++;
  }
  for (const scheme of URL_SCHEME_PREFIXES) if (htmlStartsWith(scheme, s, i, end)) return true;
  return false;
}

function startsWithIgnoringCase(word: string, s: string, start: number, length: number): boolean {
  return length >= word.length && startsWithName(word, s, start, start + length);
}

function isBlackComment(s: string, start: number, length: number): boolean {
  const end = start + length;
  for (let i = start; i < end; i++) if (s.charCodeAt(i) === 0x60) return true; // IE's backtick quirks
  if (length > 3) {
    // `<!--[if` conditional comments, `<?xml`
    if (s.charCodeAt(start) === 0x5b && upper(s.charCodeAt(start + 1)) === 0x49 && upper(s.charCodeAt(start + 2)) === 0x46) return true;
    if (startsWithIgnoringCase('XML', s, start, length)) return true;
  }
  if (length > 5 && (startsWithIgnoringCase('IMPORT', s, start, length) || startsWithIgnoringCase('ENTITY', s, start, length))) return true;
  return false;
}

const tokenizer = new Html5Tokenizer();

/** libinjection_is_xss: is `input` XSS when placed in the HTML context `context` (Html5Context)? */
export function isXssInContext(input: string, context: number): boolean {
  tokenizer.reset(input, context);
  const s = input;
  const hasNul = input.includes('\0');
  let attr: number = AttrKind.NONE;
  while (tokenizer.next()) {
    const type = tokenizer.tokenType;
    const start = tokenizer.tokenStart;
    const length = tokenizer.tokenLength;
    if (type !== Html5TokenType.ATTR_VALUE) attr = AttrKind.NONE;
    switch (type) {
      case Html5TokenType.DOCTYPE:
        return true;
      case Html5TokenType.TAG_NAME_OPEN:
        if (isBlacklistedTag(s, start, length, hasNul)) return true;
        break;
      case Html5TokenType.ATTR_NAME:
        attr = attributeKind(s, start, length, hasNul);
        break;
      case Html5TokenType.ATTR_VALUE:
        switch (attr) {
          case AttrKind.BLACK:
          case AttrKind.STYLE:
            return true;
          case AttrKind.URL:
            if (isBlackUrl(s, start, length)) return true;
            break;
          case AttrKind.INDIRECT:
            // `attributeName="onclick"`: the value names an attribute
            if (attributeKind(s, start, length, hasNul) !== AttrKind.NONE) return true;
            break;
        }
        attr = AttrKind.NONE;
        break;
      case Html5TokenType.TAG_COMMENT:
        if (isBlackComment(s, start, length)) return true;
        break;
    }
  }
  return false;
}

/** libinjection_xss: is the binary string `input` (one char per byte) XSS in any HTML context? */
export function detectXss(input: string): boolean {
  return (
    isXssInContext(input, Html5Context.DATA) ||
    isXssInContext(input, Html5Context.VALUE_NO_QUOTE) ||
    isXssInContext(input, Html5Context.VALUE_SINGLE_QUOTE) ||
    isXssInContext(input, Html5Context.VALUE_DOUBLE_QUOTE) ||
    isXssInContext(input, Html5Context.VALUE_BACK_QUOTE)
  );
}
