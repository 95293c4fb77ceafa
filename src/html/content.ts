// The rewritable units handed to handlers (SPEC §4): Element, EndTag, Comment, TextChunk,
// Doctype, DocumentEnd. Each is valid only while its token is being handled; the rewriter
// reads their mutations afterwards to serialise the token. All byte data are latin1 "byte
// strings" in the document encoding; strings are decoded for handlers and encoded back.
import type { DocumentEncoding } from './encoding.ts';
import { ATTR_STRIDE, rawAttributeEnd } from './lexer.ts';
import { AttributeNameError, CommentTextError, ExpiredTokenError, TagNameError } from './errors.ts';

export interface ContentOptions {
  /** Insert as HTML (verbatim); default false: text, with `&`, `<`, `>` escaped. */
  html?: boolean;
}

export const NS_HTML = 'http://www.w3.org/1999/xhtml';
export const NS_SVG = 'http://www.w3.org/2000/svg';
export const NS_MATHML = 'http://www.w3.org/1998/Math/MathML';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

function contentBytes(enc: DocumentEncoding, content: string, options: ContentOptions | undefined): string {
  const s = String(content);
  return enc.encode(options?.html === true ? s : s.replace(/[&<>]/g, (c) => ESCAPES[c]));
}

/** before-list, replacement and after-list of a unit (SPEC §4.0), as document bytes. */
export class Mutations {
  before = '';
  after = '';
  replacement = '';
  removed = false;

  /** The unit's output: `inner` is its own serialisation (used unless removed). */
  wrap(inner: string): string {
    return this.before + (this.removed ? this.replacement : inner) + this.after;
  }

  /** Content goes after what was inserted before the unit so far. */
  insertBefore(enc: DocumentEncoding, content: string, options: ContentOptions | undefined): void {
    this.before += contentBytes(enc, content, options);
  }

  /** Content goes right after the unit, before what was inserted after it so far. */
  insertAfter(enc: DocumentEncoding, content: string, options: ContentOptions | undefined): void {
    this.after = contentBytes(enc, content, options) + this.after;
  }

  replaceWith(enc: DocumentEncoding, content: string, options: ContentOptions | undefined): void {
    this.removed = true;
    this.replacement = contentBytes(enc, content, options);
  }
}

/** ASCII-only lowercasing (non-ASCII characters and latin1 bytes are kept). */
export function asciiLowerString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

/** ASCII-lowercased copy of buf[start..end) (no copy when already lowercase). */
export function lowerSlice(buf: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = buf.charCodeAt(i);
    if (c >= 65 && c <= 90) return asciiLowerString(buf.slice(start, end));
  }
  return buf.slice(start, end);
}

/**
 * How long the units of one rewriting run are valid: a unit is valid while the run is in the
 * generation the unit was made in. The rewriter moves to the next generation when the handlers of
 * a token are done, which expires all of that token's units at once.
 */
export class UnitLifetime {
  generation = 0;
}

/** Base of all units: valid only until the rewriter expires it. */
class Unit {
  readonly #lifetime: UnitLifetime;
  readonly #generation: number;
  constructor(lifetime: UnitLifetime) {
    this.#lifetime = lifetime;
    this.#generation = lifetime.generation;
  }
  protected check(): void {
    if (this.#lifetime.generation !== this.#generation) throw new ExpiredTokenError();
  }
}

/** A unit with the common insertion methods. */
class MutableUnit extends Unit {
  // Most units are never mutated: their mutation record is made on the first mutation.
  #mutations: Mutations | null = null;
  protected readonly enc: DocumentEncoding;
  constructor(lifetime: UnitLifetime, enc: DocumentEncoding) {
    super(lifetime);
    this.enc = enc;
  }
  /** @internal the unit's mutation record (made when first asked for) */
  get mutations(): Mutations {
    return (this.#mutations ??= new Mutations());
  }
  /** @internal whether a mutation record was made (the unit may have been mutated) */
  get hasMutations(): boolean {
    return this.#mutations !== null;
  }
  /** @internal the unit's output around its own serialisation `inner` */
  wrap(inner: string): string {
    return this.#mutations === null ? inner : this.#mutations.wrap(inner);
  }
  get removed(): boolean {
    this.check();
    return this.#mutations !== null && this.#mutations.removed;
  }
  before(content: string, options?: ContentOptions): this {
    this.check();
    this.mutations.insertBefore(this.enc, content, options);
    return this;
  }
  after(content: string, options?: ContentOptions): this {
    this.check();
    this.mutations.insertAfter(this.enc, content, options);
    return this;
  }
  replace(content: string, options?: ContentOptions): this {
    this.check();
    this.mutations.replaceWith(this.enc, content, options);
    return this;
  }
  remove(): this {
    this.check();
    this.mutations.removed = true;
    return this;
  }
}

interface AttributeEntry {
  /** Lowercased name bytes. */
  name: string;
  value: string;
  /** Original source text of the attribute, or null once it was modified. */
  raw: string | null;
}

/** A handler's argument as a string (as `String(v)`; a string, the usual case, without the builtin's call). */
function stringOf(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

/** Whether `name` is non-empty and only lowercase ASCII letters, digits and '-' (its own key in any encoding). */
function isPlainLowerName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return false;
  }
  return true;
}

/** Lowercased name bytes of an attribute name given to getAttribute and friends, or null if unencodable. */
function attributeKey(enc: DocumentEncoding, name: string): string | null {
  return isPlainLowerName(name) ? name : enc.encodeStrict(asciiLowerString(name));
}

function validateAttributeName(enc: DocumentEncoding, name: string): string {
  if (isPlainLowerName(name)) return name;
  if (name === '') throw new AttributeNameError('Empty');
  for (const ch of name) {
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '/' || ch === '>' || ch === '=') {
      throw new AttributeNameError('ForbiddenCharacter', ch);
    }
  }
  const bytes = enc.encodeStrict(asciiLowerString(name));
  if (bytes === null) throw new AttributeNameError('UnencodableCharacter');
  return bytes;
}

/** Where a start tag came from: the lexer, its buffer and attribute outline while the tag is current. */
export interface StartTagSource {
  readonly buf: string;
  readonly tokStart: number;
  readonly tokEnd: number;
  readonly nameStart: number;
  readonly nameEnd: number;
  readonly attrs: Int32Array;
  readonly attrCount: number;
  attributeIndex(lowerName: string): number;
}

const OVERRIDE_NONE = -1;
const OVERRIDE_ADDED = -2;

/** A set attribute as serialised (SPEC §4.1): name="value" with `"` as &quot;. */
function modifiedAttribute(name: string, value: string): string {
  return `${name}="${value.includes('"') ? value.replaceAll('"', '&quot;') : value}"`;
}

export type EndTagHandler = (this: Element, endTag: EndTag) => void | Promise<void>;

/**
 * A start tag's element: the same API as the other mutable units, but a class of its own (see
 * TextChunk): an element handler gets one per matching tag.
 */
export class Element {
  readonly #lifetime: UnitLifetime;
  readonly #generation: number;
  readonly #enc: DocumentEncoding;
  #mutations: Mutations | null = null;
  readonly namespaceURI: string;
  readonly selfClosing: boolean;
  readonly canHaveContent: boolean;
  // The lexer at the start tag: it stays there while the element can be read (until its handlers
  // are done and the tag is serialised; then the element has expired).
  readonly #src: StartTagSource;
  /** The source tag is ASCII in an encoding where ASCII bytes are their own decoding. */
  readonly #sourceDecoded: boolean;
  /** The last value read from such a source (ASCII): set back, the usual case, it needs no encoding. */
  #asciiRead: string | null = null;
  /** @internal new tag name bytes (as given), or null */ newName: string | null = null;
  /** @internal attributes once listed or mutated more than once, else null (read from src) */ attrList: AttributeEntry[] | null = null;
  // A single setAttribute before the list is made (the common case) overrides the outline instead:
  // the outline index of the attribute it replaces, OVERRIDE_ADDED (a new last attribute) or OVERRIDE_NONE.
  #overrideAt = OVERRIDE_NONE;
  #overrideName = '';
  #overrideValue = '';
  /** @internal the start tag must be re-serialised */ modified = false;
  /** @internal the self-closing `/` is dropped when re-serialised */ selfClosingSyntax: boolean;
  /** @internal mutations applied to the end tag (append list, after list, removal), or null */ endMutations: Mutations | null = null;
  /** @internal the element's content is to be dropped */ removesContent = false;
  /** @internal end-tag handlers in the order added, or null */ endTagHandlers: EndTagHandler[] | null = null;

  constructor(lifetime: UnitLifetime, enc: DocumentEncoding, src: StartTagSource, sourceDecoded: boolean, ns: string, selfClosing: boolean, canHaveContent: boolean) {
    this.#lifetime = lifetime;
    this.#generation = lifetime.generation;
    this.#enc = enc;
    this.#sourceDecoded = sourceDecoded;
    this.#src = src;
    this.namespaceURI = ns;
    this.selfClosing = selfClosing;
    this.selfClosingSyntax = selfClosing;
    this.canHaveContent = canHaveContent;
  }

  #check(): void {
    if (this.#lifetime.generation !== this.#generation) throw new ExpiredTokenError();
  }
  /** @internal the element's mutation record (made when first asked for) */
  get mutations(): Mutations {
    return (this.#mutations ??= new Mutations());
  }
  /** @internal whether a mutation record was made (the element may have been mutated) */
  get hasMutations(): boolean {
    return this.#mutations !== null;
  }
  /** @internal the element's output around its start tag's serialisation `inner` */
  wrap(inner: string): string {
    return this.#mutations === null ? inner : this.#mutations.wrap(inner);
  }
  get removed(): boolean {
    this.#check();
    return this.#mutations !== null && this.#mutations.removed;
  }

  get tagName(): string {
    this.#check();
    return asciiLowerString(this.#enc.decode(this.newName ?? this.#src.buf.slice(this.#src.nameStart, this.#src.nameEnd)));
  }
  set tagName(name: string) {
    this.#check();
    name = String(name);
    if (name === '') throw new TagNameError('Empty');
    const first = name.charCodeAt(0);
    if (!((first | 32) >= 97 && (first | 32) <= 122)) throw new TagNameError('InvalidFirstCharacter');
    for (const ch of name) {
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '/' || ch === '>') {
        throw new TagNameError('ForbiddenCharacter', ch);
      }
    }
    const bytes = this.#enc.encodeStrict(name);
    if (bytes === null) throw new TagNameError('UnencodableCharacter');
    this.newName = bytes;
    this.modified = true;
  }

  #attributes(): AttributeEntry[] {
    if (this.attrList !== null) return this.attrList;
    const list = this.#outlineAttributes();
    const at = this.#overrideAt;
    if (at !== OVERRIDE_NONE) {
      const entry = { name: this.#overrideName, value: this.#overrideValue, raw: null };
      if (at === OVERRIDE_ADDED) list.push(entry);
      else list[at / ATTR_STRIDE] = entry;
      this.#overrideAt = OVERRIDE_NONE;
    }
    return (this.attrList = list);
  }

  #outlineAttributes(): AttributeEntry[] {
    const { buf, attrs, attrCount } = this.#src;
    const list: AttributeEntry[] = [];
    for (let k = 0; k < attrCount * ATTR_STRIDE; k += ATTR_STRIDE) {
      const vs = attrs[k + 2];
      list.push({ name: lowerSlice(buf, attrs[k], attrs[k + 1]), value: vs === -1 ? '' : buf.slice(vs, attrs[k + 3]), raw: this.#rawAttribute(k) });
    }
    return list;
  }

  /** Source text of the outline's attribute at index k (name, and value with its quotes). */
  #rawAttribute(k: number): string {
    const { buf, attrs } = this.#src;
    return buf.slice(attrs[k], rawAttributeEnd(attrs, k));
  }

  /** Value of the first attribute with these lowercased name bytes (decoded, or its bytes), or null. */
  #valueOf(lowerName: string, decoded: boolean): string | null {
    if (this.attrList !== null) {
      for (const a of this.attrList) if (a.name === lowerName) return decoded ? this.#enc.decode(a.value) : a.value;
      return null;
    }
    if (this.#overrideAt !== OVERRIDE_NONE && this.#overrideName === lowerName) return decoded ? this.#enc.decode(this.#overrideValue) : this.#overrideValue;
    const src = this.#src;
    const k = src.attributeIndex(lowerName);
    if (k === -1) return null;
    const vs = src.attrs[k + 2];
    const bytes = vs === -1 ? '' : src.buf.slice(vs, src.attrs[k + 3]);
    if (this.#sourceDecoded) return (this.#asciiRead = bytes);
    return decoded ? this.#enc.decode(bytes) : bytes;
  }

  get attributes(): IterableIterator<[string, string]> {
    this.#check();
    const enc = this.#enc;
    return this.#attributes().map((a): [string, string] => [enc.decode(a.name), enc.decode(a.value)])[Symbol.iterator]();
  }

  getAttribute(name: string): string | null {
    this.#check();
    const key = attributeKey(this.#enc, stringOf(name));
    return key === null ? null : this.#valueOf(key, true);
  }

  hasAttribute(name: string): boolean {
    this.#check();
    const key = attributeKey(this.#enc, stringOf(name));
    return key !== null && this.#valueOf(key, false) !== null;
  }

  setAttribute(name: string, value: string): this {
    this.#check();
    const key = validateAttributeName(this.#enc, stringOf(name));
    value = stringOf(value);
    const bytes = value === this.#asciiRead ? value : this.#enc.encode(value);
    this.modified = true;
    if (this.attrList === null && (this.#overrideAt === OVERRIDE_NONE || this.#overrideName === key)) {
      const k = this.#src.attributeIndex(key);
      this.#overrideAt = k === -1 ? OVERRIDE_ADDED : k;
      this.#overrideName = key;
      this.#overrideValue = bytes;
      return this;
    }
    const list = this.#attributes();
    const existing = list.find((a) => a.name === key);
    if (existing !== undefined) {
      existing.value = bytes;
      existing.raw = null;
    } else {
      list.push({ name: key, value: bytes, raw: null });
    }
    return this;
  }

  removeAttribute(name: string): this {
    this.#check();
    const key = attributeKey(this.#enc, stringOf(name));
    if (key === null || this.#valueOf(key, false) === null) return this;
    this.attrList = this.#attributes().filter((a) => a.name !== key);
    this.modified = true;
    return this;
  }

  #endMutations(): Mutations {
    return (this.endMutations ??= new Mutations());
  }

  #removeContent(): void {
    this.mutations.after = '';
    if (this.endMutations !== null) this.endMutations.before = '';
    this.removesContent = true;
  }

  before(content: string, options?: ContentOptions): this {
    this.#check();
    this.mutations.insertBefore(this.#enc, content, options);
    return this;
  }

  after(content: string, options?: ContentOptions): this {
    this.#check();
    (this.canHaveContent ? this.#endMutations() : this.mutations).insertAfter(this.#enc, content, options);
    return this;
  }

  prepend(content: string, options?: ContentOptions): this {
    this.#check();
    if (this.canHaveContent) {
      this.selfClosingSyntax = false;
      this.mutations.insertAfter(this.#enc, content, options);
    }
    return this;
  }

  append(content: string, options?: ContentOptions): this {
    this.#check();
    if (this.canHaveContent) {
      this.selfClosingSyntax = false;
      this.#endMutations().insertBefore(this.#enc, content, options);
    }
    return this;
  }

  setInnerContent(content: string, options?: ContentOptions): this {
    this.#check();
    if (this.canHaveContent) {
      this.selfClosingSyntax = false;
      this.#removeContent();
      this.mutations.insertAfter(this.#enc, content, options);
    }
    return this;
  }

  replace(content: string, options?: ContentOptions): this {
    this.#check();
    this.mutations.replaceWith(this.#enc, content, options);
    if (this.canHaveContent) {
      this.#removeContent();
      this.#endMutations().removed = true;
    }
    return this;
  }

  remove(): this {
    this.#check();
    this.mutations.removed = true;
    if (this.canHaveContent) {
      this.#removeContent();
      this.#endMutations().removed = true;
    }
    return this;
  }

  removeAndKeepContent(): this {
    this.#check();
    this.mutations.removed = true;
    if (this.canHaveContent) this.#endMutations().removed = true;
    return this;
  }

  onEndTag(handler: EndTagHandler): void {
    this.#check();
    if (!this.canHaveContent) throw new TypeError(`${this.tagName} can't have content`);
    (this.endTagHandlers ??= []).push(handler);
  }

  /**
   * @internal The outline index of the one attribute set anew when that is the start tag's only
   * change and its source is spaced as it would be serialised (SPEC §4.1: one space before each
   * attribute, after the last only the ending): its serialisation is then the source with that
   * attribute's text replaced by `overrideText()`. Otherwise -1.
   */
  inPlaceOverride(): number {
    const at = this.#overrideAt;
    if (at < 0 || this.attrList !== null || this.newName !== null || this.hasMutations) return -1;
    const { buf, attrs, attrCount } = this.#src;
    let prev = this.#src.nameEnd;
    for (let k = 0; k < attrCount * ATTR_STRIDE; k += ATTR_STRIDE) {
      if (attrs[k] !== prev + 1 || buf.charCodeAt(prev) !== 32) return -1;
      prev = rawAttributeEnd(attrs, k);
    }
    const ending = this.selfClosingSyntax ? ' />' : '>';
    return this.#src.tokEnd - prev === ending.length && buf.startsWith(ending, prev) ? at : -1;
  }

  /** @internal the serialised text of the attribute set anew (see inPlaceOverride) */
  overrideText(): string {
    return modifiedAttribute(this.#overrideName, this.#overrideValue);
  }

  /** @internal the start tag's own bytes: raw unless modified (SPEC §4.1 serialisation). */
  serializeStartTag(): string {
    const src = this.#src;
    if (!this.modified) return src.buf.slice(src.tokStart, src.tokEnd);
    let out = '<' + (this.newName ?? src.buf.slice(src.nameStart, src.nameEnd));
    let count: number;
    if (this.attrList === null) {
      // From the outline: each attribute's source text, the overridden one written anew.
      const at = this.#overrideAt;
      for (let k = 0; k < src.attrCount * ATTR_STRIDE; k += ATTR_STRIDE) {
        out += ' ' + (k === at ? modifiedAttribute(this.#overrideName, this.#overrideValue) : this.#rawAttribute(k));
      }
      if (at === OVERRIDE_ADDED) out += ' ' + modifiedAttribute(this.#overrideName, this.#overrideValue);
      count = src.attrCount + (at === OVERRIDE_ADDED ? 1 : 0);
    } else {
      for (const a of this.attrList) out += ' ' + (a.raw ?? modifiedAttribute(a.name, a.value));
      count = this.attrList.length;
    }
    if (this.selfClosingSyntax) out += count > 0 ? ' /' : '/';
    return out + '>';
  }
}

export class EndTag extends MutableUnit {
  /** @internal raw name bytes of the tag as written */ readonly rawName: string;
  /** @internal replacement name bytes, or null */ newName: string | null = null;
  /** @internal the source bytes of the end tag */ readonly raw: string;

  constructor(lifetime: UnitLifetime, enc: DocumentEncoding, raw: string, rawName: string) {
    super(lifetime, enc);
    this.raw = raw;
    this.rawName = rawName;
  }
  get name(): string {
    this.check();
    return asciiLowerString(this.enc.decode(this.newName ?? this.rawName));
  }
  set name(name: string) {
    this.check();
    this.newName = this.enc.encode(String(name));
  }
  /** @internal the mutations the element's end-tag work installs replace the token's own */
  setMutations(m: Mutations): void {
    Object.assign(this.mutations, m);
  }
  /** @internal */
  serialize(): string {
    return this.wrap(this.newName === null ? this.raw : `</${this.newName}>`);
  }
}

export class Comment extends MutableUnit {
  /** @internal source bytes of the whole comment */ readonly raw: string;
  readonly #data: string;
  /** @internal new text bytes, or null */ newText: string | null = null;

  constructor(lifetime: UnitLifetime, enc: DocumentEncoding, raw: string, data: string) {
    super(lifetime, enc);
    this.raw = raw;
    this.#data = data;
  }
  get text(): string {
    this.check();
    return this.enc.decode(this.newText ?? this.#data);
  }
  set text(text: string) {
    this.check();
    text = String(text);
    if (text.includes('-->') || text.includes('--!>') || text.startsWith('>') || text.startsWith('->')) {
      throw new CommentTextError('CommentClosingSequence');
    }
    const bytes = this.enc.encodeStrict(text);
    if (bytes === null) throw new CommentTextError('UnencodableCharacter');
    this.newText = bytes;
  }
  /** @internal */
  serialize(): string {
    return this.wrap(this.newText === null ? this.raw : `<!--${this.newText}-->`);
  }
}

/**
 * A text chunk: the same API as the other mutable units, but a class of its own. A document text
 * handler gets one per chunk of every text node, and constructing a derived class costs V8 a few
 * times what a base class does.
 */
export class TextChunk {
  readonly #lifetime: UnitLifetime;
  readonly #generation: number;
  readonly #enc: DocumentEncoding;
  readonly #text: string;
  readonly #last: boolean;
  #mutations: Mutations | null = null;

  constructor(lifetime: UnitLifetime, enc: DocumentEncoding, text: string, lastInTextNode: boolean) {
    this.#lifetime = lifetime;
    this.#generation = lifetime.generation;
    this.#enc = enc;
    this.#text = text;
    this.#last = lastInTextNode;
  }
  #check(): void {
    if (this.#lifetime.generation !== this.#generation) throw new ExpiredTokenError();
  }
  get text(): string {
    this.#check();
    return this.#text;
  }
  get lastInTextNode(): boolean {
    this.#check();
    return this.#last;
  }
  get removed(): boolean {
    this.#check();
    return this.#mutations !== null && this.#mutations.removed;
  }
  before(content: string, options?: ContentOptions): this {
    this.#check();
    (this.#mutations ??= new Mutations()).insertBefore(this.#enc, content, options);
    return this;
  }
  after(content: string, options?: ContentOptions): this {
    this.#check();
    (this.#mutations ??= new Mutations()).insertAfter(this.#enc, content, options);
    return this;
  }
  replace(content: string, options?: ContentOptions): this {
    this.#check();
    (this.#mutations ??= new Mutations()).replaceWith(this.#enc, content, options);
    return this;
  }
  remove(): this {
    this.#check();
    (this.#mutations ??= new Mutations()).removed = true;
    return this;
  }
  /** @internal whether a mutation record was made (the chunk may have been mutated) */
  get hasMutations(): boolean {
    return this.#mutations !== null;
  }
  /** @internal the chunk's bytes: its decoded text, encoded back */
  serialize(): string {
    const inner = this.#enc.encode(this.#text);
    return this.#mutations === null ? inner : this.#mutations.wrap(inner);
  }
}

export class Doctype extends Unit {
  readonly #name: string | null;
  readonly #publicId: string | null;
  readonly #systemId: string | null;
  constructor(lifetime: UnitLifetime, name: string | null, publicId: string | null, systemId: string | null) {
    super(lifetime);
    this.#name = name;
    this.#publicId = publicId;
    this.#systemId = systemId;
  }
  get name(): string | null {
    this.check();
    return this.#name;
  }
  get publicId(): string | null {
    this.check();
    return this.#publicId;
  }
  get systemId(): string | null {
    this.check();
    return this.#systemId;
  }
}

export class DocumentEnd extends Unit {
  readonly #enc: DocumentEncoding;
  /** @internal appended bytes */ appended = '';
  constructor(lifetime: UnitLifetime, enc: DocumentEncoding) {
    super(lifetime);
    this.#enc = enc;
  }
  append(content: string, options?: ContentOptions): this {
    this.check();
    this.appended += contentBytes(this.#enc, content, options);
    return this;
  }
}
