// The tag names the tree-builder simulation, the ambiguity guard and the open-element stack
// care about, recognised straight from the input (ASCII-case-insensitively, no allocation).
// Other common HTML and SVG names are listed too, so that the open-element stack can name most
// elements with these strings instead of a lowercased copy of the input.
import { lowerSlice } from './content.ts';
import { SHORT_NAME, TEXT_PLAINTEXT, TEXT_RAWTEXT, TEXT_RCDATA, TEXT_SCRIPT } from './lexer.ts';

export const TAG_OTHER = 0;
const NAMES = [
  '', 'textarea', 'title', 'plaintext', 'script', 'style', 'iframe', 'xmp', 'noembed', 'noframes', 'noscript',
  'svg', 'math', 'font', 'select', 'template', 'frameset', 'input', 'keygen', 'p', 'br', 'meta',
  'foreignobject', 'desc', 'mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml', 'esi:include', 'esi:comment',
  // breakout-only
  'b', 'big', 'blockquote', 'body', 'center', 'code', 'dd', 'div', 'dl', 'dt', 'em', 'embed', 'h1', 'h2', 'h3', 'h4',
  'h5', 'h6', 'head', 'hr', 'i', 'img', 'li', 'listing', 'menu', 'nobr', 'ol', 'pre', 'ruby', 's', 'small', 'span',
  'strong', 'strike', 'sub', 'sup', 'table', 'tt', 'u', 'ul', 'var',
  // void-only
  'area', 'base', 'basefont', 'bgsound', 'col', 'link', 'param', 'source', 'track', 'wbr',
  // common elements without a role above
  'a', 'abbr', 'address', 'article', 'aside', 'audio', 'bdi', 'bdo', 'button', 'canvas', 'caption', 'cite', 'colgroup',
  'data', 'datalist', 'del', 'details', 'dfn', 'dialog', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'header',
  'hgroup', 'html', 'ins', 'kbd', 'label', 'legend', 'main', 'map', 'mark', 'nav', 'object', 'optgroup', 'option', 'output',
  'picture', 'progress', 'q', 'rp', 'rt', 'samp', 'search', 'section', 'slot', 'summary', 'tbody', 'td', 'tfoot', 'th',
  'thead', 'time', 'tr', 'video', 'circle', 'clippath', 'defs', 'ellipse', 'g', 'line', 'lineargradient', 'path', 'polygon',
  'polyline', 'rect', 'stop', 'symbol', 'use',
] as const;
/** Tag ids are [0, TAG_COUNT). */
export const TAG_COUNT = NAMES.length;
export const TAG_TEXTAREA = 1;
export const TAG_TITLE = 2;
export const TAG_PLAINTEXT = 3;
export const TAG_SCRIPT = 4;
export const TAG_NOSCRIPT = 10;
export const TAG_NOFRAMES = 9;
export const TAG_SVG = 11;
export const TAG_MATH = 12;
export const TAG_FONT = 13;
export const TAG_SELECT = 14;
export const TAG_TEMPLATE = 15;
export const TAG_FRAMESET = 16;
export const TAG_INPUT = 17;
export const TAG_KEYGEN = 18;
export const TAG_P = 19;
export const TAG_BR = 20;
export const TAG_META = 21;
export const TAG_FOREIGNOBJECT = 22;
export const TAG_DESC = 23;
export const TAG_ANNOTATION_XML = 29;
export const TAG_ESI_INCLUDE = 30;
export const TAG_ESI_COMMENT = 31;

/** The (lowercase) name of a known tag id. */
export function tagName(id: number): string {
  return NAMES[id];
}

// Flags per tag id.
export const F_TEXT_TAG = 1; // one of the ten text-type tags
export const F_BREAKOUT = 2; // leaves foreign content
export const F_VOID = 4; // HTML void element
export const F_SVG_IP = 8; // HTML integration point in SVG
export const F_MATHML_TEXT_IP = 16; // MathML text integration point

export const TAG_FLAGS = new Uint8Array(NAMES.length);
for (let id = TAG_TEXTAREA; id <= TAG_NOSCRIPT; id++) TAG_FLAGS[id] |= F_TEXT_TAG;
for (const n of ['b', 'big', 'blockquote', 'body', 'br', 'center', 'code', 'dd', 'div', 'dl', 'dt', 'em', 'embed', 'h1', 'h2', 'h3',
  'h4', 'h5', 'h6', 'head', 'hr', 'i', 'img', 'li', 'listing', 'menu', 'meta', 'nobr', 'ol', 'p', 'pre', 'ruby', 's', 'small',
  'span', 'strong', 'strike', 'sub', 'sup', 'table', 'tt', 'u', 'ul', 'var']) TAG_FLAGS[NAMES.indexOf(n as never)] |= F_BREAKOUT;
for (const n of ['area', 'base', 'basefont', 'bgsound', 'br', 'col', 'embed', 'hr', 'img', 'input', 'keygen', 'link', 'meta',
  'param', 'source', 'track', 'wbr']) TAG_FLAGS[NAMES.indexOf(n as never)] |= F_VOID;
for (const n of ['foreignobject', 'desc', 'title']) TAG_FLAGS[NAMES.indexOf(n as never)] |= F_SVG_IP;
for (const n of ['mi', 'mo', 'mn', 'ms', 'mtext']) TAG_FLAGS[NAMES.indexOf(n as never)] |= F_MATHML_TEXT_IP;

// Open-addressing table from a hash of the lowercased name to the tag id.
const TABLE_BITS = 10;
const TABLE = new Uint8Array(1 << TABLE_BITS);
const MAX_LEN = 14;

/**
 * Hash of a non-empty name s[start, start+len): its length and first, middle and last chars, not a
 * loop over the name. `| 32` folds ASCII case; it changes other chars too, but the same way for
 * a name and its lowercase form, which is all the tables need.
 */
function nameHash(s: string, start: number, len: number): number {
  const first = s.charCodeAt(start) | 32;
  const middle = s.charCodeAt(start + (len >> 1)) | 32;
  const last = s.charCodeAt(start + len - 1) | 32;
  return Math.imul((len << 24) ^ (first << 16) ^ (middle << 8) ^ last, 0x9e3779b1) >>> (32 - TABLE_BITS);
}
for (let id = 1; id < NAMES.length; id++) {
  let slot = nameHash(NAMES[id], 0, NAMES[id].length);
  while (TABLE[slot] !== 0) slot = (slot + 1) & ((1 << TABLE_BITS) - 1);
  TABLE[slot] = id;
}

// Names of up to SHORT_NAME chars, most tags, are looked up by an exact key instead (the lexer's
// `nameKey`): one integer compare, no second pass over the name.
const SHORT_BITS = 9;
const SHORT_KEYS = new Int32Array(1 << SHORT_BITS);
const SHORT_IDS = new Uint8Array(1 << SHORT_BITS);

/** The key (as Lexer.nameKey) of the name s[start, start+len) (len ≤ SHORT_NAME), or -1 if it has a non-ASCII char. */
export function shortKey(s: string, start: number, len: number): number {
  let packed = 0;
  for (let k = 0; k < len; k++) {
    let c = s.charCodeAt(start + k);
    if (c >= 128) return -1;
    if (c >= 65 && c <= 90) c += 32;
    packed = (packed << 7) | c;
  }
  return packed | (len << 28);
}

function shortSlot(key: number): number {
  return Math.imul(key, 0x9e3779b1) >>> (32 - SHORT_BITS);
}
for (let id = 1; id < NAMES.length; id++) {
  if (NAMES[id].length > SHORT_NAME) continue;
  const key = shortKey(NAMES[id], 0, NAMES[id].length);
  let slot = shortSlot(key);
  while (SHORT_KEYS[slot] !== 0) slot = (slot + 1) & ((1 << SHORT_BITS) - 1);
  SHORT_KEYS[slot] = key;
  SHORT_IDS[slot] = id;
}

/** The id of the tag whose name has this key (Lexer.nameKey, not -1), or TAG_OTHER. */
export function tagIdOfKey(key: number): number {
  for (let slot = shortSlot(key); ; slot = (slot + 1) & ((1 << SHORT_BITS) - 1)) {
    const k = SHORT_KEYS[slot];
    if (k === key) return SHORT_IDS[slot];
    if (k === 0) return TAG_OTHER;
  }
}

/** Whether s[start, start+name.length) is `name` (lowercase), ASCII-case-insensitively. */
function equalsLower(name: string, s: string, start: number): boolean {
  for (let k = 0; k < name.length; k++) {
    let c = s.charCodeAt(start + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== name.charCodeAt(k)) return false;
  }
  return true;
}

/** The id of the tag named s[start..end) (ASCII case-insensitive), or TAG_OTHER. */
export function tagIdOf(s: string, start: number, end: number): number {
  const len = end - start;
  if (len <= SHORT_NAME) {
    const key = len === 0 ? -1 : shortKey(s, start, len);
    return key === -1 ? TAG_OTHER : tagIdOfKey(key);
  }
  if (len > MAX_LEN) return TAG_OTHER;
  let slot = nameHash(s, start, len);
  for (;;) {
    const id = TABLE[slot];
    if (id === 0) return TAG_OTHER;
    const name = NAMES[id];
    if (name.length === len && equalsLower(name, s, start)) return id;
    slot = (slot + 1) & ((1 << TABLE_BITS) - 1);
  }
}

/**
 * Ids, from TAG_COUNT on, for the lowercased names of tags outside the table, given per rewriting
 * run. The last name per hash slot is remembered with its id: a name seen again is neither sliced
 * nor looked up again.
 */
export class OtherTagNames {
  readonly #slots: string[] = new Array<string>(1 << TABLE_BITS).fill('');
  readonly #slotIds = new Int32Array(1 << TABLE_BITS);
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];

  /** The id of the tag named s[start..end) (non-empty, not in the table), ASCII-case-insensitively. */
  idOf(s: string, start: number, end: number): number {
    const len = end - start;
    const slot = nameHash(s, start, len);
    const seen = this.#slots[slot];
    if (seen.length === len && equalsLower(seen, s, start)) return this.#slotIds[slot];
    const name = lowerSlice(s, start, end);
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = TAG_COUNT + this.#names.length;
      this.#names.push(name);
      this.#ids.set(name, id);
    }
    this.#slots[slot] = name;
    this.#slotIds[slot] = id;
    return id;
  }

  /** The lowercased name of an id given by idOf. */
  nameOf(id: number): string {
    return this.#names[id - TAG_COUNT];
  }
}

/** Text type (lexer TEXT_* code) a text-type tag switches to in HTML content. */
export function textTypeOfTag(id: number): number {
  if (id === TAG_TEXTAREA || id === TAG_TITLE) return TEXT_RCDATA;
  if (id === TAG_PLAINTEXT) return TEXT_PLAINTEXT;
  if (id === TAG_SCRIPT) return TEXT_SCRIPT;
  return TEXT_RAWTEXT;
}
