// Streaming HTML tokenizer following the WHATWG tokenizer states, without a DOM and
// without byte-altering side effects: tokens carry raw source text and exact spans
// (absolute offsets into the concatenated input). Character references, NULs and
// CR/LF are left as they are; `./decode.ts` cooks raw values when needed.
//
// Streaming model: input is appended to an internal buffer; a token is emitted as soon as
// it is complete. An unfinished token at the end of the buffer is kept (and re-lexed from
// its start on the next write); text is emitted eagerly up to the last point where no
// lookahead is pending, so adjacent text tokens may be split differently for different
// chunkings (their concatenation and spans are identical).
//
// Spans never overlap and are increasing. Input not covered by any token (a gap) is only
// "</>" (dropped, as in the standard) and a tag left unfinished at end of input (dropped at
// EOF, as in the standard); a rewriter copies gaps through verbatim.
//
// Text-type switching: after a start tag in HTML content the tokenizer switches to the text
// type of textTypeForStartTag() (as lol-html does) before calling the sink; the sink (the
// caller's tree-builder simulation) may override with setTextType(), and sets
// foreignContent / allowCdata while inside SVG/MathML.

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
  const n = name.length;
  if (n < 3 || n > 9) return null;
  const f = name.charCodeAt(0);
  // t(extarea|itle) s(tyle|cript) i(frame) x(mp) n(oembed|oframes|oscript) p(laintext)
  if (f !== 116 && f !== 115 && f !== 105 && f !== 120 && f !== 110 && f !== 112) return null;
  return TEXT_SWITCH.get(name) ?? null;
}

// Character classes for the tag lexer's inner loops (ASCII only).
const C_WS = 1;
const C_SLASH = 2;
const C_GT = 4;
const C_EQ = 8;
const CC = new Uint8Array(128);
for (const c of [9, 10, 12, 13, 32]) CC[c] = C_WS;
CC[47] = C_SLASH;
CC[62] = C_GT;
CC[61] = C_EQ;

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 12 || c === 13;
}
function isAlpha(c: number): boolean {
  return ((c | 32) >= 97 && (c | 32) <= 122);
}

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

/** Case-insensitive (ASCII) comparison of buf[at..at+lowerWord.length) with an already-lowercase word. */
function matchCi(buf: string, at: number, lowerWord: string): boolean {
  for (let k = 0; k < lowerWord.length; k++) {
    let c = buf.charCodeAt(at + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lowerWord.charCodeAt(k)) return false;
  }
  return true;
}

/** How many leading chars of buf[at..) (up to len) agree with word, case-insensitively if ci. */
function prefixLen(buf: string, at: number, word: string, ci: boolean): number {
  let k = 0;
  const n = Math.min(word.length, buf.length - at);
  for (; k < n; k++) {
    let c = buf.charCodeAt(at + k);
    if (ci && c >= 65 && c <= 90) c += 32;
    if (c !== word.charCodeAt(k)) break;
  }
  return k;
}

// Script data sub-states.
const S_NORMAL = 0;
const S_ESC_START = 1;
const S_ESC_START_DASH = 2;
const S_ESCAPED = 3;
const S_ESC_DASH = 4;
const S_ESC_DASH_DASH = 5;
const S_DESCAPED = 6;
const S_DESC_DASH = 7;
const S_DESC_DASH_DASH = 8;

const NEED_MORE = -1;
const NOT_A_TOKEN = -2;

export class Tokenizer {
  /** When true (foreign content), `<![CDATA[` opens a CDATA section; otherwise it is a bogus comment. */
  allowCdata = false;
  /**
   * When true, start tags do not switch the text type (foreign content). The caller may also
   * override the switch from inside the token callback with `setTextType()`.
   */
  foreignContent = false;

  #sink: (t: Token) => void;
  #buf = '';
  #base = 0; // absolute offset of #buf[0]
  #pos = 0; // index into #buf of the first unconsumed char
  #state: TextType | 'cdata';
  #scriptSub = S_NORMAL;
  #lastStartTag: string;
  #ended = false;
  // Resume hint for an unfinished token (so a long token fed in many chunks is not re-lexed
  // from its start on every write): absolute start of the token and absolute buffer end
  // at the failed attempt.
  #hintLt = -1;
  #hintEnd = 0;
  #parts: string[] = [];

  constructor(sink: (t: Token) => void, options: TokenizerOptions = {}) {
    this.#sink = sink;
    this.#state = options.initialState ?? 'data';
    this.#lastStartTag = options.lastStartTag !== undefined ? asciiLower(options.lastStartTag) : '';
  }

  /** Current text state. */
  get textType(): TextType | 'cdata' {
    return this.#state;
  }

  /** Override the text state (e.g. from the start-tag callback, acting as the tree builder). */
  setTextType(t: TextType, lastStartTag?: string): void {
    this.#state = t;
    this.#scriptSub = S_NORMAL;
    if (lastStartTag !== undefined) this.#lastStartTag = asciiLower(lastStartTag);
  }

  /** Number of input chars held back (an unfinished token). */
  get pending(): number {
    let n = this.#buf.length - this.#pos;
    for (const p of this.#parts) n += p.length;
    return n;
  }

  write(chunk: string): void {
    if (this.#ended) throw new Error('write() after end()');
    if (this.#base + this.#pos === this.#hintLt && this.#buf.length - this.#pos > 1024) {
      // A long unfinished tag/comment/doctype/CDATA section: it can only end at a '>', so
      // chunks without one are queued instead of being concatenated and rescanned.
      this.#parts.push(chunk);
      if (chunk.indexOf('>') === -1) return;
      chunk = this.#parts.join('');
      this.#parts.length = 0;
    }
    if (this.#pos > 0) {
      this.#base += this.#pos;
      this.#buf = this.#buf.slice(this.#pos) + chunk;
      this.#pos = 0;
    } else {
      this.#buf += chunk;
    }
    this.#run(false);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#parts.length > 0) {
      this.#buf = this.#buf.slice(this.#pos) + this.#parts.join('');
      this.#base += this.#pos;
      this.#pos = 0;
      this.#parts.length = 0;
    }
    this.#run(true);
    this.#buf = '';
    this.#pos = 0;
  }

  #needMore(lt: number): number {
    this.#hintLt = this.#base + lt;
    this.#hintEnd = this.#base + this.#buf.length;
    return NEED_MORE;
  }

  /** Index in #buf from which the token at lt has not been scanned yet (lt if unknown). */
  #resumeFrom(lt: number): number {
    return this.#base + lt === this.#hintLt ? this.#hintEnd - this.#base : lt;
  }

  #emitText(from: number, to: number, type: TextType): void {
    if (to > from) {
      this.#sink({ kind: 'text', start: this.#base + from, end: this.#base + to, raw: this.#buf.slice(from, to), textType: type });
    }
  }

  #run(final: boolean): void {
    const buf = this.#buf;
    const len = buf.length;
    let pos = this.#pos;
    while (pos < len) {
      const st = this.#state;
      if (st === 'data') {
        let i = pos;
        let stop = false;
        for (;;) {
          const lt = buf.indexOf('<', i);
          if (lt === -1) {
            let to = len;
            if (!final) to = holdBackRef(buf, pos, len);
            this.#emitText(pos, to, 'data');
            pos = to;
            stop = true;
            break;
          }
          const r = this.#lexMarkup(lt, final);
          if (r === NOT_A_TOKEN) { i = lt + 1; continue; }
          if (r === NEED_MORE) {
            this.#emitText(pos, lt, 'data');
            pos = lt;
            stop = true;
            break;
          }
          // A token at lt..r was emitted by #lexMarkup after we flush the text before it.
          pos = r;
          break;
        }
        if (stop) break;
      } else if (st === 'rcdata' || st === 'rawtext') {
        let i = pos;
        let stop = false;
        for (;;) {
          const lt = buf.indexOf('<', i);
          if (lt === -1) {
            let to = len;
            if (!final && st === 'rcdata') to = holdBackRef(buf, pos, len);
            this.#emitText(pos, to, st);
            pos = to;
            stop = true;
            break;
          }
          const r = this.#tryEndTag(lt, final, pos, st);
          if (r === NOT_A_TOKEN) { i = lt + 1; continue; }
          if (r === NEED_MORE) { this.#emitText(pos, lt, st); pos = lt; stop = true; break; }
          pos = r;
          break;
        }
        if (stop) break;
      } else if (st === 'plaintext') {
        this.#emitText(pos, len, 'plaintext');
        pos = len;
      } else if (st === 'scriptData') {
        const r = this.#scanScript(pos, final);
        if (r < 0) { pos = -r - 1; break; }
        pos = r;
      } else {
        // CDATA section state (as an initial state): text up to "]]>".
        const e = buf.indexOf(']]>', pos);
        if (e === -1) {
          if (!final) break;
          this.#sink({ kind: 'cdata', start: this.#base + pos, end: this.#base + len, text: buf.slice(pos, len) });
          pos = len;
        } else {
          this.#sink({ kind: 'cdata', start: this.#base + pos, end: this.#base + e + 3, text: buf.slice(pos, e) });
          pos = e + 3;
          this.#state = 'data';
        }
      }
      this.#pos = pos;
    }
    this.#pos = pos;
  }

  /**
   * Script data: scans from pos, emitting text and the terminating end tag. Returns the
   * new position, or -(p+1) to stop at p (need more input / all consumed).
   */
  #scanScript(pos: number, final: boolean): number {
    const buf = this.#buf;
    const len = buf.length;
    let sub = this.#scriptSub;
    let i = pos;
    while (i < len) {
      const c = buf.charCodeAt(i);
      if (c === 60) { // '<'
        const lt = i;
        if (sub === S_ESC_START || sub === S_ESC_START_DASH) sub = S_NORMAL;
        if (lt + 1 >= len) {
          if (final) { i = len; break; }
          this.#scriptSub = sub;
          this.#emitText(pos, lt, 'scriptData');
          return -(lt + 1);
        }
        const d = buf.charCodeAt(lt + 1);
        if (d === 47) { // '/'
          if (sub === S_DESCAPED || sub === S_DESC_DASH || sub === S_DESC_DASH_DASH) {
            // Double escape end: "</script" + ws|/|> leaves double-escaped.
            const m = this.#matchWordEnd(lt + 2, 'script');
            if (m === NEED_MORE && !final) { this.#scriptSub = sub; this.#emitText(pos, lt, 'scriptData'); return -(lt + 1); }
            if (m > 0) { sub = S_ESCAPED; i = m; continue; }
            sub = S_DESCAPED; i = lt + 2; continue;
          }
          const r = this.#tryEndTag(lt, final, pos, 'scriptData');
          if (r === NEED_MORE) { this.#scriptSub = sub; this.#emitText(pos, lt, 'scriptData'); return -(lt + 1); }
          if (r >= 0) { this.#scriptSub = S_NORMAL; return r; }
          sub = sub === S_NORMAL ? S_NORMAL : S_ESCAPED;
          i = lt + 2;
          continue;
        }
        if (sub === S_NORMAL) {
          if (d === 33) { sub = S_ESC_START; i = lt + 2; continue; } // "<!"
          i = lt + 1; continue;
        }
        if (sub === S_DESCAPED || sub === S_DESC_DASH || sub === S_DESC_DASH_DASH) {
          sub = S_DESCAPED; i = lt + 1; continue;
        }
        // escaped states: "<script" + ws|/|> enters double-escaped.
        if (isAlpha(d)) {
          const m = this.#matchWordEnd(lt + 1, 'script');
          if (m === NEED_MORE && !final) { this.#scriptSub = sub; this.#emitText(pos, lt, 'scriptData'); return -(lt + 1); }
          if (m > 0) { sub = S_DESCAPED; i = m; continue; }
          sub = S_ESCAPED;
          // skip the letters (they are text in escaped state)
          let j = lt + 1;
          while (j < len && isAlpha(buf.charCodeAt(j))) j++;
          i = j;
          continue;
        }
        sub = S_ESCAPED; i = lt + 1; continue;
      }
      switch (sub) {
        case S_NORMAL: {
          const n = buf.indexOf('<', i);
          i = n === -1 ? len : n;
          continue;
        }
        case S_ESC_START: sub = c === 45 ? S_ESC_START_DASH : S_NORMAL; if (c !== 45) continue; break;
        case S_ESC_START_DASH: sub = c === 45 ? S_ESC_DASH_DASH : S_NORMAL; if (c !== 45) continue; break;
        case S_ESCAPED: if (c === 45) sub = S_ESC_DASH; break;
        case S_ESC_DASH: sub = c === 45 ? S_ESC_DASH_DASH : S_ESCAPED; break;
        case S_ESC_DASH_DASH: if (c === 62) sub = S_NORMAL; else if (c !== 45) sub = S_ESCAPED; break;
        case S_DESCAPED: if (c === 45) sub = S_DESC_DASH; break;
        case S_DESC_DASH: sub = c === 45 ? S_DESC_DASH_DASH : S_DESCAPED; break;
        case S_DESC_DASH_DASH: if (c === 62) sub = S_NORMAL; else if (c !== 45) sub = S_DESCAPED; break;
      }
      i++;
    }
    this.#scriptSub = sub;
    this.#emitText(pos, len, 'scriptData');
    return -(len + 1);
  }

  /** buf[at..) = word (ci) followed by ws, '/' or '>': returns index after word; 0 if not; NEED_MORE. */
  #matchWordEnd(at: number, word: string): number {
    const buf = this.#buf;
    const k = prefixLen(buf, at, word, true);
    if (k < word.length) return at + k >= buf.length ? NEED_MORE : 0;
    const e = at + word.length;
    if (e >= buf.length) return NEED_MORE;
    const c = buf.charCodeAt(e);
    return isWs(c) || c === 47 || c === 62 ? e : 0;
  }

  /**
   * In RCDATA/RAWTEXT/script data at '<' (index lt): if an appropriate end tag starts here,
   * flush text [textFrom, lt), lex and emit it, switch to data and return its end.
   */
  #tryEndTag(lt: number, final: boolean, textFrom: number, type: TextType): number {
    const buf = this.#buf;
    const len = buf.length;
    if (lt + 1 >= len) return final ? NOT_A_TOKEN : NEED_MORE;
    if (buf.charCodeAt(lt + 1) !== 47) return NOT_A_TOKEN;
    const last = this.#lastStartTag;
    if (last === '') return NOT_A_TOKEN;
    let j = lt + 2;
    let k = 0;
    while (j < len && isAlpha(buf.charCodeAt(j))) {
      let c = buf.charCodeAt(j);
      if (c <= 90) c += 32;
      if (k >= last.length || c !== last.charCodeAt(k)) return NOT_A_TOKEN;
      j++; k++;
    }
    if (j >= len) return final ? NOT_A_TOKEN : NEED_MORE;
    if (k !== last.length) return NOT_A_TOKEN;
    const c = buf.charCodeAt(j);
    if (!(isWs(c) || c === 47 || c === 62)) return NOT_A_TOKEN;
    const r = this.#lexTag(lt, lt + 2, true, final, textFrom, type);
    if (r === NEED_MORE) return NEED_MORE;
    return r;
  }

  /** Data state at '<' (index lt). */
  #lexMarkup(lt: number, final: boolean): number {
    const buf = this.#buf;
    const len = buf.length;
    const textFrom = this.#pos;
    if (lt + 1 >= len) return final ? NOT_A_TOKEN : NEED_MORE;
    const c = buf.charCodeAt(lt + 1);
    if (isAlpha(c)) return this.#lexTag(lt, lt + 1, false, final, textFrom, 'data');
    if (c === 47) { // '/'
      if (lt + 2 >= len) return final ? NOT_A_TOKEN : NEED_MORE;
      const d = buf.charCodeAt(lt + 2);
      if (isAlpha(d)) return this.#lexTag(lt, lt + 2, true, final, textFrom, 'data');
      if (d === 62) { // "</>" is dropped (no token)
        this.#emitText(textFrom, lt, 'data');
        return lt + 3;
      }
      return this.#lexBogusComment(lt, lt + 2, final, textFrom);
    }
    if (c === 63) return this.#lexBogusComment(lt, lt + 1, final, textFrom); // '<?'
    if (c === 33) { // '<!'
      const at = lt + 2;
      if (prefixLen(buf, at, '--', false) === 2) return this.#lexComment(lt, at + 2, final, textFrom);
      const avail = len - at;
      const pd = prefixLen(buf, at, 'doctype', true);
      if (pd === 7) return this.#lexDoctype(lt, at + 7, final, textFrom);
      const pc = this.allowCdata ? prefixLen(buf, at, '[CDATA[', false) : 0;
      if (pc === 7) {
        const e = buf.indexOf(']]>', Math.max(at + 7, this.#resumeFrom(lt) - 2));
        if (e === -1 && !final) return this.#needMore(lt);
        this.#emitText(textFrom, lt, 'data');
        const end = e === -1 ? len : e + 3;
        this.#sink({ kind: 'cdata', start: this.#base + lt, end: this.#base + end, text: buf.slice(at + 7, e === -1 ? len : e) });
        return end;
      }
      if (!final) {
        const pm = prefixLen(buf, at, '--', false);
        if ((pm === avail && avail < 2) || (pd === avail && avail < 7) || (this.allowCdata && pc === avail && avail < 7)) return NEED_MORE;
      }
      return this.#lexBogusComment(lt, at, final, textFrom);
    }
    return NOT_A_TOKEN;
  }

  #lexBogusComment(lt: number, dataStart: number, final: boolean, textFrom: number): number {
    const buf = this.#buf;
    const gt = buf.indexOf('>', Math.max(dataStart, this.#resumeFrom(lt)));
    if (gt === -1 && !final) return this.#needMore(lt);
    this.#emitText(textFrom, lt, 'data');
    const dataEnd = gt === -1 ? buf.length : gt;
    const end = gt === -1 ? buf.length : gt + 1;
    this.#sink({ kind: 'comment', start: this.#base + lt, end: this.#base + end, text: buf.slice(dataStart, dataEnd), bogus: true });
    return end;
  }

  #lexComment(lt: number, p: number, final: boolean, textFrom: number): number {
    const buf = this.#buf;
    const len = buf.length;
    // states: 0 start, 1 start dash, 2 comment, 3 end dash, 4 end, 5 end bang
    let s = 0;
    let m = p; // data end candidate
    let i = p;
    let end = -1;
    let dataEnd = -1;
    const from = this.#resumeFrom(lt) - 3;
    if (from > p + 2) { s = 2; i = from; } // already scanned up to here: no terminator before
    for (; i < len; i++) {
      const c = buf.charCodeAt(i);
      if (s === 0) {
        if (c === 45) s = 1;
        else if (c === 62) { dataEnd = p; end = i + 1; break; }
        else s = 2;
      } else if (s === 1) {
        if (c === 45) { s = 4; m = p; }
        else if (c === 62) { dataEnd = p; end = i + 1; break; }
        else s = 2;
      } else if (s === 2) {
        if (c === 45) { s = 3; m = i; }
        else {
          const n = buf.indexOf('-', i + 1);
          if (n === -1) { i = len; break; }
          i = n - 1;
        }
      } else if (s === 3) {
        if (c === 45) s = 4; else s = 2;
      } else if (s === 4) {
        if (c === 62) { dataEnd = m; end = i + 1; break; }
        else if (c === 33) s = 5;
        else if (c === 45) m++;
        else s = 2;
      } else {
        if (c === 45) { s = 3; m = i; }
        else if (c === 62) { dataEnd = m; end = i + 1; break; }
        else s = 2;
      }
    }
    if (end === -1) {
      if (!final) return this.#needMore(lt);
      end = len;
      dataEnd = s === 0 || s === 1 ? p : s === 2 ? len : m;
    }
    this.#emitText(textFrom, lt, 'data');
    this.#sink({ kind: 'comment', start: this.#base + lt, end: this.#base + end, text: buf.slice(p, dataEnd), bogus: false });
    return end;
  }

  #lexDoctype(lt: number, p: number, final: boolean, textFrom: number): number {
    const buf = this.#buf;
    const len = buf.length;
    let name: string | null = null;
    let publicId: string | null = null;
    let systemId: string | null = null;
    let fq = false;
    let i = p;
    if (!final) {
      const from = this.#resumeFrom(lt);
      if (from > p && buf.indexOf('>', from) === -1) return this.#needMore(lt);
    }
    const skipWs = (): void => { while (i < len && isWs(buf.charCodeAt(i))) i++; };
    const done = (end: number): number => {
      this.#emitText(textFrom, lt, 'data');
      this.#sink({ kind: 'doctype', start: this.#base + lt, end: this.#base + end, name, publicId, systemId, forceQuirks: fq });
      return end;
    };
    const eof = (): number => { if (!final) return this.#needMore(lt); fq = true; return done(len); };
    const bogus = (): number => {
      const gt = buf.indexOf('>', i);
      if (gt === -1) return final ? done(len) : this.#needMore(lt);
      return done(gt + 1);
    };
    // DOCTYPE state + before DOCTYPE name
    skipWs();
    if (i >= len) return eof();
    let c = buf.charCodeAt(i);
    if (c === 62) { fq = true; return done(i + 1); }
    const ns = i;
    while (i < len && !isWs(c = buf.charCodeAt(i)) && c !== 62) i++;
    if (i >= len) { if (!final) return this.#needMore(lt); name = buf.slice(ns, i); fq = true; return done(len); }
    name = buf.slice(ns, i);
    // after DOCTYPE name
    skipWs();
    if (i >= len) return eof();
    c = buf.charCodeAt(i);
    if (c === 62) return done(i + 1);
    let isPublic: boolean;
    if (len - i < 6) {
      if (!final && (prefixLen(buf, i, 'public', true) === len - i || prefixLen(buf, i, 'system', true) === len - i)) return this.#needMore(lt);
    }
    if (matchCi(buf, i, 'public') && len - i >= 6) isPublic = true;
    else if (matchCi(buf, i, 'system') && len - i >= 6) isPublic = false;
    else { fq = true; return bogus(); }
    i += 6;
    // after keyword / before identifier
    skipWs();
    if (i >= len) return eof();
    for (let round = 0; round < 2; round++) {
      c = buf.charCodeAt(i);
      if (c === 34 || c === 39) {
        const q = buf.indexOf(c === 34 ? '"' : "'", i + 1);
        const gt = buf.indexOf('>', i + 1);
        if (gt !== -1 && (q === -1 || gt < q)) {
          const v = buf.slice(i + 1, gt);
          if (isPublic) publicId = v; else systemId = v;
          fq = true;
          return done(gt + 1);
        }
        if (q === -1) {
          if (!final) return this.#needMore(lt);
          const v = buf.slice(i + 1, len);
          if (isPublic) publicId = v; else systemId = v;
          fq = true;
          return done(len);
        }
        const v = buf.slice(i + 1, q);
        if (isPublic) publicId = v; else systemId = v;
        i = q + 1;
      } else if (c === 62) {
        fq = true; return done(i + 1);
      } else {
        fq = true; return bogus();
      }
      // after identifier
      skipWs();
      if (i >= len) return eof();
      c = buf.charCodeAt(i);
      if (c === 62) return done(i + 1);
      if (isPublic && round === 0 && (c === 34 || c === 39)) { isPublic = false; continue; }
      if (!isPublic || round === 1) return bogus(); // after system id: bogus without force-quirks
      fq = true; return bogus();
    }
    return bogus();
  }

  /**
   * Tag lexing from '<' at lt; the name starts at nameStart. Emits text [textFrom, lt) and
   * the tag. Returns the tag end, or NEED_MORE. At EOF an unfinished tag is dropped.
   */
  #lexTag(lt: number, nameStart: number, isEnd: boolean, final: boolean, textFrom: number, type: TextType): number {
    const buf = this.#buf;
    const len = buf.length;
    if (!final) {
      const from = this.#resumeFrom(lt);
      if (from > nameStart && buf.indexOf('>', from) === -1) return this.#needMore(lt);
    }
    let i = nameStart;
    let c = 0;
    while (i < len && ((c = buf.charCodeAt(i)) >= 128 || (CC[c] & (C_WS | C_SLASH | C_GT)) === 0)) i++;
    if (i >= len) return this.#tagEof(final, textFrom, lt, type);
    const nameEnd = i;
    const attrs: Attribute[] = [];
    let selfClosing = false;
    for (;;) {
      // before attribute name
      while (i < len && (c = buf.charCodeAt(i)) < 128 && (CC[c] & C_WS) !== 0) i++;
      if (i >= len) return this.#tagEof(final, textFrom, lt, type);
      if (c === 62) { i++; break; }
      if (c === 47) {
        // self-closing start tag
        if (i + 1 >= len) return this.#tagEof(final, textFrom, lt, type);
        if (buf.charCodeAt(i + 1) === 62) { selfClosing = true; i += 2; break; }
        i++;
        continue;
      }
      // attribute name (a leading '=' is part of the name)
      const an = i;
      i++;
      while (i < len && ((c = buf.charCodeAt(i)) >= 128 || (CC[c] & (C_WS | C_SLASH | C_GT | C_EQ)) === 0)) i++;
      if (i >= len) return this.#tagEof(final, textFrom, lt, type);
      const ae = i;
      // after attribute name
      while (i < len && (c = buf.charCodeAt(i)) < 128 && (CC[c] & C_WS) !== 0) i++;
      if (i >= len) return this.#tagEof(final, textFrom, lt, type);
      if (c !== 61) {
        attrs.push({ name: buf.slice(an, ae), value: '', nameStart: this.#base + an, nameEnd: this.#base + ae, valueStart: -1, valueEnd: -1, quote: 0 });
        continue; // '/', '>' or a new attribute name
      }
      i++;
      // before attribute value
      while (i < len && (c = buf.charCodeAt(i)) < 128 && (CC[c] & C_WS) !== 0) i++;
      if (i >= len) return this.#tagEof(final, textFrom, lt, type);
      if (c === 34 || c === 39) {
        const q = buf.indexOf(c === 34 ? '"' : "'", i + 1);
        if (q === -1) return this.#tagEof(final, textFrom, lt, type);
        attrs.push({ name: buf.slice(an, ae), value: buf.slice(i + 1, q), nameStart: this.#base + an, nameEnd: this.#base + ae, valueStart: this.#base + i + 1, valueEnd: this.#base + q, quote: c });
        i = q + 1;
        // after attribute value (quoted): anything else is reconsumed as before attribute name
        continue;
      }
      if (c === 62) {
        attrs.push({ name: buf.slice(an, ae), value: '', nameStart: this.#base + an, nameEnd: this.#base + ae, valueStart: this.#base + i, valueEnd: this.#base + i, quote: 0 });
        i++;
        break;
      }
      const vs = i;
      while (i < len && ((c = buf.charCodeAt(i)) >= 128 || (CC[c] & (C_WS | C_GT)) === 0)) i++;
      if (i >= len) return this.#tagEof(final, textFrom, lt, type);
      attrs.push({ name: buf.slice(an, ae), value: buf.slice(vs, i), nameStart: this.#base + an, nameEnd: this.#base + ae, valueStart: this.#base + vs, valueEnd: this.#base + i, quote: 0 });
    }
    this.#emitText(textFrom, lt, type);
    const rawName = buf.slice(nameStart, nameEnd);
    const name = asciiLower(rawName);
    const start = this.#base + lt;
    const end = this.#base + i;
    if (isEnd) {
      this.#state = 'data';
      this.#scriptSub = S_NORMAL;
      this.#sink({ kind: 'endTag', start, end, rawName, name, attributes: attrs, selfClosing });
    } else {
      this.#state = this.foreignContent ? 'data' : (textTypeForStartTag(name) ?? 'data');
      this.#scriptSub = S_NORMAL;
      this.#lastStartTag = name;
      this.#pos = i; // so that a callback-triggered setTextType applies from here
      this.#sink({ kind: 'startTag', start, end, rawName, name, attributes: attrs, selfClosing });
    }
    return i;
  }

  #tagEof(final: boolean, textFrom: number, lt: number, type: TextType): number {
    if (!final) return this.#needMore(lt);
    // EOF in a tag: the tag is dropped (no token).
    this.#emitText(textFrom, lt, type);
    return this.#buf.length;
  }
}

/** Index from which a trailing, possibly unfinished character reference starts (or len). */
function holdBackRef(buf: string, from: number, len: number): number {
  const amp = buf.lastIndexOf('&', len - 1);
  if (amp < from || len - amp > 40) return len;
  for (let j = amp + 1; j < len; j++) {
    const c = buf.charCodeAt(j);
    if (!(isAlpha(c) || (c >= 48 && c <= 57) || c === 35)) return len;
  }
  return amp;
}
