// CSS selector parsing and compilation for the rewriter (SPEC §5): the subset lol-html v3.0.1
// supports, its rejections (error kinds and messages) and its `:not()` quirks. A selector list
// compiles to compounds linked by child/descendant combinators; matching runs over the naive
// open-element stack (see `SelectorProgram`), so that each start tag is checked only against
// the states its parent hands down.
import { TAG_COUNT, TAG_OTHER, tagIdOf } from './tags.ts';

export type SelectorErrorKind =
  | 'UnexpectedToken' | 'UnexpectedEnd' | 'MissingAttributeName' | 'EmptySelector' | 'DanglingCombinator'
  | 'UnexpectedTokenInAttribute' | 'UnsupportedPseudoClassOrElement' | 'NamespacedSelector' | 'InvalidClassName'
  | 'UnsupportedCombinator' | 'UnsupportedSyntax';

const MESSAGES: Record<SelectorErrorKind, string> = {
  UnexpectedToken: 'Unexpected token in selector.',
  UnexpectedEnd: 'Unexpected end of selector.',
  MissingAttributeName: 'Missing attribute name in attribute selector.',
  EmptySelector: 'The selector is empty.',
  DanglingCombinator: 'Dangling combinator in selector.',
  UnexpectedTokenInAttribute: 'Unexpected token in the attribute selector.',
  UnsupportedPseudoClassOrElement: 'Unsupported pseudo-class or pseudo-element in selector.',
  NamespacedSelector: 'Selectors with explicit namespaces are not supported.',
  InvalidClassName: 'Invalid or unescaped class name in selector.',
  UnsupportedCombinator: 'Unsupported combinator `{0}` in selector.',
  UnsupportedSyntax: 'Unsupported syntax in selector.',
};

/** A selector rejected by `on()`. A TypeError, as the JS bindings of lol-html throw. */
export class SelectorError extends TypeError {
  readonly kind: SelectorErrorKind;
  constructor(kind: SelectorErrorKind, combinator?: string) {
    super(`Parser error: ${MESSAGES[kind].replace('{0}', combinator ?? '')}`);
    this.name = 'SelectorError';
    this.kind = kind;
  }
}

// Condition kinds.
export const COND_TYPE = 0;
export const COND_ANY = 1;
export const COND_NEVER = 2;
export const COND_NTH_CHILD = 3;
export const COND_NTH_OF_TYPE = 4;
export const COND_ID = 5;
export const COND_CLASS = 6;
export const COND_ATTR_EXISTS = 7;
export const COND_ATTR_EQ = 8;
export const COND_ATTR_INCLUDES = 9;
export const COND_ATTR_DASH = 10;
export const COND_ATTR_PREFIX = 11;
export const COND_ATTR_SUFFIX = 12;
export const COND_ATTR_SUBSTRING = 13;

// Case sensitivity of an attribute value comparison.
export const CASE_SENSITIVE = 0;
export const CASE_INSENSITIVE = 1;
/** Insensitive for HTML elements (the attributes HTML lists as having case-insensitive values). */
export const CASE_HTML = 2;

export interface Condition {
  readonly kind: number;
  readonly negated: boolean;
  /** Type name or attribute name (lowercased), as the document encoding's bytes (latin1 string). */
  readonly name: string;
  /** Attribute/class/id value as document-encoding bytes. */
  readonly value: string;
  readonly caseMode: number;
  /** An+B for nth conditions. */
  readonly a: number;
  readonly b: number;
}

/** A compound selector with its successor in a complex selector. */
export interface SelectorState {
  readonly conditions: readonly Condition[];
  /** Index of the next state, or -1 if matching this state completes the selector. */
  readonly next: number;
  /** Whether the next state applies to descendants (true) or only to children (false). */
  readonly nextIsDescendant: boolean;
  /** Tag id (tags.ts) a non-negated type selector of a known tag requires, or -1: a tag with another id cannot match. */
  readonly requiredTag: number;
}

const CASE_INSENSITIVE_ATTRS = new Set([
  'accept', 'accept-charset', 'align', 'alink', 'axis', 'bgcolor', 'charset', 'checked', 'clear', 'codetype', 'color',
  'compact', 'declare', 'defer', 'dir', 'direction', 'disabled', 'enctype', 'face', 'frame', 'hreflang', 'http-equiv',
  'lang', 'language', 'link', 'media', 'method', 'multiple', 'nohref', 'noresize', 'noshade', 'nowrap', 'readonly',
  'rel', 'rev', 'rules', 'scope', 'scrolling', 'selected', 'shape', 'target', 'text', 'type', 'valign', 'valuetype',
  'vlink',
]);

const UNSUPPORTED_PSEUDO = 'UnsupportedPseudoClassOrElement';

function asciiLowercase(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

interface RawCondition { kind: number; negated: boolean; name: string; value: string; caseMode: number; a: number; b: number }
interface RawCompound { conditions: RawCondition[] }
interface RawComplex { compounds: RawCompound[]; descendant: boolean[] /* combinator before compounds[i+1] */ }

function isWsChar(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
}
function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c.charCodeAt(0) >= 0x80;
}
function isNameChar(c: string): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9') || c === '-';
}
function isHex(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/** Recursive-descent parser over the selector text (CSS tokenisation inlined). */
class Parser {
  readonly s: string;
  i = 0;
  constructor(s: string) {
    this.s = s;
  }

  fail(kind: SelectorErrorKind, combinator?: string): never {
    throw new SelectorError(kind, combinator);
  }
  get end(): boolean {
    return this.i >= this.s.length;
  }
  peek(k = 0): string {
    return this.s[this.i + k] ?? '';
  }
  skipWs(): boolean {
    const from = this.i;
    while (!this.end && isWsChar(this.s[this.i])) this.i++;
    // CSS comments count as whitespace.
    if (this.s.startsWith('/*', this.i)) {
      const e = this.s.indexOf('*/', this.i + 2);
      this.i = e === -1 ? this.s.length : e + 2;
      this.skipWs();
    }
    return this.i > from;
  }
  startsIdent(k = 0): boolean {
    const c = this.peek(k);
    if (isNameStart(c)) return true;
    if (c === '\\') return this.peek(k + 1) !== '\n' && this.peek(k + 1) !== '';
    if (c === '-') {
      const d = this.peek(k + 1);
      return isNameStart(d) || d === '-' || (d === '\\' && this.peek(k + 2) !== '\n' && this.peek(k + 2) !== '');
    }
    return false;
  }
  /** A CSS name (ident chars and escapes) at the cursor. */
  name(): string {
    let out = '';
    while (!this.end) {
      const c = this.s[this.i];
      if (c === '\\') {
        const d = this.peek(1);
        if (d === '' || d === '\n') break;
        out += this.escape();
      } else if (isNameChar(c)) {
        out += c;
        this.i++;
      } else break;
    }
    return out;
  }
  string(): string {
    const q = this.s[this.i++];
    let out = '';
    for (;;) {
      if (this.end) return out; // EOF in a string closes it (CSS)
      const c = this.s[this.i];
      if (c === q) { this.i++; return out; }
      if (c === '\n') this.fail('UnexpectedTokenInAttribute');
      if (c === '\\') {
        const d = this.peek(1);
        if (d === '') { this.i++; continue; }
        if (d === '\n') { this.i += 2; continue; }
        out += this.escape();
        continue;
      }
      out += c;
      this.i++;
    }
  }
  escape(): string {
    this.i++; // backslash
    const d = this.peek();
    if (isHex(d)) {
      let h = '';
      while (h.length < 6 && isHex(this.peek())) h += this.s[this.i++];
      if (isWsChar(this.peek())) this.i++;
      const cp = parseInt(h, 16);
      return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\uFFFD' : String.fromCodePoint(cp);
    }
    this.i++;
    return d;
  }

  selectorList(nested: boolean): RawComplex[] {
    const list: RawComplex[] = [];
    for (;;) {
      this.skipWs();
      list.push(this.complex(nested));
      if (this.end || (nested && this.peek() === ')')) return list;
      this.i++; // ','
    }
  }

  complex(nested: boolean): RawComplex {
    const compounds: RawCompound[] = [];
    const descendant: boolean[] = [];
    for (;;) {
      const c = this.compound(nested);
      if (c === null) this.fail(compounds.length === 0 ? 'EmptySelector' : 'DanglingCombinator');
      compounds.push(c);
      const ws = this.skipWs();
      const ch = this.peek();
      if (this.end || ch === ',' || (nested && ch === ')')) return { compounds, descendant };
      let isDescendant: boolean;
      if (ch === '>') { this.i++; isDescendant = false; }
      else if (ch === '+' || ch === '~') {
        if (nested) this.fail(UNSUPPORTED_PSEUDO);
        this.fail('UnsupportedCombinator', ch);
      } else if (ws) isDescendant = true;
      else this.fail('UnexpectedToken');
      if (nested) this.fail(UNSUPPORTED_PSEUDO);
      descendant.push(isDescendant);
      this.skipWs();
      if (this.end || this.peek() === ',' || this.peek() === '>' || this.peek() === '+' || this.peek() === '~') this.fail('DanglingCombinator');
    }
  }

  /** A compound selector, or null if there is none at the cursor. */
  compound(nested: boolean): RawCompound | null {
    const conditions: RawCondition[] = [];
    const cond = (kind: number, fields: Partial<RawCondition> = {}): void => {
      conditions.push({ kind, negated: false, name: '', value: '', caseMode: CASE_SENSITIVE, a: 0, b: 0, ...fields });
    };
    // Type selector or universal, with an optional namespace prefix. `|E` (no namespace) is
    // accepted and never matches: every element here has a namespace.
    if (this.peek() === '|' && this.peek(1) !== '=') {
      this.i++;
      cond(COND_NEVER);
      if (this.peek() === '*') { this.i++; cond(COND_ANY); }
      else if (this.startsIdent()) cond(COND_TYPE, { name: asciiLowercase(this.name()) });
      else this.fail(this.end ? 'UnexpectedEnd' : 'UnexpectedToken');
    } else if (this.peek() === '*' || this.startsIdent()) {
      const name = this.peek() === '*' ? (this.i++, '*') : this.name();
      if (this.peek() === '|' && this.peek(1) !== '=') {
        if (name !== '*') this.fail('NamespacedSelector');
        this.i++;
        if (this.peek() === '*') { this.i++; cond(COND_ANY); }
        else if (this.startsIdent()) cond(COND_TYPE, { name: asciiLowercase(this.name()) });
        else this.fail(this.end ? 'UnexpectedEnd' : 'UnexpectedToken');
      } else if (name === '*') cond(COND_ANY);
      else cond(COND_TYPE, { name: asciiLowercase(name) });
    }
    for (;;) {
      const c = this.peek();
      if (c === '#') {
        this.i++;
        if (this.end) this.fail('UnexpectedEnd');
        if (!this.startsIdent()) this.fail('UnexpectedToken');
        cond(COND_ID, { value: this.name() });
      } else if (c === '.') {
        this.i++;
        if (this.end) this.fail('UnexpectedEnd');
        if (!this.startsIdent()) this.fail('InvalidClassName');
        const v = this.name();
        if (this.peek() === '(') this.fail('InvalidClassName');
        cond(COND_CLASS, { value: v });
      } else if (c === '[') {
        this.i++;
        conditions.push(this.attribute());
      } else if (c === ':') {
        this.i++;
        if (this.peek() === ':') this.fail(UNSUPPORTED_PSEUDO);
        if (this.end) this.fail('UnexpectedEnd');
        if (!this.startsIdent()) this.fail('UnexpectedToken');
        const name = asciiLowercase(this.name());
        if (this.peek() === '(') {
          this.i++;
          conditions.push(...this.pseudoFunction(name));
        } else if (name === 'first-child') cond(COND_NTH_CHILD, { a: 0, b: 1 });
        else if (name === 'first-of-type') cond(COND_NTH_OF_TYPE, { a: 0, b: 1 });
        else this.fail(UNSUPPORTED_PSEUDO);
      } else break;
    }
    if (conditions.length === 0) {
      if (!this.end && this.peek() !== ',' && !isWsChar(this.peek()) && this.peek() !== '>' && this.peek() !== '+' && this.peek() !== '~' && !(nested && this.peek() === ')')) {
        this.fail('UnexpectedToken');
      }
      return null;
    }
    return { conditions };
  }

  attribute(): RawCondition {
    this.skipWs();
    if (this.end) this.fail('UnexpectedEnd');
    let name: string;
    if (this.peek() === '*' && this.peek(1) === '|') this.fail('NamespacedSelector');
    if (this.peek() === '|' && this.peek(1) !== '=') { this.i++; }
    if (!this.startsIdent()) this.fail('MissingAttributeName');
    name = this.name();
    if (this.peek() === '|' && this.peek(1) !== '=') this.fail('NamespacedSelector');
    const lower = asciiLowercase(name);
    this.skipWs();
    if (this.end) this.fail('UnexpectedEnd');
    if (this.peek() === ']') {
      this.i++;
      return { kind: COND_ATTR_EXISTS, negated: false, name: lower, value: '', caseMode: CASE_SENSITIVE, a: 0, b: 0 };
    }
    let kind: number;
    const op = this.peek();
    if (op === '=') { kind = COND_ATTR_EQ; this.i++; }
    else if (this.peek(1) === '=' && '~|^$*'.includes(op)) {
      kind = { '~': COND_ATTR_INCLUDES, '|': COND_ATTR_DASH, '^': COND_ATTR_PREFIX, '$': COND_ATTR_SUFFIX, '*': COND_ATTR_SUBSTRING }[op] as number;
      this.i += 2;
    } else this.fail('UnexpectedTokenInAttribute');
    this.skipWs();
    if (this.end) this.fail('UnexpectedEnd');
    let value: string;
    if (this.peek() === '"' || this.peek() === "'") value = this.string();
    else if (this.startsIdent()) value = this.name();
    else this.fail('UnexpectedTokenInAttribute');
    this.skipWs();
    if (this.end) this.fail('UnexpectedEnd');
    let caseMode = CASE_INSENSITIVE_ATTRS.has(lower) ? CASE_HTML : CASE_SENSITIVE;
    if (this.startsIdent()) {
      const flag = asciiLowercase(this.name());
      if (flag === 'i') caseMode = CASE_INSENSITIVE;
      else if (flag === 's') caseMode = CASE_SENSITIVE;
      else this.fail('UnexpectedTokenInAttribute');
      this.skipWs();
      if (this.end) this.fail('UnexpectedEnd');
    }
    if (this.peek() !== ']') this.fail('UnexpectedTokenInAttribute');
    this.i++;
    // Empty `^=`/`$=`/`*=` values and empty or whitespace-containing `~=` values match nothing.
    const neverMatches = kind === COND_ATTR_INCLUDES ? value === '' || /[ \t\n\r\f]/.test(value)
      : (kind === COND_ATTR_PREFIX || kind === COND_ATTR_SUFFIX || kind === COND_ATTR_SUBSTRING) && value === '';
    return { kind: neverMatches ? COND_NEVER : kind, negated: false, name: lower, value, caseMode, a: 0, b: 0 };
  }

  pseudoFunction(name: string): RawCondition[] {
    if (name === 'nth-child' || name === 'nth-of-type') {
      const close = this.s.indexOf(')', this.i);
      if (close === -1) this.fail('UnexpectedEnd');
      const [a, b] = parseAnPlusB(this.s.slice(this.i, close));
      this.i = close + 1;
      return [{ kind: name === 'nth-child' ? COND_NTH_CHILD : COND_NTH_OF_TYPE, negated: false, name: '', value: '', caseMode: 0, a, b }];
    }
    if (name !== 'not') this.fail(UNSUPPORTED_PSEUDO);
    this.skipWs();
    if (this.peek() === ')') this.fail('EmptySelector');
    const list = this.selectorList(true);
    if (this.end) this.fail('UnexpectedEnd');
    this.i++; // ')'
    // v3 quirk (SPEC §5.3): every simple selector inside becomes an independent negated condition.
    const out: RawCondition[] = [];
    for (const complex of list) for (const c of complex.compounds[0].conditions) out.push({ ...c, negated: !c.negated });
    return out;
  }
}

/** An+B (CSS Syntax §6): returns [a, b]; rejects `of S` and anything malformed. */
function parseAnPlusB(text: string): [number, number] {
  const t = asciiLowercase(text.trim());
  if (t === 'odd') return [2, 1];
  if (t === 'even') return [2, 0];
  if (/\bof\b/.test(t)) throw new SelectorError('UnexpectedToken');
  const m = /^([+-]?)(\d*)n(?:\s*([+-])\s*(\d+))?$/.exec(t) ?? /^([+-]?)(\d*)n-(\d+)$/.exec(t);
  if (m !== null) {
    const a = (m[1] === '-' ? -1 : 1) * (m[2] === '' ? 1 : Number(m[2]));
    if (m.length === 4) return [a, -Number(m[3])];
    const b = m[4] === undefined ? 0 : (m[3] === '-' ? -1 : 1) * Number(m[4]);
    return [a, b];
  }
  const n = /^[+-]?\d+$/.exec(t);
  if (n !== null) return [0, Number(t)];
  throw new SelectorError(t === '' ? 'UnexpectedEnd' : 'UnexpectedToken');
}

/** Whether `index` (1-based) is a + b·n for some n ≥ 0 (lol-html's `has_index`). */
export function nthMatches(a: number, b: number, index: number): boolean {
  const off = index - b;
  if (a === 0) return off === 0;
  if ((off < 0 && a > 0) || (off > 0 && a < 0)) return false;
  return off % a === 0;
}

/** Parsed selector (syntax checked, not yet encoded). */
export interface ParsedSelector {
  readonly source: string;
  readonly complexes: readonly RawComplex[];
}

/** Parses a selector list; throws `SelectorError` for anything SPEC §5.2 rejects. */
export function parseSelector(source: string): ParsedSelector {
  const p = new Parser(source);
  p.skipWs();
  if (p.end) throw new SelectorError('EmptySelector');
  const complexes = p.selectorList(false);
  return { source, complexes };
}

/**
 * All registered selectors compiled into states. Initial states (`roots`) apply to every
 * element; matching a non-final state hands its successor down to the children or descendants.
 */
function requiredTag(conditions: readonly Condition[]): number {
  const type = conditions.find((c) => c.kind === COND_TYPE && !c.negated);
  const id = type === undefined ? TAG_OTHER : tagIdOf(type.name, 0, type.name.length);
  return id === TAG_OTHER ? -1 : id;
}

const NO_STATES: readonly number[] = [];

export class SelectorProgram {
  readonly states: SelectorState[] = [];
  /** For each state: the registration it completes, or -1. */
  readonly completes: number[] = [];
  readonly roots: number[] = [];
  usesNthOfType = false;
  // rootsOf(id) by tag id, built on first use (after the last add()).
  #rootsByTag: (readonly number[])[] | null = null;

  /** The roots a tag with this id (tags.ts; TAG_OTHER included) can match: those without another required tag, in order. */
  rootsOf(id: number): readonly number[] {
    const table = (this.#rootsByTag ??= this.#buildRootsByTag());
    return table[id];
  }

  #buildRootsByTag(): (readonly number[])[] {
    const table: (readonly number[])[] = [];
    for (let id = 0; id < TAG_COUNT; id++) {
      const list = this.roots.filter((s) => this.states[s].requiredTag === -1 || this.states[s].requiredTag === id);
      table.push(list.length === 0 ? NO_STATES : list);
    }
    return table;
  }

  /** Adds a parsed selector list for registration `id`; `encode` turns literals into document bytes (null if unencodable). */
  add(selector: ParsedSelector, id: number, encode: (s: string) => string | null): void {
    this.#rootsByTag = null;
    for (const complex of selector.complexes) {
      const first = this.states.length;
      const n = complex.compounds.length;
      for (let k = 0; k < n; k++) {
        const conditions = complex.compounds[k].conditions.map((c) => this.#compile(c, encode));
        this.states.push({
          conditions,
          next: k + 1 < n ? first + k + 1 : -1,
          nextIsDescendant: k + 1 < n ? complex.descendant[k] : false,
          requiredTag: requiredTag(conditions),
        });
        this.completes.push(k + 1 < n ? -1 : id);
      }
      this.roots.push(first);
    }
  }

  #compile(c: RawCondition, encode: (s: string) => string | null): Condition {
    if (c.kind === COND_NTH_OF_TYPE) this.usesNthOfType = true;
    if (c.kind === COND_TYPE || c.kind >= COND_ID) {
      const name = c.name === '' ? '' : encode(c.name);
      const value = c.value === '' ? '' : encode(c.value);
      // A literal the document encoding cannot represent never matches.
      if (name === null || value === null) return { ...c, kind: COND_NEVER };
      return { ...c, name, value };
    }
    return c;
  }
}
