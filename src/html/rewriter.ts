// The streaming rewriter engine (SPEC §2–§11). Input bytes are handled as a latin1 "byte
// string" so that untouched bytes pass through exactly; the pull lexer (`./lexer.ts`) returns
// token outlines, and only tokens a handler wants are materialised. A small simulation of the
// tree builder picks text types and namespaces (§6.2–6.4); a naive open-element stack carries
// the selector states each element hands down to its descendants (§5.4, §6.5).
//
// Handlers are called as their token is handled; once one returns a Promise, the rest of the
// token's work is queued as tasks that run when it settles, which pauses the stream (§2.1).
//
// Output: input that passes through unchanged is not copied per token; the engine only tracks
// where the current run of raw input started, and copies the run when something else must be
// written after it (or at the end of a write).
import {
  Lexer, TOKEN_CDATA_END, TOKEN_CDATA_START, TOKEN_COMMENT, TOKEN_DOCTYPE, TOKEN_END_TAG,
  TOKEN_NONE, TOKEN_START_TAG, TOKEN_TEXT, SHORT_NAME, eagerSlot, rawAttributeEnd,
} from './lexer.ts';
import {
  CASE_HTML, CASE_INSENSITIVE, COND_ANY, COND_ATTR_DASH, COND_ATTR_EQ, COND_ATTR_EXISTS, COND_ATTR_INCLUDES,
  COND_ATTR_PREFIX, COND_ATTR_SUBSTRING, COND_ATTR_SUFFIX, COND_CLASS, COND_ID, COND_NTH_CHILD, COND_NTH_OF_TYPE,
  COND_TYPE, SelectorProgram, nthMatches, parseSelector, type Condition, type ParsedSelector,
} from './selectors.ts';
import {
  F_BREAKOUT, F_MATHML_TEXT_IP, F_SVG_IP, F_TEXT_TAG, F_VOID, TAG_ANNOTATION_XML, TAG_ESI_COMMENT, TAG_ESI_INCLUDE,
  TAG_FLAGS, TAG_FONT, TAG_FRAMESET, TAG_INPUT, TAG_KEYGEN, TAG_MATH, TAG_META, TAG_NOFRAMES, TAG_OTHER, TAG_P, TAG_BR,
  TAG_COUNT, TAG_SCRIPT, TAG_SELECT, TAG_SVG, TAG_TEMPLATE, TAG_TEXTAREA, OtherTagNames, shortKey, tagIdOf, tagIdOfKey, tagName, textTypeOfTag,
} from './tags.ts';
import { isUtf8 } from 'node:buffer';
import { documentEncoding, firstNonAscii, isAsciiRange, resolveEncoding, type DocumentEncoding, type TextNodeDecoder } from './encoding.ts';
import {
  Comment, Doctype, DocumentEnd, Element, EndTag, NS_HTML, NS_MATHML, NS_SVG, TextChunk, UnitLifetime, asciiLowerString,
} from './content.ts';
import { MemoryLimitExceededError, ParsingAmbiguityError, RewriterPoisonedError } from './errors.ts';

type Awaitable = void | Promise<void>;

export interface ElementHandlers {
  element?(element: Element): Awaitable;
  comments?(comment: Comment): Awaitable;
  text?(text: TextChunk): Awaitable;
}
export interface DocumentHandlers {
  doctype?(doctype: Doctype): Awaitable;
  comments?(comment: Comment): Awaitable;
  text?(text: TextChunk): Awaitable;
  end?(end: DocumentEnd): Awaitable;
}
export interface RewriterOptions {
  /** WHATWG label of an ASCII-compatible encoding; default "utf-8". */
  encoding?: string;
  /** Refuse ambiguous text-type switches (SPEC §6.4); default true. */
  strict?: boolean;
  /** Treat `<esi:include>` and `<esi:comment>` as void elements; default false. */
  enableEsiTags?: boolean;
  /** Switch the document encoding on the first `<meta charset>`; default false. */
  adjustCharsetOnMetaTag?: boolean;
  /** Cap, in bytes, on buffered input plus the open-element stack; default unlimited. */
  maxAllowedMemoryUsage?: number;
  /** Parsing buffer reserved up front (counts against the limit); default 1024. */
  preallocatedParsingBufferSize?: number;
}

/** One `on()` call. */
export interface Registration {
  readonly selector: ParsedSelector;
  readonly handlers: ElementHandlers;
}

const NS_IS_HTML = 0;
const NS_IS_SVG = 1;
const NS_IS_MATHML = 2;
const NS_URIS = [NS_HTML, NS_SVG, NS_MATHML];

// Ambiguity guard states (SPEC §6.4).
const GUARD_DEFAULT = 0;
const GUARD_IN_SELECT = 1;
const GUARD_IN_TEMPLATE_IN_SELECT = 2;
const GUARD_FRAMESET = 3;

const EMPTY: readonly number[] = [];

/** The most input bytes one text chunk covers (lol-html's text decoder's buffer). */
const TEXT_CHUNK_BYTES = 1024;

/** Approximate bytes an open element costs (counted against the memory limit). */
const STACK_ENTRY_BYTES = 128;

/** An entry of the naive open-element stack (entries are reused when popped: see `open`). */
class OpenElement {
  /** Tag id (tags.ts; for a name outside the table, the id OtherTagNames gave it). */
  id = TAG_OTHER;
  childCount = 0;
  /** Children so far by tag id (for :nth-of-type). */
  typeCounts: Map<number, number> | null = null;
  /** States tried on children only, and on all descendants. */
  childStates: readonly number[] = EMPTY;
  descendantStates: readonly number[] = EMPTY;
  /** Registrations (with comments/text handlers) whose content this element opens. */
  contentRegistrations: readonly number[] = EMPTY;
  /** The element given to handlers, kept for end-tag work, or null. */
  element: Element | null = null;
  removesContent = false;

  open(id: number, childStates: readonly number[], descendantStates: readonly number[], contentRegistrations: readonly number[], element: Element | null): void {
    this.id = id;
    this.childCount = 0;
    this.typeCounts = null;
    this.childStates = childStates;
    this.descendantStates = descendantStates;
    this.contentRegistrations = contentRegistrations;
    this.element = element;
    this.removesContent = false;
  }
}

type TaskFn = (this: unknown, arg: unknown) => unknown;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/** Bytes and tag name of a start tag whose output waits for its handlers. */
interface PendingRaw {
  readonly end: number;
  readonly suppressed: boolean;
}

/**
 * The engine behind one rewriting run: sink-driven, `write()`/`end()` (SPEC §2.2).
 * `HTMLRewriter` (./index.ts) wraps it for both API shapes.
 */
export class RewriterEngine {
  readonly #sink: (chunk: Uint8Array) => void;
  readonly #registrations: readonly Registration[];
  readonly #documentHandlers: readonly DocumentHandlers[];
  readonly #program: SelectorProgram | null;
  readonly #lexer = new Lexer();
  #enc: DocumentEncoding;
  readonly #strict: boolean;
  readonly #esi: boolean;
  readonly #adjustCharset: boolean;
  readonly #memoryLimit: number;
  #arenaBytes = 0;

  // Output.
  #out = '';
  /** Absolute input offset up to which input was emitted or dropped. */
  #emitted = 0;
  /** Absolute input offset where the raw input not yet copied to #out starts: [#rawStart, #emitted) is output. */
  #rawStart = 0;
  // Which input is ASCII: the last chunk written, the absolute offset of its first byte, and the
  // first non-ASCII byte in it at or after the last range asked about (-1: not searched yet).
  // Ranges are asked about in input order, so each search goes on from the last.
  #chunk: Buffer = Buffer.alloc(0);
  #chunkAt = 0;
  #nonAsciiAt = -1;
  /** Depth of content removal; output is dropped while > 0. */
  #suppress = 0;

  // Tree-builder simulation.
  readonly #nsStack: number[] = [NS_IS_HTML];
  #ns = NS_IS_HTML;
  #guard = GUARD_DEFAULT;
  #templateDepth = 0;
  #charsetAdjusted = false;

  // Open-element stack (only with selectors).
  /** Entries [0, #depth) are open; the ones above are kept for reuse. */
  readonly #stack: OpenElement[] = [];
  #depth = 0;
  readonly #root = new OpenElement();
  /** How many open elements have each tag id (OtherTagNames' ids included: grown as they are given). */
  #openIds = new Int32Array(TAG_COUNT * 2);
  readonly #otherNames = new OtherTagNames();
  readonly #stateSeen: Uint32Array;
  #generation = 0;
  readonly #contentActive: Int32Array;
  #textRegistrationsActive = 0;
  #commentRegistrationsActive = 0;
  readonly #docText: readonly DocumentHandlers[];
  readonly #docComments: readonly DocumentHandlers[];
  readonly #docDoctype: readonly DocumentHandlers[];
  readonly #docEnd: readonly DocumentHandlers[];

  // Current text node (only when text handlers are active).
  #inTextNode = false;
  #textDecoder: TextNodeDecoder | null = null;

  // Task queue for the current token.
  readonly #taskFn: TaskFn[] = [];
  readonly #taskSelf: unknown[] = [];
  readonly #taskArg: unknown[] = [];
  #taskCount = 0;
  #taskIndex = 0;
  /** A handler's Promise the queued tasks wait for, or null. */
  #waiting: PromiseLike<unknown> | null = null;
  /** Units handed to handlers expire when it moves on (after each token's handlers). */
  readonly #lifetime = new UnitLifetime();

  #busy: Promise<void> | null = null;
  #failed: unknown = null;
  #ended = false;

  constructor(sink: (chunk: Uint8Array) => void, registrations: readonly Registration[], documentHandlers: readonly DocumentHandlers[], options: RewriterOptions = {}) {
    this.#sink = sink;
    this.#registrations = registrations;
    this.#documentHandlers = documentHandlers;
    this.#enc = documentEncoding(resolveEncoding(options.encoding ?? 'utf-8'));
    this.#strict = options.strict ?? true;
    this.#esi = options.enableEsiTags ?? false;
    this.#adjustCharset = options.adjustCharsetOnMetaTag ?? false;
    this.#memoryLimit = options.maxAllowedMemoryUsage ?? Infinity;
    this.#lexer.lazyAttributes = true; // attributes are lexed only for tags that need them
    const prealloc = options.preallocatedParsingBufferSize ?? 1024;
    if (prealloc <= this.#memoryLimit) this.#arenaBytes = prealloc;
    if (registrations.length > 0) {
      const program = new SelectorProgram();
      registrations.forEach((r, id) => program.add(r.selector, id, (s) => this.#enc.encodeStrict(s)));
      this.#program = program;
      // Tags some selector state is tried on mostly have their attributes read.
      const eager = new Uint8Array(256);
      for (let id = 1; id < TAG_COUNT; id++) {
        const name = tagName(id);
        if (name.length <= SHORT_NAME && program.rootsOf(id).length > 0) eager[eagerSlot(shortKey(name, 0, name.length))] = 1;
      }
      this.#lexer.eagerAttributes = eager;
    } else {
      this.#program = null;
    }
    this.#root.open(TAG_OTHER, EMPTY, this.#program?.roots ?? EMPTY, EMPTY, null);
    this.#stateSeen = new Uint32Array(this.#program?.states.length ?? 0);
    this.#contentActive = new Int32Array(registrations.length);
    this.#docText = documentHandlers.filter((h) => typeof h.text === 'function');
    this.#docComments = documentHandlers.filter((h) => typeof h.comments === 'function');
    this.#docDoctype = documentHandlers.filter((h) => typeof h.doctype === 'function');
    this.#docEnd = documentHandlers.filter((h) => typeof h.end === 'function');
  }

  write(chunk: Uint8Array): Awaitable {
    if (this.#busy !== null) {
      return this.#track(this.#busy.then(() => this.write(chunk)));
    }
    this.#checkUsable();
    const lx = this.#lexer;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (lx.pending > 0) this.#reserve(lx.pending + bytes.length);
    lx.write(bytes.toString('latin1'));
    this.#chunk = bytes;
    this.#chunkAt = lx.base + lx.pos + lx.pending - bytes.length;
    this.#nonAsciiAt = -1;
    return this.#guarded(() => this.#pump(), () => this.#afterWrite());
  }

  end(): Awaitable {
    if (this.#busy !== null) {
      return this.#track(this.#busy.then(() => this.end()));
    }
    this.#checkUsable();
    this.#ended = true;
    this.#lexer.finish();
    return this.#guarded(() => this.#pump(), () => this.#finishDocument());
  }

  #checkUsable(): void {
    if (this.#failed !== null) throw new RewriterPoisonedError(this.#failed);
    if (this.#ended) throw new RewriterPoisonedError();
  }

  /** Runs `work` (maybe async) then `after`; any error poisons the rewriter (output so far is sent). */
  #guarded(work: () => Awaitable, after: () => Awaitable): Awaitable {
    const fail = (e: unknown): never => {
      this.#failed = e;
      this.#flushOutput();
      throw e;
    };
    let r: Awaitable;
    try {
      r = work();
      if (r === undefined) {
        const a = after();
        return a === undefined ? undefined : this.#track(a.then(undefined, fail));
      }
    } catch (e) {
      return fail(e);
    }
    return this.#track(r.then(() => {
      try {
        return after();
      } catch (e) {
        return fail(e);
      }
    }, fail));
  }

  /** Makes later write()/end() calls wait for `p`. */
  #track(p: Promise<void>): Promise<void> {
    const busy: Promise<void> = p.finally(() => { if (this.#busy === busy) this.#busy = null; });
    this.#busy = busy;
    return busy;
  }

  #afterWrite(): void {
    const lx = this.#lexer;
    this.#flushRaw(lx.base + lx.pos);
    this.#flushOutput();
    this.#reserve(lx.pending);
  }

  #finishDocument(): Awaitable {
    const lx = this.#lexer;
    this.#closeTextNode();
    const r = this.#runTasks();
    const rest = (): Awaitable => {
      this.#flushRaw(lx.base + lx.buf.length);
      this.#flushOutput();
      if (this.#docEnd.length === 0) return;
      const end = new DocumentEnd(this.#lifetime, this.#enc);
      for (const h of this.#docEnd) this.#call(h.end as TaskFn, h, end);
      this.#later(this.#completeDocumentEnd as TaskFn, end);
      const done = this.#runTasks();
      if (done !== undefined) return done.then(() => this.#flushOutput());
      this.#flushOutput();
    };
    return r === undefined ? rest() : r.then(rest);
  }

  #completeDocumentEnd(end: DocumentEnd): void {
    this.#emit(end.appended, this.#emitted, false);
    this.#lifetime.generation++;
  }

  /** Grows the parsing-buffer reservation to `bytes` if needed (SPEC §8.1). */
  #reserve(bytes: number): void {
    if (bytes > this.#arenaBytes) this.#arenaBytes = bytes;
    if (this.#arenaBytes + this.#depth * STACK_ENTRY_BYTES > this.#memoryLimit) throw new MemoryLimitExceededError();
  }

  #flushOutput(): void {
    this.#copyRaw();
    if (this.#out.length === 0) return;
    const out = Buffer.from(this.#out, 'latin1');
    this.#out = '';
    this.#sink(out);
  }

  /** Copies the pending raw input [rawStart, emitted) to #out. */
  #copyRaw(): void {
    const from = this.#rawStart;
    const to = this.#emitted;
    if (to <= from) return;
    const base = this.#lexer.base;
    this.#out += this.#lexer.buf.slice(from - base, to - base);
    this.#rawStart = to;
  }

  /** Input [emitted, to) goes to the output unless content is being removed. */
  #flushRaw(to: number): void {
    if (to <= this.#emitted) return;
    if (this.#suppress > 0) {
      this.#copyRaw();
      this.#rawStart = to;
    }
    this.#emitted = to;
  }

  /** Input [emitted, end) is replaced by `bytes` (dropped if suppressed). */
  #emit(bytes: string, end: number, suppressed: boolean): void {
    this.#copyRaw();
    if (!suppressed) this.#out += bytes;
    this.#emitted = this.#rawStart = end;
  }

  #task(fn: TaskFn, self: unknown, arg: unknown): void {
    const i = this.#taskCount++;
    this.#taskFn[i] = fn;
    this.#taskSelf[i] = self;
    this.#taskArg[i] = arg;
  }

  /** Whether work must wait for a handler's Promise (is queued instead of done now). */
  #deferring(): boolean {
    return this.#waiting !== null || this.#taskCount > 0;
  }

  /** Calls a handler now, or queues it behind a pending Promise. */
  #call(fn: TaskFn, self: unknown, arg: unknown): void {
    if (this.#deferring()) this.#task(fn, self, arg);
    else this.#settle(fn.call(self, arg));
  }

  // Text and element handlers, the ones called per token, are called from call sites of their own:
  // through #call's `fn.call` site, which every kind of handler shares, a call costs several times more.
  #callText(h: ElementHandlers | DocumentHandlers, chunk: TextChunk): void {
    if (this.#deferring()) this.#task(h.text as TaskFn, h, chunk);
    else this.#settle(h.text!(chunk));
  }

  #callElement(h: ElementHandlers, element: Element): void {
    if (this.#deferring()) this.#task(h.element as TaskFn, h, element);
    else this.#settle(h.element!(element));
  }

  /** A handler returned `r`: the work after it waits if it is a Promise. */
  #settle(r: unknown): void {
    if (r !== undefined && isThenable(r)) this.#waiting = r;
  }

  /** Queues the engine's own work `fn(arg)` behind a pending Promise (callers do it now when not deferring). */
  #later(fn: TaskFn, arg: unknown): void {
    if (this.#deferring()) this.#task(fn, this, arg);
    else fn.call(this, arg);
  }

  /** Runs the queued tasks after the Promise they wait for; returns a Promise if one is pending. */
  #runTasks(): Promise<void> | undefined {
    if (this.#waiting !== null) {
      const w = this.#waiting;
      this.#waiting = null;
      this.#flushOutput();
      return Promise.resolve(w).then(() => this.#runTasks());
    }
    while (this.#taskIndex < this.#taskCount) {
      const i = this.#taskIndex++;
      const r = this.#taskFn[i].call(this.#taskSelf[i], this.#taskArg[i]);
      if (isThenable(r)) {
        this.#flushOutput();
        return Promise.resolve(r).then(() => this.#runTasks());
      }
    }
    this.#taskIndex = this.#taskCount = 0;
    this.#lifetime.generation++;
    return undefined;
  }

  #pump(): Awaitable {
    const lx = this.#lexer;
    for (;;) {
      if (this.#deferring()) {
        const p = this.#runTasks();
        if (p !== undefined) return p.then(() => this.#pump());
      } else this.#lifetime.generation++; // the last token's units expire
      const kind = lx.next();
      if (kind === TOKEN_NONE) return;
      const start = lx.base + lx.tokStart;
      this.#flushRaw(start);
      switch (kind) {
        case TOKEN_TEXT:
          this.#onText();
          break;
        case TOKEN_START_TAG:
          this.#onStartTag(); // ends the text node itself, after the checks that may fail
          break;
        case TOKEN_END_TAG:
          this.#closeTextNode();
          this.#onEndTag();
          break;
        case TOKEN_COMMENT:
          this.#closeTextNode();
          this.#onComment();
          break;
        case TOKEN_DOCTYPE:
          this.#closeTextNode();
          this.#onDoctype();
          break;
        case TOKEN_CDATA_START:
        case TOKEN_CDATA_END:
          this.#closeTextNode();
          this.#passThrough();
          break;
        default: // a gap ("</>", a tag unfinished at EOF): no token, copied through, ends the text node
          this.#closeTextNode();
          this.#passThrough();
      }
    }
  }

  /** The current token is output as it is (after whatever is queued before it). */
  #passThrough(): void {
    const end = this.#lexer.base + this.#lexer.tokEnd;
    if (!this.#deferring()) this.#flushRaw(end);
    else this.#task(this.#completeRaw as TaskFn, this, { end, suppressed: this.#suppress > 0 } satisfies PendingRaw);
  }

  #completeRaw(p: PendingRaw): void {
    const base = this.#lexer.base;
    this.#emit(this.#lexer.buf.slice(this.#emitted - base, p.end - base), p.end, p.suppressed);
  }

  /** Whether input [start, end) (absolute offsets of a range in the lexer's buffer) is ASCII. */
  #inputAscii(start: number, end: number): boolean {
    if (start < this.#chunkAt) {
      // Held back from an earlier write.
      const base = this.#lexer.base;
      return isAsciiRange(this.#lexer.buf, start - base, end - base);
    }
    if (this.#nonAsciiAt < start) this.#nonAsciiAt = this.#chunkAt + firstNonAscii(this.#chunk, start - this.#chunkAt);
    return this.#nonAsciiAt >= end;
  }

  // ---- text ----

  #textHandlersActive(): boolean {
    return this.#docText.length > 0 || this.#textRegistrationsActive > 0;
  }

  #onText(): void {
    if (!this.#textHandlersActive()) {
      this.#passThrough();
      return;
    }
    const lx = this.#lexer;
    this.#inTextNode = true;
    let start = lx.base + lx.tokStart;
    const end = lx.base + lx.tokEnd;
    // Handlers get at most TEXT_CHUNK_BYTES per chunk, as lol-html's text decoder hands text out (a
    // long script is many chunks), cut before a UTF-8 continuation byte.
    while (end - start > TEXT_CHUNK_BYTES) {
      let cut = start + TEXT_CHUNK_BYTES;
      if (this.#enc.isUtf8) while (cut > start + TEXT_CHUNK_BYTES - 3 && (lx.buf.charCodeAt(cut - lx.base) & 0xc0) === 0x80) cut--;
      this.#textPiece(start, cut);
      if (!this.#deferring()) this.#lifetime.generation++; // the piece's chunk expires
      start = cut;
    }
    this.#textPiece(start, end);
  }

  /** Text input [start, end) (absolute offsets) as the next chunk of the current text node. */
  #textPiece(start: number, end: number): void {
    const lx = this.#lexer;
    const decoder = (this.#textDecoder ??= this.#enc.newTextDecoder());
    // ASCII text is its own decoding: the chunk's text is the input, which passes through raw unless mutated.
    if (!decoder.holding && this.#enc.asciiIsIdentity && this.#inputAscii(start, end)) {
      this.#textChunk(lx.buf.slice(start - lx.base, end - lx.base), false, end, true);
      return;
    }
    // So is complete, valid UTF-8 (decoded natively from the chunk's bytes; it encodes back to them).
    if (!decoder.holding && this.#enc.isUtf8 && start >= this.#chunkAt) {
      const from = start - this.#chunkAt;
      const to = end - this.#chunkAt;
      if (isUtf8(this.#chunk.subarray(from, to))) {
        this.#textChunk(this.#chunk.toString('utf8', from, to), false, end, true);
        return;
      }
    }
    const text = decoder.decode(lx.buf.slice(start - lx.base, end - lx.base));
    if (text === '') {
      this.#emit('', end, true); // held by the decoder; written with the chunk that completes it
      return;
    }
    this.#textChunk(text, false, end, false);
  }

  /** Hands a text chunk to the text handlers; `raw`: the input [emitted, end) is the chunk's text. */
  #textChunk(text: string, last: boolean, end: number, raw: boolean): void {
    const chunk = new TextChunk(this.#lifetime, this.#enc, text, last);
    if (this.#textRegistrationsActive > 0) {
      for (let id = 0; id < this.#registrations.length; id++) {
        const h = this.#registrations[id].handlers;
        if (this.#contentActive[id] > 0 && typeof h.text === 'function') this.#callText(h, chunk);
      }
    }
    const docText = this.#docText;
    for (let i = 0; i < docText.length; i++) this.#callText(docText[i], chunk);
    const suppressed = this.#suppress > 0;
    if (this.#deferring()) this.#task(this.#completeText as TaskFn, this, { chunk, end, raw, suppressed });
    else this.#completeTextNow(chunk, end, raw, suppressed);
  }

  #completeText(p: { chunk: TextChunk; end: number; raw: boolean; suppressed: boolean }): void {
    this.#completeTextNow(p.chunk, p.end, p.raw, p.suppressed);
  }

  #completeTextNow(chunk: TextChunk, end: number, raw: boolean, suppressed: boolean): void {
    if (raw && !chunk.hasMutations) {
      if (suppressed) this.#emit('', end, true);
      else if (end > this.#emitted) this.#emitted = end; // the raw run goes on
      return;
    }
    this.#emit(chunk.serialize(), Math.max(end, this.#emitted), suppressed);
  }

  /** Ends the current text node (if text handlers saw it) with its last chunk. */
  #closeTextNode(): void {
    if (!this.#inTextNode) return;
    this.#inTextNode = false;
    const text = (this.#textDecoder as TextNodeDecoder).flush();
    this.#textChunk(text, true, this.#emitted, text === '');
  }

  // ---- start tags ----

  #onStartTag(): void {
    const lx = this.#lexer;
    const buf = lx.buf;
    const id = lx.nameKey !== -1 ? tagIdOfKey(lx.nameKey) : tagIdOf(buf, lx.nameStart, lx.nameEnd);
    const flags = TAG_FLAGS[id]; // none for TAG_OTHER
    if (this.#strict && (this.#guard !== GUARD_DEFAULT || id === TAG_SELECT || id === TAG_FRAMESET)) this.#guardStartTag(id, flags);
    // Tree-builder feedback: namespace and text type (SPEC §6.2, §6.3).
    if (id === TAG_SVG) this.#enterNs(NS_IS_SVG);
    else if (id === TAG_MATH) this.#enterNs(NS_IS_MATHML);
    else if (this.#ns !== NS_IS_HTML) this.#foreignStartTag(id, this.#tagSelfClosing());
    else if ((flags & F_TEXT_TAG) !== 0) lx.setTextType(textTypeOfTag(id), tagName(id));
    const ns = this.#ns;
    const canHaveContent = ns === NS_IS_HTML
      ? !((flags & F_VOID) !== 0 || (this.#esi && (id === TAG_ESI_INCLUDE || id === TAG_ESI_COMMENT)))
      : !this.#tagSelfClosing();
    // The element's open-stack entry must fit before anything of this tag (or the text before it) is handled.
    if (canHaveContent && this.#memoryLimit !== Infinity && this.#program !== null && this.#arenaBytes + (this.#depth + 1) * STACK_ENTRY_BYTES > this.#memoryLimit) {
      throw new MemoryLimitExceededError();
    }
    this.#closeTextNode();
    if (this.#adjustCharset && !this.#charsetAdjusted && id === TAG_META) this.#metaCharset();
    if (this.#program === null) {
      this.#passThrough();
      return;
    }
    this.#matchStartTag(id, ns, canHaveContent);
  }

  /** The current start tag's self-closing flag (its attributes are lexed if they were not). */
  #tagSelfClosing(): boolean {
    const lx = this.#lexer;
    if (!lx.attrsLexed) lx.lexAttributes();
    return lx.selfClosing;
  }

  /** The ambiguity guard's state after a start tag (SPEC §6.4); `flags`: the tag's TAG_FLAGS. */
  #guardStartTag(id: number, flags: number): void {
    const textTag = (flags & F_TEXT_TAG) !== 0;
    switch (this.#guard) {
      case GUARD_DEFAULT:
        if (id === TAG_SELECT) this.#guard = GUARD_IN_SELECT;
        else if (id === TAG_FRAMESET) this.#guard = GUARD_FRAMESET;
        return;
      case GUARD_IN_SELECT:
        if (id === TAG_SELECT || id === TAG_TEXTAREA || id === TAG_INPUT || id === TAG_KEYGEN) this.#guard = GUARD_DEFAULT;
        else if (id === TAG_TEMPLATE) { this.#guard = GUARD_IN_TEMPLATE_IN_SELECT; this.#templateDepth = 1; }
        else if (id !== TAG_SCRIPT && textTag) throw new ParsingAmbiguityError(tagName(id));
        return;
      case GUARD_IN_TEMPLATE_IN_SELECT:
        if (id === TAG_TEMPLATE) this.#templateDepth++;
        else if (textTag) throw new ParsingAmbiguityError(tagName(id));
        return;
      default:
        if (id !== TAG_NOFRAMES && textTag) throw new ParsingAmbiguityError(tagName(id));
    }
  }

  #guardEndTag(id: number): void {
    if (this.#guard === GUARD_IN_SELECT && id === TAG_SELECT) this.#guard = GUARD_DEFAULT;
    else if (this.#guard === GUARD_IN_TEMPLATE_IN_SELECT && id === TAG_TEMPLATE) {
      if (--this.#templateDepth === 0) this.#guard = GUARD_IN_SELECT;
    }
  }

  #enterNs(ns: number): void {
    this.#nsStack.push(ns);
    this.#ns = ns;
    this.#lexer.allowCdata = ns !== NS_IS_HTML;
  }

  #leaveNs(): void {
    if (this.#nsStack.length > 1) this.#nsStack.pop();
    this.#ns = this.#nsStack[this.#nsStack.length - 1];
    this.#lexer.allowCdata = this.#ns !== NS_IS_HTML;
  }

  #foreignStartTag(id: number, selfClosing: boolean): void {
    const flags = id === TAG_OTHER ? 0 : TAG_FLAGS[id];
    if ((flags & F_BREAKOUT) !== 0) { this.#leaveNs(); return; }
    if ((this.#ns === NS_IS_SVG && (flags & F_SVG_IP) !== 0) || (this.#ns === NS_IS_MATHML && (flags & F_MATHML_TEXT_IP) !== 0)) {
      if (!selfClosing) this.#enterNs(NS_IS_HTML);
      return;
    }
    if (id === TAG_FONT) {
      if (this.#findAttr('color') !== -1 || this.#findAttr('size') !== -1 || this.#findAttr('face') !== -1) this.#leaveNs();
      return;
    }
    if (id === TAG_ANNOTATION_XML && this.#ns === NS_IS_MATHML && !selfClosing) {
      const k = this.#findAttr('encoding');
      if (k === -1) return;
      const v = asciiLowerString(this.#attrValue(k));
      if (v === 'text/html' || v === 'application/xhtml+xml') this.#enterNs(NS_IS_HTML);
    }
  }

  #endTagFeedback(id: number): void {
    if (this.#ns === NS_IS_HTML) {
      const n = this.#nsStack.length;
      if (n < 2) return;
      const prev = this.#nsStack[n - 2];
      const flags = id === TAG_OTHER ? 0 : TAG_FLAGS[id];
      if ((prev === NS_IS_MATHML && ((flags & F_MATHML_TEXT_IP) !== 0 || id === TAG_ANNOTATION_XML)) || (prev === NS_IS_SVG && (flags & F_SVG_IP) !== 0)) {
        this.#leaveNs();
      }
    } else if ((this.#ns === NS_IS_SVG && id === TAG_SVG) || (this.#ns === NS_IS_MATHML && id === TAG_MATH) || id === TAG_P || id === TAG_BR) {
      this.#leaveNs();
    }
  }

  /** Index (in lexer.attrs) of the current tag's first attribute with this lowercase name, or -1. */
  #findAttr(lowerName: string): number {
    const lx = this.#lexer;
    if (!lx.attrsLexed) lx.lexAttributes();
    return lx.attributeIndex(lowerName);
  }

  #attrValue(k: number): string {
    const lx = this.#lexer;
    const vs = lx.attrs[k + 2];
    return vs === -1 ? '' : lx.buf.slice(vs, lx.attrs[k + 3]);
  }

  /** `<meta charset>` / `<meta http-equiv=content-type content=…charset=…>` (SPEC §9.3). */
  #metaCharset(): void {
    let label: string | null = null;
    const cs = this.#findAttr('charset');
    if (cs !== -1) label = this.#attrValue(cs);
    else {
      const he = this.#findAttr('http-equiv');
      const ct = this.#findAttr('content');
      if (he !== -1 && ct !== -1 && asciiLowerString(this.#attrValue(he)) === 'content-type') {
        const m = /;\s*charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;]+))/i.exec(this.#attrValue(ct));
        if (m !== null) label = m[1] ?? m[2] ?? m[3];
      }
    }
    if (label === null) return;
    let name: string;
    try {
      name = resolveEncoding(label);
    } catch {
      return;
    }
    this.#charsetAdjusted = true;
    this.#enc = documentEncoding(name);
    this.#textDecoder = null;
  }

  #matchStartTag(id: number, ns: number, canHaveContent: boolean): void {
    const lx = this.#lexer;
    const program = this.#program as SelectorProgram;
    const depth = this.#depth;
    const parent = depth > 0 ? this.#stack[depth - 1] : this.#root;
    const nameId = id === TAG_OTHER ? this.#otherNames.idOf(lx.buf, lx.nameStart, lx.nameEnd) : id;
    const childIndex = ++parent.childCount;
    let typeIndex = 0;
    if (program.usesNthOfType) {
      const counts = (parent.typeCounts ??= new Map());
      typeIndex = (counts.get(nameId) ?? 0) + 1;
      counts.set(nameId, typeIndex);
    }
    // Selector states handed down by the parent. Most elements' descendant states are the roots
    // (no combinator added any): those come filtered by tag, mostly an empty list.
    const descendantStates = parent.descendantStates === program.roots ? program.rootsOf(id) : parent.descendantStates;
    if (parent.childStates.length === 0 && descendantStates.length === 0) {
      // Nothing to try here (most elements): the element only goes on the stack.
      if (canHaveContent) this.#push(nameId, EMPTY, parent.descendantStates, EMPTY, null);
      this.#passThrough();
      return;
    }
    this.#tryStates(id, ns, canHaveContent, parent, nameId, childIndex, typeIndex, descendantStates);
  }

  /**
   * The selector states handed down to a start tag tried on it, then its handlers called. Apart
   * from #matchStartTag, which most tags leave early: compiled on its own, this path does not
   * use up the optimiser's inlining budget of that one.
   */
  #tryStates(
    id: number, ns: number, canHaveContent: boolean, parent: OpenElement, nameId: number,
    childIndex: number, typeIndex: number, descendantStates: readonly number[],
  ): void {
    const lx = this.#lexer;
    const program = this.#program as SelectorProgram;
    const name = id === TAG_OTHER ? this.#otherNames.nameOf(nameId) : tagName(id);
    const gen = ++this.#generation;
    const seen = this.#stateSeen;
    let matched: number[] | null = null;
    let childStates: number[] | null = null;
    let newDescendants: number[] | null = null;
    for (let pass = 0; pass < 2; pass++) {
      const list = pass === 0 ? parent.childStates : descendantStates;
      for (let i = 0; i < list.length; i++) {
        const s = list[i];
        if (seen[s] === gen) continue;
        seen[s] = gen;
        const state = program.states[s];
        if (state.requiredTag !== -1 && state.requiredTag !== id) continue;
        if (!this.#matches(state.conditions, name, ns, childIndex, typeIndex)) continue;
        const reg = program.completes[s];
        if (reg !== -1) {
          // Mostly the only match: an array made with it has no backing store to grow.
          if (matched === null) matched = [reg];
          else matched.push(reg);
        }
        else if (state.nextIsDescendant) {
          if (!parent.descendantStates.includes(state.next)) (newDescendants ??= []).push(state.next);
        } else (childStates ??= []).push(state.next);
      }
    }
    if (matched !== null && matched.length > 1) matched = [...new Set(matched)].sort((a, b) => a - b);

    let element: Element | null = null;
    let contentRegs: number[] | null = null;
    if (matched !== null) {
      for (const reg of matched) {
        const h = this.#registrations[reg].handlers;
        if (typeof h.element === 'function') element ??= this.#newElement(ns, canHaveContent);
        if (canHaveContent && (typeof h.text === 'function' || typeof h.comments === 'function')) (contentRegs ??= []).push(reg);
      }
    }
    const entry = canHaveContent
      ? this.#push(
        nameId, childStates ?? EMPTY,
        newDescendants === null ? parent.descendantStates : parent.descendantStates.concat(newDescendants),
        contentRegs ?? EMPTY, element,
      )
      : null;
    if (element === null) {
      if (entry !== null) this.#activate(entry);
      this.#passThrough();
      return;
    }
    for (const reg of matched as number[]) {
      const h = this.#registrations[reg].handlers;
      if (typeof h.element === 'function') this.#callElement(h, element);
    }
    const end = lx.base + lx.tokEnd;
    const suppressed = this.#suppress > 0;
    if (this.#deferring()) this.#task(this.#completeStartTag as TaskFn, this, { element, entry, end, suppressed });
    else this.#completeStartTagNow(element, entry, end, suppressed);
  }

  /** Opens an element: the next entry of the open-element stack (reused if there is one). */
  #push(
    nameId: number, childStates: readonly number[], descendantStates: readonly number[],
    contentRegistrations: readonly number[], element: Element | null,
  ): OpenElement {
    const depth = this.#depth;
    let entry = this.#stack[depth];
    if (entry === undefined) this.#stack.push(entry = new OpenElement());
    entry.open(nameId, childStates, descendantStates, contentRegistrations, element);
    this.#depth = depth + 1;
    if (nameId >= this.#openIds.length) {
      const grown = new Int32Array(nameId * 2);
      grown.set(this.#openIds);
      this.#openIds = grown;
    }
    this.#openIds[nameId]++;
    return entry;
  }

  /** The current start tag for handlers (inside content being removed it is already removed). */
  #newElement(ns: number, canHaveContent: boolean): Element {
    const lx = this.#lexer;
    const sourceDecoded = this.#enc.asciiIsIdentity && this.#inputAscii(lx.base + lx.tokStart, lx.base + lx.tokEnd);
    const element = new Element(this.#lifetime, this.#enc, lx, sourceDecoded, NS_URIS[ns], this.#tagSelfClosing(), canHaveContent);
    if (this.#suppress > 0) element.mutations.removed = true;
    return element;
  }

  #activate(entry: OpenElement): void {
    for (const reg of entry.contentRegistrations) {
      const h = this.#registrations[reg].handlers;
      if (this.#contentActive[reg]++ === 0) {
        if (typeof h.text === 'function') this.#textRegistrationsActive++;
        if (typeof h.comments === 'function') this.#commentRegistrationsActive++;
      }
    }
  }

  #deactivate(entry: OpenElement): void {
    for (const reg of entry.contentRegistrations) {
      const h = this.#registrations[reg].handlers;
      if (--this.#contentActive[reg] === 0) {
        if (typeof h.text === 'function') this.#textRegistrationsActive--;
        if (typeof h.comments === 'function') this.#commentRegistrationsActive--;
      }
    }
  }

  #completeStartTag(p: { element: Element; entry: OpenElement | null; end: number; suppressed: boolean }): void {
    this.#completeStartTagNow(p.element, p.entry, p.end, p.suppressed);
  }

  #completeStartTagNow(el: Element, entry: OpenElement | null, end: number, suppressed: boolean): void {
    const inPlace = el.modified && !suppressed ? el.inPlaceOverride() : -1;
    if (!el.modified && !el.hasMutations) {
      if (suppressed) this.#emit('', end, true);
      else if (end > this.#emitted) this.#emitted = end; // unchanged: the raw run goes on
    } else if (inPlace !== -1) {
      // Only one attribute's text changes: the raw run goes on around it (the element's outline
      // is the lexer's, which is still at this tag).
      const lx = this.#lexer;
      this.#flushRaw(lx.base + lx.attrs[inPlace]);
      this.#emit(el.overrideText(), lx.base + rawAttributeEnd(lx.attrs, inPlace), false);
      this.#emitted = end;
    } else {
      this.#emit(el.wrap(el.serializeStartTag()), end, suppressed);
    }
    if (entry !== null) {
      this.#activate(entry);
      if (el.removesContent) {
        entry.removesContent = true;
        this.#suppress++;
      }
    }
  }

  #matches(conditions: readonly Condition[], name: string, ns: number, childIndex: number, typeIndex: number): boolean {
    for (let i = 0; i < conditions.length; i++) {
      const c = conditions[i];
      let r: boolean;
      switch (c.kind) {
        case COND_TYPE: r = c.name === name; break;
        case COND_ANY: r = true; break;
        case COND_NTH_CHILD: r = nthMatches(c.a, c.b, childIndex); break;
        case COND_NTH_OF_TYPE: r = nthMatches(c.a, c.b, typeIndex); break;
        case COND_ID: {
          const k = this.#findAttr('id');
          r = k !== -1 && this.#attrValue(k) === c.value;
          break;
        }
        case COND_CLASS: {
          const k = this.#findAttr('class');
          r = k !== -1 && splitsTo(this.#attrValue(k), c.value, false);
          break;
        }
        case COND_ATTR_EXISTS: r = this.#findAttr(c.name) !== -1; break;
        default: {
          if (c.kind < COND_ATTR_EQ) { r = false; break; } // COND_NEVER
          const k = this.#findAttr(c.name);
          r = k !== -1 && compareAttr(c, this.#attrValue(k), c.caseMode === CASE_INSENSITIVE || (c.caseMode === CASE_HTML && ns === NS_IS_HTML));
        }
      }
      if (r === c.negated) return false;
    }
    return true;
  }

  // ---- end tags ----

  #onEndTag(): void {
    const lx = this.#lexer;
    const id = lx.nameKey !== -1 ? tagIdOfKey(lx.nameKey) : tagIdOf(lx.buf, lx.nameStart, lx.nameEnd);
    if (this.#strict) this.#guardEndTag(id);
    this.#endTagFeedback(id);
    if (this.#program === null) {
      this.#passThrough();
      return;
    }
    const stack = this.#stack;
    const nameId = id === TAG_OTHER ? this.#otherNames.idOf(lx.buf, lx.nameStart, lx.nameEnd) : id;
    let index = -1;
    if (nameId < this.#openIds.length && this.#openIds[nameId] > 0) {
      for (let i = this.#depth - 1; i >= 0; i--) if (stack[i].id === nameId) { index = i; break; }
    }
    if (index === -1) {
      this.#passThrough();
      return;
    }
    let endTag: EndTag | null = null;
    for (let i = this.#depth - 1; i >= index; i--) {
      const entry = stack[i];
      this.#openIds[entry.id]--;
      this.#deactivate(entry);
      if (entry.removesContent) this.#suppress--;
      const el = entry.element;
      if (el !== null && (el.endMutations !== null || (el.newName !== null && el.canHaveContent) || el.endTagHandlers !== null)) {
        endTag ??= new EndTag(this.#lifetime, this.#enc, lx.buf.slice(lx.tokStart, lx.tokEnd), lx.buf.slice(lx.nameStart, lx.nameEnd));
        this.#call(this.#applyEndTagWork as TaskFn, endTag, el);
        if (el.endTagHandlers !== null) for (const h of el.endTagHandlers) this.#call(h as TaskFn, el, endTag);
      }
      entry.element = null;
    }
    this.#depth = index;
    if (endTag === null) {
      this.#passThrough();
      return;
    }
    this.#later(this.#completeEndTag as TaskFn, { endTag, end: lx.base + lx.tokEnd, suppressed: this.#suppress > 0 });
  }

  /** An element's pending end-tag mutations, applied to the end tag that closes it (SPEC §4.2). */
  #applyEndTagWork(this: EndTag, el: Element): void {
    if (el.newName !== null) this.newName = el.newName;
    if (el.endMutations !== null) this.setMutations(el.endMutations);
  }

  #completeEndTag(p: { endTag: EndTag; end: number; suppressed: boolean }): void {
    this.#emit(p.endTag.serialize(), p.end, p.suppressed);
  }

  // ---- comments, doctypes ----

  #onComment(): void {
    if (this.#docComments.length === 0 && this.#commentRegistrationsActive === 0) {
      this.#passThrough();
      return;
    }
    const lx = this.#lexer;
    const comment = new Comment(this.#lifetime, this.#enc, lx.buf.slice(lx.tokStart, lx.tokEnd), lx.buf.slice(lx.dataStart, lx.dataEnd));
    if (this.#commentRegistrationsActive > 0) {
      for (let id = 0; id < this.#registrations.length; id++) {
        const h = this.#registrations[id].handlers;
        if (this.#contentActive[id] > 0 && typeof h.comments === 'function') this.#call(h.comments as TaskFn, h, comment);
      }
    }
    for (const h of this.#docComments) this.#call(h.comments as TaskFn, h, comment);
    this.#later(this.#completeComment as TaskFn, { comment, end: lx.base + lx.tokEnd, suppressed: this.#suppress > 0 });
  }

  #completeComment(p: { comment: Comment; end: number; suppressed: boolean }): void {
    this.#emit(p.comment.serialize(), p.end, p.suppressed);
  }

  #onDoctype(): void {
    if (this.#docDoctype.length > 0) {
      const lx = this.#lexer;
      const part = (p: number[], lower: boolean): string | null => {
        if (p[0] === -1) return null;
        const s = this.#enc.decode(lx.buf.slice(p[0], p[1]));
        return lower ? asciiLowerString(s) : s;
      };
      const doctype = new Doctype(this.#lifetime, part(lx.doctypeName, true), part(lx.doctypePublic, false), part(lx.doctypeSystem, false));
      for (const h of this.#docDoctype) this.#call(h.doctype as TaskFn, h, doctype);
    }
    this.#passThrough();
  }
}

/** Whether the whitespace-separated list `value` contains `item`. */
function splitsTo(value: string, item: string, ci: boolean): boolean {
  for (const part of value.split(/[ \t\n\r\f]/)) if (ci ? asciiEqualCi(part, item) : part === item) return true;
  return false;
}

function asciiEqualCi(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

/** Attribute operators as lol-html v3.0.1 evaluates them on raw value bytes. */
function compareAttr(c: Condition, actual: string, ci: boolean): boolean {
  const v = c.value;
  switch (c.kind) {
    case COND_ATTR_EQ: return ci ? asciiEqualCi(actual, v) : actual === v;
    case COND_ATTR_INCLUDES: return splitsTo(actual, v, ci);
    case COND_ATTR_DASH:
      if (ci ? asciiEqualCi(actual, v) : actual === v) return true;
      return actual.charCodeAt(v.length) === 45 && (ci ? asciiEqualCi(actual.slice(0, v.length), v) : actual.startsWith(v));
    case COND_ATTR_PREFIX:
      return actual !== '' && actual.length >= v.length && (ci ? asciiEqualCi(actual.slice(0, v.length), v) : actual.startsWith(v));
    case COND_ATTR_SUFFIX:
      return actual !== '' && actual.length >= v.length && (ci ? asciiEqualCi(actual.slice(actual.length - v.length), v) : actual.endsWith(v));
    case COND_ATTR_SUBSTRING:
      return ci ? asciiLowerString(actual).includes(asciiLowerString(v)) : actual.includes(v);
    default: return false;
  }
}

