// Token-object view of the pull lexer (`./lexer.ts`): materialises each token as an object with
// raw source text and absolute spans. Used by the html5lib conformance tests and by tools that
// want whole tokens; the rewriter drives the lexer directly and materialises nothing it does not
// need. Character references, NULs and CR/LF are left as they are; `./decode.ts` cooks raw values.
//
// Spans never overlap and are increasing. Input not covered by any token (a gap) is only "</>"
// and a tag left unfinished at end of input. By default a start tag in HTML content switches the
// text type (as the tree builder would); `foreignContent` turns that off, and the sink may
// override it with `setTextType()`. CDATA sections (only with `allowCdata`) are one token.
import {
  ATTR_STRIDE, Lexer, TEXT_CDATA, TEXT_DATA, TEXT_PLAINTEXT, TEXT_RAWTEXT, TEXT_RCDATA, TEXT_SCRIPT,
  TOKEN_CDATA_END, TOKEN_CDATA_START, TOKEN_COMMENT, TOKEN_DOCTYPE, TOKEN_END_TAG, TOKEN_NONE, TOKEN_START_TAG, TOKEN_TEXT,
} from './lexer.ts';

export type TextType = 'data' | 'rcdata' | 'rawtext' | 'scriptData' | 'plaintext';

export interface Attribute {
  /** Raw name (not case-folded). */
  readonly name: string;
  /** Raw value without quotes; "" for a valueless attribute. */
  readonly value: string;
  readonly nameStart: number;
  readonly nameEnd: number;
  /** Span of the value without quotes; both -1 when there is no value. */
  readonly valueStart: number;
  readonly valueEnd: number;
  /** 34 ("), 39 (') or 0 (unquoted / no value). */
  readonly quote: number;
}

export interface TextToken {
  readonly kind: 'text';
  readonly start: number;
  readonly end: number;
  readonly raw: string;
  readonly textType: TextType;
}
export interface StartTagToken {
  readonly kind: 'startTag';
  readonly start: number;
  readonly end: number;
  /** Raw tag name (case preserved). */
  readonly rawName: string;
  /** ASCII-lowercased name. */
  readonly name: string;
  readonly attributes: readonly Attribute[];
  readonly selfClosing: boolean;
}
export interface EndTagToken {
  readonly kind: 'endTag';
  readonly start: number;
  readonly end: number;
  readonly rawName: string;
  readonly name: string;
  readonly attributes: readonly Attribute[];
  readonly selfClosing: boolean;
}
export interface CommentToken {
  readonly kind: 'comment';
  readonly start: number;
  readonly end: number;
  /** Raw comment data (bogus comments included). */
  readonly text: string;
  readonly bogus: boolean;
}
export interface CdataToken {
  readonly kind: 'cdata';
  readonly start: number;
  readonly end: number;
  readonly text: string;
}
export interface DoctypeToken {
  readonly kind: 'doctype';
  readonly start: number;
  readonly end: number;
  /** Raw name (not case-folded) or null. */
  readonly name: string | null;
  readonly publicId: string | null;
  readonly systemId: string | null;
  readonly forceQuirks: boolean;
}
export type Token = TextToken | StartTagToken | EndTagToken | CommentToken | CdataToken | DoctypeToken;

export interface TokenizerOptions {
  /** Initial text state (default 'data'). */
  readonly initialState?: TextType | 'cdata';
  /** Name of the last start tag, for "appropriate end tag" checks in RCDATA/RAWTEXT/script data. */
  readonly lastStartTag?: string;
}

const TEXT_SWITCH: ReadonlyMap<string, TextType> = new Map<string, TextType>([
  ['textarea', 'rcdata'], ['title', 'rcdata'],
  ['style', 'rawtext'], ['iframe', 'rawtext'], ['xmp', 'rawtext'], ['noembed', 'rawtext'],
  ['noframes', 'rawtext'], ['noscript', 'rawtext'],
  ['script', 'scriptData'], ['plaintext', 'plaintext'],
]);

/** The text type that a start tag with this (lowercased) name switches to in HTML content, or null. */
export function textTypeForStartTag(name: string): TextType | null {
  return TEXT_SWITCH.get(name) ?? null;
}

const TYPE_CODES: Record<TextType | 'cdata', number> = {
  data: TEXT_DATA, rcdata: TEXT_RCDATA, rawtext: TEXT_RAWTEXT, scriptData: TEXT_SCRIPT, plaintext: TEXT_PLAINTEXT, cdata: TEXT_CDATA,
};
const TYPE_NAMES: readonly TextType[] = ['data', 'rcdata', 'rawtext', 'scriptData', 'plaintext'];

/** ASCII-only lowercasing (the tokenizer never folds non-ASCII letters). */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      let out = s.slice(0, i);
      for (let j = i; j < s.length; j++) {
        const d = s.charCodeAt(j);
        out += d >= 65 && d <= 90 ? String.fromCharCode(d + 32) : s[j];
      }
      return out;
    }
  }
  return s;
}

export class Tokenizer {
  /** When true (foreign content), start tags do not switch the text type. */
  foreignContent = false;

  #sink: (t: Token) => void;
  #lexer: Lexer;
  #ended = false;
  #switched = false;
  #cdataStart = -1;
  #cdataText = '';

  constructor(sink: (t: Token) => void, options: TokenizerOptions = {}) {
    this.#sink = sink;
    const initial = options.initialState ?? 'data';
    this.#lexer = new Lexer(TYPE_CODES[initial], options.lastStartTag ?? '');
    if (initial === 'cdata') this.#cdataStart = 0;
  }

  /** When true (foreign content), `<![CDATA[` opens a CDATA section; otherwise it is a bogus comment. */
  get allowCdata(): boolean {
    return this.#lexer.allowCdata;
  }
  set allowCdata(v: boolean) {
    this.#lexer.allowCdata = v;
  }

  /** Override the text state (e.g. from the start-tag callback, acting as the tree builder). */
  setTextType(t: TextType, lastStartTag?: string): void {
    this.#switched = true;
    this.#lexer.setTextType(TYPE_CODES[t], asciiLower(lastStartTag ?? this.#lastStartTag));
  }

  #lastStartTag = '';

  /** Number of input chars held back (an unfinished token). */
  get pending(): number {
    return this.#lexer.pending;
  }

  write(chunk: string): void {
    if (this.#ended) throw new Error('write() after end()');
    this.#lexer.write(chunk);
    this.#drain();
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#lexer.finish();
    this.#drain();
    if (this.#cdataStart !== -1) {
      const lx = this.#lexer;
      this.#sink({ kind: 'cdata', start: this.#cdataStart, end: lx.base + lx.buf.length, text: this.#cdataText });
    }
  }

  #drain(): void {
    const lx = this.#lexer;
    for (let kind = lx.next(); kind !== TOKEN_NONE; kind = lx.next()) {
      const buf = lx.buf;
      const base = lx.base;
      const start = base + lx.tokStart;
      const end = base + lx.tokEnd;
      switch (kind) {
        case TOKEN_TEXT:
          if (lx.textType === TEXT_CDATA) this.#cdataText += buf.slice(lx.tokStart, lx.tokEnd);
          else this.#sink({ kind: 'text', start, end, raw: buf.slice(lx.tokStart, lx.tokEnd), textType: TYPE_NAMES[lx.textType] });
          break;
        case TOKEN_CDATA_START:
          this.#cdataStart = start;
          this.#cdataText = '';
          break;
        case TOKEN_CDATA_END:
          this.#sink({ kind: 'cdata', start: this.#cdataStart, end, text: this.#cdataText });
          this.#cdataStart = -1;
          break;
        case TOKEN_START_TAG:
        case TOKEN_END_TAG: {
          const rawName = buf.slice(lx.nameStart, lx.nameEnd);
          const name = asciiLower(rawName);
          const attributes: Attribute[] = [];
          const a = lx.attrs;
          for (let k = 0; k < lx.attrCount * ATTR_STRIDE; k += ATTR_STRIDE) {
            const vs = a[k + 2];
            attributes.push({
              name: buf.slice(a[k], a[k + 1]), value: vs === -1 ? '' : buf.slice(vs, a[k + 3]),
              nameStart: base + a[k], nameEnd: base + a[k + 1], valueStart: vs === -1 ? -1 : base + vs, valueEnd: vs === -1 ? -1 : base + a[k + 3],
              quote: a[k + 4],
            });
          }
          if (kind === TOKEN_END_TAG) {
            this.#sink({ kind: 'endTag', start, end, rawName, name, attributes, selfClosing: lx.selfClosing });
            break;
          }
          this.#lastStartTag = name;
          this.#switched = false;
          this.#sink({ kind: 'startTag', start, end, rawName, name, attributes, selfClosing: lx.selfClosing });
          if (!this.#switched && !this.foreignContent) {
            const t = textTypeForStartTag(name);
            if (t !== null) lx.setTextType(TYPE_CODES[t], name);
          }
          break;
        }
        case TOKEN_COMMENT:
          this.#sink({ kind: 'comment', start, end, text: buf.slice(lx.dataStart, lx.dataEnd), bogus: buf.charCodeAt(lx.tokStart + 1) !== 33 || buf.charCodeAt(lx.tokStart + 2) !== 45 });
          break;
        case TOKEN_DOCTYPE: {
          const part = (p: number[]): string | null => (p[0] === -1 ? null : buf.slice(p[0], p[1]));
          this.#sink({ kind: 'doctype', start, end, name: part(lx.doctypeName), publicId: part(lx.doctypePublic), systemId: part(lx.doctypeSystem), forceQuirks: lx.forceQuirks });
          break;
        }
        default: // a gap: no token
      }
    }
  }
}
