// The SQL tables of libinjection (data/sqlparse_data.json), turned at module load into structures
// the tokenizer can query without allocating: a byte-class table, an open-addressing keyword hash
// over upper-cased bytes, and the fingerprint blacklist as a set of numbers.
import { readFileSync } from 'node:fs';

/** Byte classes of the SQL tokenizer (ALGORITHM.md §1.5), one scanner each. */
export const CharClass = {
  WHITE: 0,
  BANG: 1,
  OP2: 2,
  OP1: 3,
  UNARY: 4,
  STR: 5,
  HASH: 6,
  MONEY: 7,
  /** `( ) , ; { }`: a one-byte token whose type is the byte itself. */
  CHAR: 8,
  DASH: 9,
  NUM: 10,
  SLASH: 11,
  OTHER: 12,
  VAR: 13,
  BWORD: 14,
  BACK: 15,
  TICK: 16,
  BSTRING: 17,
  XSTRING: 18,
  ESTRING: 19,
  NQSTRING: 20,
  QSTRING: 21,
  USTRING: 22,
  WORD: 23,
} as const;

const CLASS_BY_NAME: Readonly<Record<string, number>> = {
  CHAR_WHITE: CharClass.WHITE,
  CHAR_BANG: CharClass.BANG,
  CHAR_OP2: CharClass.OP2,
  CHAR_OP1: CharClass.OP1,
  CHAR_UNARY: CharClass.UNARY,
  CHAR_STR: CharClass.STR,
  CHAR_HASH: CharClass.HASH,
  CHAR_MONEY: CharClass.MONEY,
  CHAR_LEFTPARENS: CharClass.CHAR,
  CHAR_RIGHTPARENS: CharClass.CHAR,
  CHAR_COMMA: CharClass.CHAR,
  CHAR_SEMICOLON: CharClass.CHAR,
  CHAR_LEFTBRACE: CharClass.CHAR,
  CHAR_RIGHTBRACE: CharClass.CHAR,
  CHAR_DASH: CharClass.DASH,
  CHAR_NUM: CharClass.NUM,
  CHAR_SLASH: CharClass.SLASH,
  CHAR_OTHER: CharClass.OTHER,
  CHAR_VAR: CharClass.VAR,
  CHAR_BWORD: CharClass.BWORD,
  CHAR_BACK: CharClass.BACK,
  CHAR_TICK: CharClass.TICK,
  CHAR_BSTRING: CharClass.BSTRING,
  CHAR_XSTRING: CharClass.XSTRING,
  CHAR_ESTRING: CharClass.ESTRING,
  CHAR_NQSTRING: CharClass.NQSTRING,
  CHAR_QSTRING: CharClass.QSTRING,
  CHAR_USTRING: CharClass.USTRING,
  CHAR_WORD: CharClass.WORD,
};

interface SqlparseData {
  readonly charmap: readonly string[];
  readonly keywords: Readonly<Record<string, string>>;
  readonly fingerprints: readonly string[];
}

function loadSqlparseData(): SqlparseData {
  const raw: unknown = JSON.parse(readFileSync(new URL('./data/sqlparse_data.json', import.meta.url), 'utf8'));
  const data = raw as SqlparseData;
  if (!Array.isArray(data.charmap) || data.charmap.length !== 256 || typeof data.keywords !== 'object' || !Array.isArray(data.fingerprints)) {
    throw new Error('libinjection: data/sqlparse_data.json has an unexpected shape');
  }
  return data;
}

const data = loadSqlparseData();

/** Byte value → CharClass. */
export const CHAR_CLASS = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const cls = CLASS_BY_NAME[data.charmap[b]];
  if (cls === undefined) throw new Error(`libinjection: unknown byte class ${data.charmap[b]}`);
  CHAR_CLASS[b] = cls;
}

/** Longest key a lookup can be asked for: token values are capped at 31 bytes. */
const MAX_LOOKUP_LENGTH = 31;

// Keyword hash: slot → offset of the key in KEY_BYTES (or -1), its length and its type (char code).
const SLOT_COUNT = 4096;
const SLOT_MASK = SLOT_COUNT - 1;
const slotKeyStart = new Int32Array(SLOT_COUNT).fill(-1);
const slotKeyLength = new Uint8Array(SLOT_COUNT);
const slotType = new Uint8Array(SLOT_COUNT);
const keyText = Object.keys(data.keywords).join('');
const KEY_BYTES = new Uint8Array(keyText.length);
for (let i = 0; i < keyText.length; i++) KEY_BYTES[i] = keyText.charCodeAt(i);

/** Lookup scratch: the upper-cased key being looked up. */
const scratch = new Uint8Array(MAX_LOOKUP_LENGTH + 1);

function hashScratch(length: number): number {
  let h = 0x811c9dc5 ^ length;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ scratch[i], 0x01000193);
  return (h ^ (h >>> 15)) & SLOT_MASK;
}

function scratchEqualsKey(length: number, slot: number): boolean {
  if (slotKeyLength[slot] !== length) return false;
  const start = slotKeyStart[slot];
  for (let i = 0; i < length; i++) if (KEY_BYTES[start + i] !== scratch[i]) return false;
  return true;
}

/** Type (char code) of the upper-cased key in scratch[0..length), or 0 when it is not a keyword. */
function lookupScratch(length: number): number {
  for (let slot = hashScratch(length); ; slot = (slot + 1) & SLOT_MASK) {
    if (slotKeyStart[slot] === -1) return 0;
    if (scratchEqualsKey(length, slot)) return slotType[slot];
  }
}

{
  let offset = 0;
  for (const [key, type] of Object.entries(data.keywords)) {
    if (key.length > MAX_LOOKUP_LENGTH || type.length !== 1) throw new Error(`libinjection: bad keyword entry ${key}`);
    for (let i = 0; i < key.length; i++) scratch[i] = key.charCodeAt(i);
    let slot = hashScratch(key.length);
    while (slotKeyStart[slot] !== -1) slot = (slot + 1) & SLOT_MASK;
    slotKeyStart[slot] = offset;
    slotKeyLength[slot] = key.length;
    slotType[slot] = type.charCodeAt(0);
    offset += key.length;
  }
}

function upperAscii(b: number): number {
  return b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
}

/**
 * Keyword type (char code) of the bytes `s[start .. start+length)`, ASCII-case-insensitively,
 * or 0 when they are not a keyword.
 */
export function lookupWord(s: string, start: number, length: number): number {
  if (length === 0 || length > MAX_LOOKUP_LENGTH) return 0;
  for (let i = 0; i < length; i++) scratch[i] = upperAscii(s.charCodeAt(start + i));
  return lookupScratch(length);
}

// Folding asks about every pair of adjacent words; two necessary conditions for `a b` to be a
// phrase reject most pairs without a lookup: some phrase has a space at offset len(a) with
// len(b) bytes after it, and some phrase starts with a's first byte and has b's first byte right
// after that space.
const phraseShapes = new Uint8Array((MAX_LOOKUP_LENGTH + 1) * (MAX_LOOKUP_LENGTH + 1));
const phraseInitials = new Uint8Array(256 * 256);
for (const key of Object.keys(data.keywords)) {
  for (let i = 1; i < key.length - 1; i++) {
    if (key.charCodeAt(i) !== 0x20) continue;
    phraseShapes[i * (MAX_LOOKUP_LENGTH + 1) + (key.length - i - 1)] = 1;
    phraseInitials[key.charCodeAt(0) * 256 + key.charCodeAt(i + 1)] = 1;
  }
}

/**
 * Keyword type of the phrase `a + " " + b` (ALGORITHM.md §1.6.2), or 0 when it is not a keyword or
 * longer than a token value can be.
 */
export function lookupPhrase(a: string, aStart: number, aLength: number, b: string, bStart: number, bLength: number): number {
  const length = aLength + 1 + bLength;
  if (length > MAX_LOOKUP_LENGTH || aLength === 0 || bLength === 0) return 0;
  if (phraseShapes[aLength * (MAX_LOOKUP_LENGTH + 1) + bLength] === 0) return 0;
  if (phraseInitials[upperAscii(a.charCodeAt(aStart)) * 256 + upperAscii(b.charCodeAt(bStart))] === 0) return 0;
  for (let i = 0; i < aLength; i++) scratch[i] = upperAscii(a.charCodeAt(aStart + i));
  scratch[aLength] = 0x20;
  for (let i = 0; i < bLength; i++) scratch[aLength + 1 + i] = upperAscii(b.charCodeAt(bStart + i));
  return lookupScratch(length);
}

/**
 * A fingerprint (≤ 5 token types) as a number: base-128 digits of the upper-cased type codes.
 * The blacklist is case-insensitive, so `t` and `T` give the same key.
 */
export function appendFingerprintKey(key: number, type: number): number {
  return key * 128 + upperAscii(type);
}

const BLACKLIST = new Set<number>();
for (const fingerprint of data.fingerprints) {
  let key = 0;
  for (let i = 0; i < fingerprint.length; i++) key = appendFingerprintKey(key, fingerprint.charCodeAt(i));
  BLACKLIST.add(key);
}

export function isBlacklistedFingerprintKey(key: number): boolean {
  return BLACKLIST.has(key);
}
