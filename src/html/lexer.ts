// Pull-based streaming HTML lexer following the WHATWG tokenizer states, without a DOM and
// without byte-altering side effects. It works on a "byte string" (any string; the rewriter
// feeds latin1 strings, one char per input byte) and describes each token by indices into its
// buffer, so that nothing is allocated per token: `next()` returns the kind of the next token
// and leaves its outline in public fields (valid until the next `next()`/`write()`).
//
// Streaming model: `write()` appends input; `next()` returns tokens while complete ones are
// available. Text is returned eagerly (a text token may end at any chunk boundary); only an
// unfinished lexeme (tag, comment, doctype, a '<' that may start one, a possible appropriate
// end tag in raw text, a possible "]]>" in CDATA) is held back. After `finish()` the rest is
// lexed with end-of-input rules.
//
// Text-type switching is the caller's job (it simulates the tree builder): after a start tag
// it calls `setTextType()`; `allowCdata` is set while in foreign content.
//
// Tag scan (SPEC §6.1): with `lazyAttributes`, once a tag reaches an unquoted attribute value
// (which would be scanned char by char) and no quote comes before the next '>', the tag ends at
// that '>' (only a quoted value can hold a '>'): found with indexOf, the rest of its attributes
// not looked at. `attrsLexed` is then false, and the caller runs `lexAttributes()` if it needs the
// attributes or the self-closing flag. Tags the caller marks in `eagerAttributes` are not scanned.

export const TOKEN_NONE = 0; // no complete token available (need more input, or done)
export const TOKEN_TEXT = 1;
export const TOKEN_START_TAG = 2;
export const TOKEN_END_TAG = 3;
export const TOKEN_COMMENT = 4;
export const TOKEN_DOCTYPE = 5;
export const TOKEN_CDATA_START = 6; // "<![CDATA["; the section's content follows as text
export const TOKEN_CDATA_END = 7; // "]]>"
export const TOKEN_GAP = 8; // input that is no token ("</>", a tag unfinished at EOF): copied through

export const TEXT_DATA = 0;
export const TEXT_RCDATA = 1;
export const TEXT_RAWTEXT = 2;
export const TEXT_SCRIPT = 3;
export const TEXT_PLAINTEXT = 4;
export const TEXT_CDATA = 5;

/** Tag names of up to this many chars get a `nameKey`. */
export const SHORT_NAME = 4;

/** The slot of a `nameKey` in `Lexer.eagerAttributes`. */
export function eagerSlot(nameKey: number): number {
  return Math.imul(nameKey, 0x9e3779b1) >>> 24;
}

/** Fields per attribute in `Lexer.attrs`: name start/end, value start/end (-1 if no value), quote char (0 if none). */
export const ATTR_STRIDE = 5;

// Chars the tag lexer finds with indexOf (a charCodeAt loop costs a few ns per char): the quotes,
// then from FOUND_VALUE_ENDS on the chars that end an unquoted attribute value.
const FOUND_CHARS = ['"', "'", ' ', '\n', '\t', '\r', '\f', '>'];
const FOUND_DQ = 0;
const FOUND_SQ = 1;
const FOUND_VALUE_ENDS = 2;

/** End index of the source text of the outline's attribute at k: its name, and its value with the closing quote. */
export function rawAttributeEnd(attrs: Int32Array, k: number): number {
  return attrs[k + 2] === -1 ? attrs[k + 1] : attrs[k + 4] !== 0 ? attrs[k + 3] + 1 : attrs[k + 3];
}

const NEED_MORE = -1;
const NOT_A_TOKEN = -2;

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
  return (c | 32) >= 97 && (c | 32) <= 122;
}

/** How many leading chars of buf[at..) agree with word (lowercase), ASCII-case-insensitively if ci. */
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

export class Lexer {
  /** In foreign content `<![CDATA[` opens a CDATA section; in HTML it is a bogus comment. */
  allowCdata = false;

  /** The input not yet discarded; token indices refer to it. */
  buf = '';
  /** Absolute input offset of buf[0]. */
  base = 0;
  /** Index in buf of the first char not yet returned as (part of) a token. */
  pos = 0;

  // Outline of the last token returned by next().
  tokStart = 0;
  tokEnd = 0;
  textType = TEXT_DATA;
  nameStart = 0;
  nameEnd = 0;
  /**
   * A tag name of up to SHORT_NAME chars, all ASCII, as one integer (tags.ts looks these up by it):
   * its lowercased chars, 7 bits each, below its length shifted by 28. -1 for other names.
   */
  nameKey = -1;
  selfClosing = false;
  attrCount = 0;
  attrs = new Int32Array(16 * ATTR_STRIDE);
  /** Whether attrs, attrCount and selfClosing describe the current tag (see lexAttributes). */
  attrsLexed = true;
  /** Tags may be returned with their attributes not lexed (attrsLexed false). */
  lazyAttributes = false;
  /**
   * Except tags whose nameKey's eagerSlot (< 256) is set here: the caller reads their attributes,
   * and a second pass over them costs more than the scan saves (other names may share a slot).
   */
  eagerAttributes: Uint8Array | null = null;
  /** Comment data span (bogus comments included). */
  dataStart = 0;
  dataEnd = 0;
  /** Doctype parts: start/end indices, -1 when absent. */
  doctypeName = [-1, -1];
  doctypePublic = [-1, -1];
  doctypeSystem = [-1, -1];
  forceQuirks = false;

  #state = TEXT_DATA;
  #scriptSub = S_NORMAL;
  #lastStartTag = '';
  #final = false;
  // A long unfinished token can only complete once a '>' arrives: remember where it starts and
  // how far it was scanned, and queue chunks without '>' instead of re-scanning it each write.
  #hintAt = -1;
  #hintScanned = 0;
  #queued: string[] = [];
  #queuedLength = 0;
  // For each of FOUND_CHARS, its next index in buf at or after the index its search started from
  // (-1: none), or -2 when not searched in this buf: tags are lexed in order, so each search goes on
  // from the last.
  readonly #found = new Int32Array(FOUND_CHARS.length).fill(-2);
  readonly #foundFrom = new Int32Array(FOUND_CHARS.length);
  // The last attributeIndex answer for the current tag (handlers and selectors ask for the same name
  // several times per tag). No attribute has the name '', whose answer -1 is kept when there is none.
  #lookupName = '';
  #lookupIndex = -1;
  // Where the tag scan stopped lexing attributes: at the unquoted value (index) of an attribute (name span).
  #scanStopName = 0;
  #scanStopNameEnd = 0;
  #scanStopValue = 0;

  constructor(initialState: number = TEXT_DATA, lastStartTag = '') {
    this.#state = initialState;
    this.#lastStartTag = lastStartTag.toLowerCase();
  }

  /** Current text state. */
  get state(): number {
    return this.#state;
  }

  /** Chars held back (an unfinished lexeme). */
  get pending(): number {
    return this.buf.length - this.pos + this.#queuedLength;
  }

  /** Switches the text state (the caller acts as the tree builder after a start tag). */
  setTextType(type: number, lastStartTag: string): void {
    this.#state = type;
    this.#scriptSub = S_NORMAL;
    this.#lastStartTag = lastStartTag;
  }

  write(chunk: string): void {
    if (!this.#final && this.#hintAt === this.base + this.pos && this.buf.length - this.pos > 16 && chunk.indexOf('>') === -1) {
      this.#queued.push(chunk);
      this.#queuedLength += chunk.length;
      return;
    }
    if (this.#queued.length > 0) {
      this.#queued.push(chunk);
      chunk = this.#queued.join('');
      this.#queued.length = 0;
      this.#queuedLength = 0;
    }
    this.#found.fill(-2);
    // The buffer is kept flat (join, not +): scanning a concatenation goes through its parts.
    if (this.pos > 0) {
      this.base += this.pos;
      this.buf = this.pos < this.buf.length ? [this.buf.slice(this.pos), chunk].join('') : chunk;
      this.pos = 0;
    } else {
      this.buf = this.buf === '' ? chunk : [this.buf, chunk].join('');
    }
  }

  /** No more input: the rest is lexed with end-of-input rules. */
  finish(): void {
    this.#final = true;
    if (this.#queued.length > 0) {
      this.write('');
    }
  }

  next(): number {
    const buf = this.buf;
    const len = buf.length;
    const pos = this.pos;
    if (pos >= len) return TOKEN_NONE;
    switch (this.#state) {
      case TEXT_DATA: {
        if (buf.charCodeAt(pos) !== 60) return this.#text(pos, buf.indexOf('<', pos + 1), TEXT_DATA);
        const r = this.#lexMarkup(pos);
        if (r === NOT_A_TOKEN) return this.#text(pos, buf.indexOf('<', pos + 1), TEXT_DATA);
        return r === NEED_MORE ? TOKEN_NONE : r;
      }
      case TEXT_RCDATA:
      case TEXT_RAWTEXT:
        return this.#nextRawText(pos);
      case TEXT_SCRIPT:
        return this.#scanScript(pos);
      case TEXT_PLAINTEXT:
        return this.#text(pos, len, TEXT_PLAINTEXT);
      default:
        return this.#nextCdata(pos);
    }
  }

  // The rarer text states lexed apart from next(), which then fits the optimiser's inlining limits.

  /** RCDATA or RAWTEXT from pos: text up to an appropriate end tag, or that end tag. */
  #nextRawText(pos: number): number {
    const buf = this.buf;
    let i = pos;
    for (;;) {
      const lt = buf.indexOf('<', i);
      if (lt === -1) return this.#text(pos, buf.length, this.#state);
      const r = this.#isAppropriateEndTag(lt);
      if (r === 0) { i = lt + 1; continue; }
      if (lt > pos) return this.#text(pos, lt, this.#state);
      if (r === NEED_MORE) return TOKEN_NONE;
      const t = this.#lexTag(lt, lt + 2, true);
      return t === NEED_MORE ? TOKEN_NONE : t;
    }
  }

  /** CDATA section content from pos up to "]]>", or the "]]>". */
  #nextCdata(pos: number): number {
    const buf = this.buf;
    const len = buf.length;
    const e = buf.indexOf(']]>', pos);
    if (e === pos) {
      this.tokStart = pos;
      this.tokEnd = this.pos = pos + 3;
      this.#state = TEXT_DATA;
      return TOKEN_CDATA_END;
    }
    if (e !== -1) return this.#text(pos, e, TEXT_CDATA);
    let safe = len;
    if (!this.#final) {
      if (buf.charCodeAt(len - 1) === 93) safe = len >= 2 && buf.charCodeAt(len - 2) === 93 ? len - 2 : len - 1;
    }
    return safe > pos ? this.#text(pos, safe, TEXT_CDATA) : TOKEN_NONE;
  }

  #text(from: number, to: number, type: number): number {
    if (to === -1) to = this.buf.length;
    this.tokStart = from;
    this.tokEnd = this.pos = to;
    this.textType = type;
    return TOKEN_TEXT;
  }

  #needMore(lt: number): number {
    if (this.#final) throw new Error('lexer: unexpected need for more input at end');
    this.#hintAt = this.base + lt;
    this.#hintScanned = this.base + this.buf.length;
    return NEED_MORE;
  }

  /** Index from which the token at lt has not been scanned for '>' yet (lt if unknown). */
  #resumeFrom(lt: number): number {
    return this.base + lt === this.#hintAt ? this.#hintScanned - this.base : lt;
  }

  #token(kind: number, start: number, end: number): number {
    this.tokStart = start;
    this.tokEnd = this.pos = end;
    return kind;
  }

  /** Script data from pos: text up to an appropriate end tag (returned on the next call), or that end tag. */
  #scanScript(pos: number): number {
    const buf = this.buf;
    const len = buf.length;
    const final = this.#final;
    let sub = this.#scriptSub;
    let i = pos;
    while (i < len) {
      const c = buf.charCodeAt(i);
      if (c === 60) { // '<'
        const lt = i;
        const before = sub;
        if (sub === S_ESC_START || sub === S_ESC_START_DASH) sub = S_NORMAL;
        if (lt + 1 >= len) {
          if (final) { i = len; break; }
          return this.#scriptStop(pos, lt, before);
        }
        const d = buf.charCodeAt(lt + 1);
        if (d === 47) { // '/'
          if (sub === S_DESCAPED || sub === S_DESC_DASH || sub === S_DESC_DASH_DASH) {
            // "</script" + ws|/|> leaves the double-escaped state.
            const m = this.#matchWordEnd(lt + 2, 'script');
            if (m === NEED_MORE) return this.#scriptStop(pos, lt, before);
            if (m > 0) { sub = S_ESCAPED; i = m; continue; }
            sub = S_DESCAPED; i = lt + 2; continue;
          }
          const r = this.#isAppropriateEndTag(lt);
          if (r === NEED_MORE) return this.#scriptStop(pos, lt, before);
          if (r > 0) {
            if (lt > pos) { this.#scriptSub = before; return this.#text(pos, lt, TEXT_SCRIPT); }
            const t = this.#lexTag(lt, lt + 2, true);
            if (t === NEED_MORE) return TOKEN_NONE;
            this.#scriptSub = S_NORMAL;
            return t;
          }
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
        // Escaped states: "<script" + ws|/|> enters the double-escaped state.
        if (isAlpha(d)) {
          const m = this.#matchWordEnd(lt + 1, 'script');
          if (m === NEED_MORE) return this.#scriptStop(pos, lt, before);
          if (m > 0) { sub = S_DESCAPED; i = m; continue; }
          sub = S_ESCAPED;
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
    return this.#text(pos, len, TEXT_SCRIPT);
  }

  /** Script data needs more input at lt: return the text before it (state as it was at lt). */
  #scriptStop(pos: number, lt: number, sub: number): number {
    this.#scriptSub = sub;
    return lt > pos ? this.#text(pos, lt, TEXT_SCRIPT) : TOKEN_NONE;
  }

  /** buf[at..) = word (ci) followed by ws, '/' or '>': index after word; 0 if not; NEED_MORE. */
  #matchWordEnd(at: number, word: string): number {
    const buf = this.buf;
    const k = prefixLen(buf, at, word, true);
    if (k < word.length) return at + k >= buf.length && !this.#final ? NEED_MORE : 0;
    const e = at + word.length;
    if (e >= buf.length) return this.#final ? 0 : NEED_MORE;
    const c = buf.charCodeAt(e);
    return isWs(c) || c === 47 || c === 62 ? e : 0;
  }

  /** At '<' (index lt) in raw text: 1 if an appropriate end tag starts here, 0 if not, NEED_MORE. */
  #isAppropriateEndTag(lt: number): number {
    const buf = this.buf;
    const len = buf.length;
    if (lt + 1 >= len) return this.#final ? 0 : NEED_MORE;
    if (buf.charCodeAt(lt + 1) !== 47) return 0;
    const last = this.#lastStartTag;
    if (last === '') return 0;
    let j = lt + 2;
    let k = 0;
    while (j < len && isAlpha(buf.charCodeAt(j))) {
      let c = buf.charCodeAt(j);
      if (c <= 90) c += 32;
      if (k >= last.length || c !== last.charCodeAt(k)) return 0;
      j++; k++;
    }
    if (j >= len) return this.#final ? 0 : NEED_MORE;
    if (k !== last.length) return 0;
    const c = buf.charCodeAt(j);
    return isWs(c) || c === 47 || c === 62 ? 1 : 0;
  }

  /** Data state at '<' (index lt). */
  #lexMarkup(lt: number): number {
    const buf = this.buf;
    const len = buf.length;
    const final = this.#final;
    if (!final && len - lt > 16 && this.base + lt === this.#hintAt && buf.indexOf('>', this.#hintScanned - this.base) === -1) {
      this.#hintScanned = this.base + len;
      return NEED_MORE;
    }
    if (lt + 1 >= len) return final ? NOT_A_TOKEN : this.#needMore(lt);
    const c = buf.charCodeAt(lt + 1);
    if (isAlpha(c)) return this.#lexTag(lt, lt + 1, false);
    if (c === 47) { // '/'
      if (lt + 2 >= len) return final ? NOT_A_TOKEN : this.#needMore(lt);
      const d = buf.charCodeAt(lt + 2);
      if (isAlpha(d)) return this.#lexTag(lt, lt + 2, true);
      if (d === 62) return this.#token(TOKEN_GAP, lt, lt + 3); // "</>" is no token
      return this.#lexBogusComment(lt, lt + 2);
    }
    if (c === 63) return this.#lexBogusComment(lt, lt + 1); // '<?'
    if (c === 33) return this.#lexBang(lt);
    return NOT_A_TOKEN;
  }

  /** Markup from "<!" at lt (apart from #lexMarkup, which then fits the optimiser's inlining limits). */
  #lexBang(lt: number): number {
    const buf = this.buf;
    const at = lt + 2;
    if (prefixLen(buf, at, '--', false) === 2) return this.#lexComment(lt, at + 2);
    const avail = buf.length - at;
    const pd = prefixLen(buf, at, 'doctype', true);
    if (pd === 7) return this.#lexDoctype(lt, at + 7);
    const pc = this.allowCdata ? prefixLen(buf, at, '[CDATA[', false) : 0;
    if (pc === 7) {
      this.#state = TEXT_CDATA;
      return this.#token(TOKEN_CDATA_START, lt, at + 7);
    }
    if (!this.#final) {
      const pm = prefixLen(buf, at, '--', false);
      if ((pm === avail && avail < 2) || (pd === avail && avail < 7) || (this.allowCdata && pc === avail && avail < 7)) return this.#needMore(lt);
    }
    return this.#lexBogusComment(lt, at);
  }

  #lexBogusComment(lt: number, dataStart: number): number {
    const buf = this.buf;
    const gt = buf.indexOf('>', Math.max(dataStart, this.#resumeFrom(lt)));
    if (gt === -1 && !this.#final) return this.#needMore(lt);
    this.dataStart = dataStart;
    this.dataEnd = gt === -1 ? buf.length : gt;
    return this.#token(TOKEN_COMMENT, lt, gt === -1 ? buf.length : gt + 1);
  }

  #lexComment(lt: number, p: number): number {
    const buf = this.buf;
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
      if (!this.#final) return this.#needMore(lt);
      end = len;
      dataEnd = s === 0 || s === 1 ? p : s === 2 ? len : m;
    }
    this.dataStart = p;
    this.dataEnd = dataEnd;
    return this.#token(TOKEN_COMMENT, lt, end);
  }

  #lexDoctype(lt: number, p: number): number {
    const buf = this.buf;
    const len = buf.length;
    const final = this.#final;
    const name = this.doctypeName;
    const pub = this.doctypePublic;
    const sys = this.doctypeSystem;
    name[0] = name[1] = pub[0] = pub[1] = sys[0] = sys[1] = -1;
    let fq = false;
    let i = p;
    if (!final) {
      const from = this.#resumeFrom(lt);
      if (from > p && buf.indexOf('>', from) === -1) return this.#needMore(lt);
    }
    const done = (end: number): number => {
      this.forceQuirks = fq;
      return this.#token(TOKEN_DOCTYPE, lt, end);
    };
    const eof = (): number => { if (!final) return this.#needMore(lt); fq = true; return done(len); };
    const bogus = (): number => {
      const gt = buf.indexOf('>', i);
      if (gt === -1) return final ? done(len) : this.#needMore(lt);
      return done(gt + 1);
    };
    while (i < len && isWs(buf.charCodeAt(i))) i++;
    if (i >= len) return eof();
    let c = buf.charCodeAt(i);
    if (c === 62) { fq = true; return done(i + 1); }
    const ns = i;
    while (i < len && !isWs(c = buf.charCodeAt(i)) && c !== 62) i++;
    if (i >= len) {
      if (!final) return this.#needMore(lt);
      name[0] = ns; name[1] = i; fq = true;
      return done(len);
    }
    name[0] = ns; name[1] = i;
    while (i < len && isWs(buf.charCodeAt(i))) i++;
    if (i >= len) return eof();
    c = buf.charCodeAt(i);
    if (c === 62) return done(i + 1);
    let isPublic: boolean;
    if (len - i < 6 && !final && (prefixLen(buf, i, 'public', true) === len - i || prefixLen(buf, i, 'system', true) === len - i)) {
      return this.#needMore(lt);
    }
    if (len - i >= 6 && prefixLen(buf, i, 'public', true) === 6) isPublic = true;
    else if (len - i >= 6 && prefixLen(buf, i, 'system', true) === 6) isPublic = false;
    else { fq = true; return bogus(); }
    i += 6;
    while (i < len && isWs(buf.charCodeAt(i))) i++;
    if (i >= len) return eof();
    for (let round = 0; round < 2; round++) {
      c = buf.charCodeAt(i);
      const id = isPublic ? pub : sys;
      if (c === 34 || c === 39) {
        const q = buf.indexOf(c === 34 ? '"' : "'", i + 1);
        const gt = buf.indexOf('>', i + 1);
        if (gt !== -1 && (q === -1 || gt < q)) {
          id[0] = i + 1; id[1] = gt; fq = true;
          return done(gt + 1);
        }
        if (q === -1) {
          if (!final) return this.#needMore(lt);
          id[0] = i + 1; id[1] = len; fq = true;
          return done(len);
        }
        id[0] = i + 1; id[1] = q;
        i = q + 1;
      } else if (c === 62) {
        fq = true; return done(i + 1);
      } else {
        fq = true; return bogus();
      }
      while (i < len && isWs(buf.charCodeAt(i))) i++;
      if (i >= len) return eof();
      c = buf.charCodeAt(i);
      if (c === 62) return done(i + 1);
      if (isPublic && round === 0 && (c === 34 || c === 39)) { isPublic = false; continue; }
      if (!isPublic || round === 1) return bogus(); // after the system id: bogus without force-quirks
      fq = true; return bogus();
    }
    return bogus();
  }

  #pushAttr(ns: number, ne: number, vs: number, ve: number, q: number): void {
    let a = this.attrs;
    const k = this.attrCount * ATTR_STRIDE;
    if (k + ATTR_STRIDE > a.length) {
      const grown = new Int32Array(a.length * 2);
      grown.set(a);
      this.attrs = a = grown;
    }
    a[k] = ns; a[k + 1] = ne; a[k + 2] = vs; a[k + 3] = ve; a[k + 4] = q;
    this.attrCount++;
  }

  /** Tag from '<' at lt, name starting at nameStart. At EOF an unfinished tag is a gap. */
  #lexTag(lt: number, nameStart: number, isEnd: boolean): number {
    const buf = this.buf;
    const len = buf.length;
    if (!this.#final) {
      const from = this.#resumeFrom(lt);
      if (from > nameStart && buf.indexOf('>', from) === -1) return this.#needMore(lt);
    }
    let i = nameStart;
    let c = 0;
    let packed = 0;
    let ascii = true;
    for (; i < len; i++) {
      c = buf.charCodeAt(i);
      if (c >= 128) ascii = false;
      else if ((CC[c] & (C_WS | C_SLASH | C_GT)) !== 0) break;
      else packed = (packed << 7) | (c >= 65 && c <= 90 ? c + 32 : c);
    }
    if (i >= len) return this.#tagEof(lt);
    this.nameStart = nameStart;
    this.nameEnd = i;
    const n = i - nameStart;
    this.nameKey = ascii && n <= SHORT_NAME ? packed | (n << 28) : -1;
    this.attrCount = 0;
    this.#lookupName = '';
    this.#lookupIndex = -1;
    if (c === 62) {
      // No attributes (most end tags and many start tags).
      this.attrsLexed = true;
      this.selfClosing = false;
      return this.#tagToken(isEnd, lt, i + 1);
    }
    i = this.#lexAttributesFrom(i, this.lazyAttributes);
    if (i < 0) return this.#tagEof(lt);
    return this.#tagToken(isEnd, lt, i);
  }

  /**
   * Index in `attrs` of the current tag's first attribute whose name is `lowerName` (lowercase)
   * ASCII-case-insensitively, or -1. The tag's attributes must be lexed.
   */
  attributeIndex(lowerName: string): number {
    if (lowerName === this.#lookupName) return this.#lookupIndex;
    const buf = this.buf;
    const attrs = this.attrs;
    const n = lowerName.length;
    let found = -1;
    outer: for (let k = 0; k < this.attrCount * ATTR_STRIDE; k += ATTR_STRIDE) {
      const s = attrs[k];
      if (attrs[k + 1] - s !== n) continue;
      for (let i = 0; i < n; i++) {
        let c = buf.charCodeAt(s + i);
        if (c >= 65 && c <= 90) c += 32;
        if (c !== lowerName.charCodeAt(i)) continue outer;
      }
      found = k;
      break;
    }
    this.#lookupName = lowerName;
    return (this.#lookupIndex = found);
  }

  /** Lexes the rest of the attributes of the current tag (returned with attrsLexed false). */
  lexAttributes(): void {
    this.#lookupName = '';
    this.#lookupIndex = -1;
    // The attributes before the unquoted value the scan stopped at are in attrs already.
    const i = this.#unquotedValue(this.#scanStopName, this.#scanStopNameEnd, this.#scanStopValue);
    this.#lexAttributesFrom(i, false);
  }

  /** The unquoted value at vs of the attribute named buf[an..ae): index after it (it ends at whitespace or '>'). */
  #unquotedValue(an: number, ae: number, vs: number): number {
    let end = this.buf.length;
    for (let f = FOUND_VALUE_ENDS; f < FOUND_CHARS.length; f++) {
      const at = this.#next(f, vs);
      if (at !== -1 && at < end) end = at;
    }
    if (end < this.buf.length) this.#pushAttr(an, ae, vs, end, 0);
    return end;
  }

  /** The next index of FOUND_CHARS[f] in buf at or after from, or -1. */
  #next(f: number, from: number): number {
    const found = this.#found;
    const at = found[f];
    if (at === -2 || (at !== -1 && at < from) || from < this.#foundFrom[f]) {
      this.#foundFrom[f] = from;
      return (found[f] = this.buf.indexOf(FOUND_CHARS[f], from));
    }
    return at;
  }

  /** Whether the current tag's attributes are lexed in full (see eagerAttributes). */
  #eagerTag(): boolean {
    const eager = this.eagerAttributes;
    return eager !== null && this.nameKey !== -1 && eager[eagerSlot(this.nameKey)] !== 0;
  }

  /** Whether buf[from..to) has no quote char. */
  #quoteFree(from: number, to: number): boolean {
    const dq = this.#next(FOUND_DQ, from);
    if (dq !== -1 && dq < to) return false;
    const sq = this.#next(FOUND_SQ, from);
    return sq === -1 || sq >= to;
  }

  /**
   * Attributes (and the self-closing flag) from index i after the tag name up to the tag's end:
   * the index after its '>', or -1 when the input ends first. `scan`: stop lexing attributes at an
   * unquoted value when the tag's end can be found without them (see the file comment).
   */
  #lexAttributesFrom(i: number, scan: boolean): number {
    const buf = this.buf;
    const len = buf.length;
    let c = 0;
    this.attrsLexed = true;
    let selfClosing = false;
    for (;;) {
      while (i < len && (c = buf.charCodeAt(i)) < 128 && (CC[c] & C_WS) !== 0) i++;
      if (i >= len) return -1;
      if (c === 62) { i++; break; }
      if (c === 47) {
        if (i + 1 >= len) return -1;
        if (buf.charCodeAt(i + 1) === 62) { selfClosing = true; i += 2; break; }
        i++;
        continue;
      }
      // attribute name (a leading '=' is part of the name)
      const an = i;
      i++;
      while (i < len && ((c = buf.charCodeAt(i)) >= 128 || (CC[c] & (C_WS | C_SLASH | C_GT | C_EQ)) === 0)) i++;
      if (i >= len) return -1;
      const ae = i;
      while (i < len && (c = buf.charCodeAt(i)) < 128 && (CC[c] & C_WS) !== 0) i++;
      if (i >= len) return -1;
      if (c !== 61) {
        this.#pushAttr(an, ae, -1, -1, 0);
        continue; // '/', '>' or a new attribute name
      }
      i++;
      while (i < len && (c = buf.charCodeAt(i)) < 128 && (CC[c] & C_WS) !== 0) i++;
      if (i >= len) return -1;
      if (c === 34 || c === 39) {
        const q = buf.indexOf(c === 34 ? '"' : "'", i + 1);
        if (q === -1) return -1;
        this.#pushAttr(an, ae, i + 1, q, c);
        i = q + 1;
        continue;
      }
      if (c === 62) {
        this.#pushAttr(an, ae, i, i, 0);
        i++;
        break;
      }
      if (scan && !this.#eagerTag()) {
        const gt = buf.indexOf('>', i);
        if (gt !== -1 && this.#quoteFree(i, gt)) {
          this.attrsLexed = false;
          this.selfClosing = false;
          this.#scanStopName = an;
          this.#scanStopNameEnd = ae;
          this.#scanStopValue = i;
          return gt + 1;
        }
      }
      i = this.#unquotedValue(an, ae, i);
      if (i >= len) return -1;
    }
    this.selfClosing = selfClosing;
    return i;
  }

  /** A tag [lt, end) is the current token; the caller switches the text type if a start tag calls for it. */
  #tagToken(isEnd: boolean, lt: number, end: number): number {
    this.#state = TEXT_DATA;
    this.#scriptSub = S_NORMAL;
    return this.#token(isEnd ? TOKEN_END_TAG : TOKEN_START_TAG, lt, end);
  }

  #tagEof(lt: number): number {
    if (!this.#final) return this.#needMore(lt);
    return this.#token(TOKEN_GAP, lt, this.buf.length);
  }
}
