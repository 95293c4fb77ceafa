// The SQL tokenizer of libinjection (ALGORITHM.md §1.2–§1.5). Input is a binary string: one char
// per byte, code units 0–255. Tokens are mutable objects the caller owns and reuses; a token's
// value is a range of `src` (the input, or a string made for a merged phrase), so scanning
// allocates nothing.
import { CHAR_CLASS, CharClass, lookupWord } from './sqli-tables.ts';

/** Token types (char codes of the fingerprint letters). */
export const TokenType = {
  NONE: 0,
  KEYWORD: 0x6b, // k
  UNION: 0x55, // U
  GROUP: 0x42, // B
  EXPRESSION: 0x45, // E
  SQLTYPE: 0x74, // t
  FUNCTION: 0x66, // f
  BAREWORD: 0x6e, // n
  NUMBER: 0x31, // 1
  VARIABLE: 0x76, // v
  STRING: 0x73, // s
  OPERATOR: 0x6f, // o
  LOGIC_OPERATOR: 0x26, // &
  COMMENT: 0x63, // c
  COLLATE: 0x41, // A
  LEFTPARENS: 0x28, // (
  RIGHTPARENS: 0x29, // )
  LEFTBRACE: 0x7b, // {
  RIGHTBRACE: 0x7d, // }
  DOT: 0x2e, // .
  COMMA: 0x2c, // ,
  COLON: 0x3a, // :
  SEMICOLON: 0x3b, // ;
  TSQL: 0x54, // T
  UNKNOWN: 0x3f, // ?
  EVIL: 0x58, // X
  BACKSLASH: 0x5c, // \
} as const;

/** Context flags: how the input is assumed to be embedded (ALGORITHM.md §1.10). */
export const SqliFlags = {
  QUOTE_NONE: 1,
  QUOTE_SINGLE: 2,
  QUOTE_DOUBLE: 4,
  SQL_ANSI: 8,
  SQL_MYSQL: 16,
} as const;

/** Token values are capped at this many bytes (the C library's buffer). */
export const MAX_TOKEN_LENGTH = 31;

export class SqlToken {
  type = 0;
  /** The value is src[start .. start+len). */
  src = '';
  start = 0;
  len = 0;
  /** Quote bytes that opened / closed a string (0 = none). */
  open = 0;
  close = 0;
  /** Number of `@` before a variable. */
  count = 0;

  clear(): void {
    this.type = 0;
    this.src = '';
    this.start = 0;
    this.len = 0;
    this.open = 0;
    this.close = 0;
    this.count = 0;
  }

  copyFrom(other: SqlToken): void {
    this.type = other.type;
    this.src = other.src;
    this.start = other.start;
    this.len = other.len;
    this.open = other.open;
    this.close = other.close;
    this.count = other.count;
  }

  /** Byte `i` of the value, 0 past its end (the C value is NUL-terminated). */
  byteAt(i: number): number {
    return i < this.len ? this.src.charCodeAt(this.start + i) : 0;
  }

  value(): string {
    return this.src.substring(this.start, this.start + this.len);
  }
}

const BACKSLASH = 0x5c;
const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const BACKTICK = 0x60;

function byteSet(members: string): Uint8Array {
  const set = new Uint8Array(256);
  set[0] = 1; // the C string functions behind span/cspan always match the terminating NUL
  for (let i = 0; i < members.length; i++) set[members.charCodeAt(i)] = 1;
  return set;
}

const WORD_STOP = byteSet(' []{}<>:\\?=@!#~+-*/&|^%(),\';\t\n\v\f\r"\xa0');
const VAR_STOP = byteSet(' <>:\\?=@!#~+-*/&|^%(),\';\t\n\v\f\r`"');
const HEX_DIGITS = byteSet('0123456789ABCDEFabcdef');
const BINARY_DIGITS = byteSet('01');
const MONEY_CHARS = byteSet('0123456789.,');
const LETTERS = byteSet('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
/** SQL whitespace for the `--` and number-suffix rules. */
const WHITE = byteSet(' \t\n\v\f\r\xa0');

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

export class SqliTokenizer {
  s = '';
  n = 0;
  p = 0;
  flags = 0;
  /** Tokens returned in this pass. */
  statsTokens = 0;
  /** `--` not followed by whitespace, read as a comment (ANSI). */
  statsCommentDdx = 0;
  /** 1 per `#` in ANSI mode, 2 in MySQL mode. */
  statsCommentHash = 0;

  reset(input: string, flags: number): void {
    this.s = input;
    this.n = input.length;
    this.p = 0;
    this.flags = flags;
    this.statsTokens = 0;
    this.statsCommentDdx = 0;
    this.statsCommentHash = 0;
  }

  /** Fills `tok` with the next token; false when the input is exhausted. */
  next(tok: SqlToken): boolean {
    const n = this.n;
    if (n === 0) return false;
    tok.clear();
    if (this.p === 0 && (this.flags & (SqliFlags.QUOTE_SINGLE | SqliFlags.QUOTE_DOUBLE)) !== 0) {
      // The input continues a string the query opened: its start is the rest of that string.
      this.p = this.scanStringCore(tok, (this.flags & SqliFlags.QUOTE_SINGLE) !== 0 ? SINGLE_QUOTE : DOUBLE_QUOTE, 0, 0);
      this.statsTokens++;
      return true;
    }
    const s = this.s;
    while (this.p < n) {
      const b = s.charCodeAt(this.p);
      switch (CHAR_CLASS[b]) {
        case CharClass.WHITE:
          this.p++;
          break;
        case CharClass.BANG:
        case CharClass.OP2:
          this.scanOperator2(tok);
          break;
        case CharClass.OP1:
        case CharClass.UNARY:
          this.assign(tok, TokenType.OPERATOR, this.p, 1);
          this.p++;
          break;
        case CharClass.STR:
          this.p = this.scanStringCore(tok, b, this.p, 1);
          break;
        case CharClass.HASH:
          this.scanHash(tok);
          break;
        case CharClass.MONEY:
          this.scanMoney(tok);
          break;
        case CharClass.CHAR:
          this.assign(tok, b, this.p, 1);
          this.p++;
          break;
        case CharClass.DASH:
          this.scanDash(tok);
          break;
        case CharClass.NUM:
          this.scanNumber(tok);
          break;
        case CharClass.SLASH:
          this.scanSlash(tok);
          break;
        case CharClass.OTHER:
          this.assign(tok, TokenType.UNKNOWN, this.p, 1);
          this.p++;
          break;
        case CharClass.VAR:
          this.scanVariable(tok);
          break;
        case CharClass.BWORD:
          this.scanBracketWord(tok);
          break;
        case CharClass.BACK:
          this.scanBackslash(tok);
          break;
        case CharClass.TICK:
          this.p = this.scanTick(tok, this.p);
          break;
        case CharClass.BSTRING:
          this.scanBinaryOrHexLiteral(tok, BINARY_DIGITS);
          break;
        case CharClass.XSTRING:
          this.scanBinaryOrHexLiteral(tok, HEX_DIGITS);
          break;
        case CharClass.ESTRING:
          this.scanEString(tok);
          break;
        case CharClass.NQSTRING:
          this.scanNString(tok);
          break;
        case CharClass.QSTRING:
          if (!this.scanQString(tok, this.p)) this.scanWord(tok);
          break;
        case CharClass.USTRING:
          this.scanUString(tok);
          break;
        default:
          this.scanWord(tok);
      }
      if (tok.type !== 0) {
        this.statsTokens++;
        return true;
      }
    }
    return false;
  }

  private byteAt(i: number): number {
    return i < this.n ? this.s.charCodeAt(i) : 0;
  }

  private assign(tok: SqlToken, type: number, start: number, length: number): void {
    tok.type = type;
    tok.src = this.s;
    tok.start = start;
    tok.len = length < MAX_TOKEN_LENGTH ? length : MAX_TOKEN_LENGTH;
  }

  /** Bytes from `i` that are in `set` (NUL always is). */
  private span(i: number, set: Uint8Array): number {
    const s = this.s;
    let j = i;
    while (j < this.n && set[s.charCodeAt(j)] === 1) j++;
    return j - i;
  }

  /** Bytes from `i` that are not in `set` (NUL always is). */
  private cspan(i: number, set: Uint8Array): number {
    const s = this.s;
    let j = i;
    while (j < this.n && set[s.charCodeAt(j)] === 0) j++;
    return j - i;
  }

  /** Offset of the two bytes `c0 c1` lying within [from, limit), or -1. */
  private indexOfPair(from: number, limit: number, c0: number, c1: number): number {
    const s = this.s;
    const last = limit - 1;
    for (let i = from; i < last; i++) {
      if (s.charCodeAt(i) === c0 && s.charCodeAt(i + 1) === c1) return i;
    }
    return -1;
  }

  /** Comment from `p` to the end of the line (ALGORITHM.md §1.5.1). */
  private scanEndOfLineComment(tok: SqlToken): void {
    const end = this.s.indexOf('\n', this.p);
    if (end === -1) {
      this.assign(tok, TokenType.COMMENT, this.p, this.n - this.p);
      this.p = this.n;
    } else {
      this.assign(tok, TokenType.COMMENT, this.p, end - this.p);
      this.p = end + 1;
    }
  }

  /** §1.5.2 */
  private scanWord(tok: SqlToken): void {
    const s = this.s;
    const p = this.p;
    const w = this.cspan(p, WORD_STOP);
    this.assign(tok, TokenType.BAREWORD, p, w);
    // `SELECT.1`, ``SELECT`x` ``: a keyword before a dot or backtick is a token of its own.
    for (let i = 0; i < tok.len; i++) {
      const b = s.charCodeAt(p + i);
      if (b === 0x2e || b === BACKTICK) {
        const type = lookupWord(s, p, i);
        if (type !== 0 && type !== TokenType.BAREWORD) {
          this.assign(tok, type, p, i);
          this.p = p + i;
          return;
        }
      }
    }
    if (w <= MAX_TOKEN_LENGTH) {
      const type = lookupWord(s, p, w);
      if (type !== 0) tok.type = type;
    }
    this.p = p + w;
  }

  /**
   * Quoted string (§1.5.3) with delimiter `delim`, starting at `start`, skipping `prefix` bytes
   * before the content. Returns the offset after it.
   */
  private scanStringCore(tok: SqlToken, delim: number, start: number, prefix: number): number {
    const s = this.s;
    const n = this.n;
    const contentStart = start + prefix;
    const quote = String.fromCharCode(delim);
    let q = s.indexOf(quote, contentStart);
    tok.open = prefix > 0 ? delim : 0;
    for (;;) {
      if (q === -1) {
        this.assign(tok, TokenType.STRING, contentStart, n - contentStart);
        tok.close = 0;
        return n;
      }
      let backslashes = 0;
      for (let j = q - 1; j >= contentStart && s.charCodeAt(j) === BACKSLASH; j--) backslashes++;
      if ((backslashes & 1) === 1) {
        q = s.indexOf(quote, q + 1);
      } else if (q + 1 < n && s.charCodeAt(q + 1) === delim) {
        q = s.indexOf(quote, q + 2);
      } else {
        this.assign(tok, TokenType.STRING, contentStart, q - contentStart);
        tok.close = delim;
        return q + 1;
      }
    }
  }

  /** Backtick name at `start` (§1.5.4); returns the offset after it. */
  private scanTick(tok: SqlToken, start: number): number {
    const end = this.scanStringCore(tok, BACKTICK, start, 1);
    tok.type = lookupWord(tok.src, tok.start, tok.len) === TokenType.FUNCTION ? TokenType.FUNCTION : TokenType.BAREWORD;
    return end;
  }

  /** `! & * : < = > |` (§1.5.5) */
  private scanOperator2(tok: SqlToken): void {
    const s = this.s;
    const p = this.p;
    if (p + 1 >= this.n) {
      this.assign(tok, TokenType.OPERATOR, p, 1);
      this.p = p + 1;
      return;
    }
    if (p + 2 < this.n && s.charCodeAt(p) === 0x3c && s.charCodeAt(p + 1) === 0x3d && s.charCodeAt(p + 2) === 0x3e) {
      this.assign(tok, TokenType.OPERATOR, p, 3); // <=>
      this.p = p + 3;
      return;
    }
    const type = lookupWord(s, p, 2);
    if (type !== 0) {
      this.assign(tok, type, p, 2);
      this.p = p + 2;
    } else {
      this.assign(tok, s.charCodeAt(p) === 0x3a ? TokenType.COLON : TokenType.OPERATOR, p, 1);
      this.p = p + 1;
    }
  }

  /** §1.5.6 */
  private scanDash(tok: SqlToken): void {
    const p = this.p;
    const n = this.n;
    const secondIsDash = p + 1 < n && this.s.charCodeAt(p + 1) === 0x2d;
    if (secondIsDash && (p + 2 === n || WHITE[this.s.charCodeAt(p + 2)] === 1)) {
      this.scanEndOfLineComment(tok);
    } else if (secondIsDash && (this.flags & SqliFlags.SQL_ANSI) !== 0) {
      this.statsCommentDdx++;
      this.scanEndOfLineComment(tok);
    } else {
      this.assign(tok, TokenType.OPERATOR, p, 1);
      this.p = p + 1;
    }
  }

  /** §1.5.7 */
  private scanHash(tok: SqlToken): void {
    this.statsCommentHash++;
    if ((this.flags & SqliFlags.SQL_MYSQL) !== 0) {
      this.statsCommentHash++;
      this.scanEndOfLineComment(tok);
    } else {
      this.assign(tok, TokenType.OPERATOR, this.p, 1);
      this.p++;
    }
  }

  /** §1.5.8 */
  private scanSlash(tok: SqlToken): void {
    const s = this.s;
    const p = this.p;
    if (p + 1 >= this.n || s.charCodeAt(p + 1) !== 0x2a) {
      this.assign(tok, TokenType.OPERATOR, p, 1);
      this.p = p + 1;
      return;
    }
    const close = this.indexOfPair(p + 2, this.n, 0x2a, 0x2f);
    const length = close === -1 ? this.n - p : close + 2 - p;
    // A nested `/*` (PostgreSQL nests comments, MySQL does not) or a MySQL `/*!` is unparsable.
    const nested = close !== -1 && this.indexOfPair(p + 2, close + 1, 0x2f, 0x2a) !== -1;
    const mysqlConditional = p + 2 < this.n && s.charCodeAt(p + 2) === 0x21;
    this.assign(tok, nested || mysqlConditional ? TokenType.EVIL : TokenType.COMMENT, p, length);
    this.p = p + length;
  }

  /** §1.5.9 */
  private scanBackslash(tok: SqlToken): void {
    const p = this.p;
    if (p + 1 < this.n && this.s.charCodeAt(p + 1) === 0x4e) {
      this.assign(tok, TokenType.NUMBER, p, 2); // \N is MySQL's NULL
      this.p = p + 2;
    } else {
      this.assign(tok, TokenType.BACKSLASH, p, 1);
      this.p = p + 1;
    }
  }

  /** §1.5.10 */
  private scanVariable(tok: SqlToken): void {
    const s = this.s;
    let p1 = this.p + 1;
    let count = 1;
    if (p1 < this.n && s.charCodeAt(p1) === 0x40) {
      p1++;
      count = 2;
    }
    if (p1 < this.n) {
      const b = s.charCodeAt(p1);
      if (b === BACKTICK) {
        this.p = this.scanTick(tok, p1);
        tok.type = TokenType.VARIABLE;
        tok.count = count;
        return;
      }
      if (b === SINGLE_QUOTE || b === DOUBLE_QUOTE) {
        this.p = this.scanStringCore(tok, b, p1, 1);
        tok.type = TokenType.VARIABLE;
        tok.count = count;
        return;
      }
    }
    const length = this.cspan(p1, VAR_STOP);
    this.assign(tok, TokenType.VARIABLE, p1, length);
    tok.count = count;
    this.p = p1 + length;
  }

  /** `[name]` (§1.5.11) */
  private scanBracketWord(tok: SqlToken): void {
    const p = this.p;
    const end = this.s.indexOf(']', p);
    const length = end === -1 ? this.n - p : end - p + 1;
    this.assign(tok, TokenType.BAREWORD, p, length);
    this.p = p + length;
  }

  /** `E'..'` (§1.5.12) */
  private scanEString(tok: SqlToken): void {
    const p = this.p;
    if (p + 2 < this.n && this.s.charCodeAt(p + 1) === SINGLE_QUOTE) {
      this.p = this.scanStringCore(tok, SINGLE_QUOTE, p, 2);
    } else {
      this.scanWord(tok);
    }
  }

  /** `N'..'` or `nq'..'` (§1.5.12) */
  private scanNString(tok: SqlToken): void {
    const p = this.p;
    if (p + 2 < this.n && this.s.charCodeAt(p + 1) === SINGLE_QUOTE) {
      this.p = this.scanStringCore(tok, SINGLE_QUOTE, p, 2);
    } else if (!this.scanQString(tok, p + 1)) {
      this.scanWord(tok);
    }
  }

  /** Oracle `q'<d>..<d>'` at offset r (§1.5.12); false when the bytes there are not one. */
  private scanQString(tok: SqlToken, r: number): boolean {
    const s = this.s;
    const n = this.n;
    if (r + 2 >= n) return false;
    const q = s.charCodeAt(r);
    if ((q !== 0x71 && q !== 0x51) || s.charCodeAt(r + 1) !== SINGLE_QUOTE) return false;
    const delim = s.charCodeAt(r + 2);
    // The reference compares a signed char: bytes 0x80–0xFF are below 33 too.
    if (delim < 33 || delim >= 0x80) return false;
    const closing = delim === 0x28 ? 0x29 : delim === 0x5b ? 0x5d : delim === 0x7b ? 0x7d : delim === 0x3c ? 0x3e : delim;
    const end = this.indexOfPair(r + 3, n, closing, SINGLE_QUOTE);
    if (end === -1) {
      this.assign(tok, TokenType.STRING, r + 3, n - r - 3);
      tok.open = 0x71;
      tok.close = 0;
      this.p = n;
    } else {
      this.assign(tok, TokenType.STRING, r + 3, end - r - 3);
      tok.open = 0x71;
      tok.close = 0x71;
      this.p = end + 2;
    }
    return true;
  }

  /** `U&'..'` (§1.5.12) */
  private scanUString(tok: SqlToken): void {
    const s = this.s;
    const p = this.p;
    if (p + 2 < this.n && s.charCodeAt(p + 1) === 0x26 && s.charCodeAt(p + 2) === SINGLE_QUOTE) {
      this.p = this.scanStringCore(tok, SINGLE_QUOTE, p + 2, 1);
      tok.open = 0x75;
      if (tok.close !== 0) tok.close = 0x75;
    } else {
      this.scanWord(tok);
    }
  }

  /** `b'01'`, `x'4F'` (§1.5.15) */
  private scanBinaryOrHexLiteral(tok: SqlToken, digits: Uint8Array): void {
    const s = this.s;
    const p = this.p;
    if (p + 2 < this.n && s.charCodeAt(p + 1) === SINGLE_QUOTE) {
      const m = this.span(p + 2, digits);
      if (p + 2 + m < this.n && s.charCodeAt(p + 2 + m) === SINGLE_QUOTE) {
        this.assign(tok, TokenType.NUMBER, p, m + 3);
        this.p = p + m + 3;
        return;
      }
    }
    this.scanWord(tok);
  }

  /** §1.5.13 */
  private scanNumber(tok: SqlToken): void {
    const s = this.s;
    const n = this.n;
    const start = this.p;
    if (s.charCodeAt(start) === 0x30 && start + 1 < n) {
      const x = s.charCodeAt(start + 1);
      const digits = x === 0x78 || x === 0x58 ? HEX_DIGITS : x === 0x62 || x === 0x42 ? BINARY_DIGITS : null;
      if (digits !== null) {
        const m = this.span(start + 2, digits);
        if (m === 0) this.assign(tok, TokenType.BAREWORD, start, 2);
        else this.assign(tok, TokenType.NUMBER, start, 2 + m);
        this.p = start + 2 + m;
        return;
      }
    }
    let p = start;
    while (p < n && isDigit(s.charCodeAt(p))) p++;
    if (p < n && s.charCodeAt(p) === 0x2e) {
      p++;
      while (p < n && isDigit(s.charCodeAt(p))) p++;
      if (p - start === 1) {
        this.assign(tok, TokenType.DOT, start, 1);
        this.p = p;
        return;
      }
    }
    let haveE = false;
    let haveExponent = false;
    if (p < n) {
      const b = s.charCodeAt(p);
      if (b === 0x45 || b === 0x65) {
        haveE = true;
        p++;
        if (p < n && (s.charCodeAt(p) === 0x2b || s.charCodeAt(p) === 0x2d)) p++;
        while (p < n && isDigit(s.charCodeAt(p))) {
          haveExponent = true;
          p++;
        }
      }
    }
    if (p < n) {
      const b = s.charCodeAt(p);
      // Oracle's float / double suffix, only when a word does not go on (`1dselect` is not one).
      if (b === 0x64 || b === 0x44 || b === 0x66 || b === 0x46) {
        const after = this.byteAt(p + 1);
        if (p + 1 === n || WHITE[after] === 1 || after === 0x3b || after === 0x75 || after === 0x55) p++;
      }
    }
    this.assign(tok, haveE && !haveExponent ? TokenType.BAREWORD : TokenType.NUMBER, start, p - start);
    this.p = p;
  }

  /** `$` (§1.5.14) */
  private scanMoney(tok: SqlToken): void {
    const s = this.s;
    const n = this.n;
    const p = this.p;
    if (p + 1 === n) {
      this.assign(tok, TokenType.BAREWORD, p, 1);
      this.p = n;
      return;
    }
    const m = this.span(p + 1, MONEY_CHARS);
    if (m > 0) {
      if (m === 1 && s.charCodeAt(p + 1) === 0x2e) {
        this.scanWord(tok);
      } else {
        this.assign(tok, TokenType.NUMBER, p, 1 + m);
        this.p = p + 1 + m;
      }
      return;
    }
    if (s.charCodeAt(p + 1) === 0x24) {
      // PostgreSQL $$..$$ string
      const end = this.indexOfPair(p + 2, n, 0x24, 0x24);
      if (end === -1) {
        this.assign(tok, TokenType.STRING, p + 2, n - p - 2);
        tok.open = 0x24;
        tok.close = 0;
        this.p = n;
      } else {
        this.assign(tok, TokenType.STRING, p + 2, end - p - 2);
        tok.open = 0x24;
        tok.close = 0x24;
        this.p = end + 2;
      }
      return;
    }
    // PostgreSQL $tag$..$tag$ string
    const t = this.span(p + 1, LETTERS);
    if (t === 0 || p + t + 1 === n || s.charCodeAt(p + t + 1) !== 0x24) {
      this.assign(tok, TokenType.BAREWORD, p, 1);
      this.p = p + 1;
      return;
    }
    const contentStart = p + t + 2;
    // indexOf stays linear where a naive search would be quadratic on `$aaa…$` + `$aaa…` inputs.
    const end = s.indexOf(s.substring(p, contentStart), contentStart);
    if (end === -1) {
      this.assign(tok, TokenType.STRING, contentStart, n - contentStart);
      tok.open = 0x24;
      tok.close = 0;
      this.p = n;
    } else {
      this.assign(tok, TokenType.STRING, contentStart, end - contentStart);
      tok.open = 0x24;
      tok.close = 0x24;
      this.p = end + t + 2;
    }
  }
}
