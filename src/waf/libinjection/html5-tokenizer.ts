// The small HTML5-like tokenizer of libinjection's XSS detector (ALGORITHM.md §2.2). It is not a
// conforming HTML tokenizer: it reproduces the reference's states, quirks included. Input is a
// binary string (one char per byte). Each next() leaves one token in tokenType / tokenStart /
// tokenLength; nothing is allocated.

/** Token types. */
export const Html5TokenType = {
  DATA_TEXT: 0,
  TAG_NAME_OPEN: 1,
  TAG_NAME_CLOSE: 2,
  TAG_NAME_SELFCLOSE: 3,
  TAG_CLOSE: 4,
  ATTR_NAME: 5,
  ATTR_VALUE: 6,
  TAG_COMMENT: 7,
  DOCTYPE: 8,
} as const;

export const HTML5_TOKEN_TYPE_NAMES: readonly string[] = [
  'DATA_TEXT',
  'TAG_NAME_OPEN',
  'TAG_NAME_CLOSE',
  'TAG_NAME_SELFCLOSE',
  'TAG_CLOSE',
  'ATTR_NAME',
  'ATTR_VALUE',
  'TAG_COMMENT',
  'DOCTYPE',
];

/** Where in a page the input is assumed to be (ALGORITHM.md §2.1), in the order they are tried. */
export const Html5Context = {
  DATA: 0,
  VALUE_NO_QUOTE: 1,
  VALUE_SINGLE_QUOTE: 2,
  VALUE_DOUBLE_QUOTE: 3,
  VALUE_BACK_QUOTE: 4,
} as const;

const State = {
  EOF: 0,
  DATA: 1,
  TAG_OPEN: 2,
  END_TAG_OPEN: 3,
  TAG_NAME: 4,
  TAG_NAME_CLOSE: 5,
  BEFORE_ATTR_NAME: 6,
  ATTR_NAME: 7,
  AFTER_ATTR_NAME: 8,
  BEFORE_ATTR_VALUE: 9,
  ATTR_VALUE_QUOTED: 10,
  ATTR_VALUE_UNQUOTED: 11,
  AFTER_ATTR_VALUE_QUOTED: 12,
  SELF_CLOSING: 13,
  BOGUS_COMMENT: 14,
  BOGUS_COMMENT_PERCENT: 15,
  MARKUP_DECLARATION: 16,
  COMMENT: 17,
  CDATA: 18,
  DOCTYPE: 19,
} as const;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const PERCENT = 0x25;
const EQUALS = 0x3d;
const DASH = 0x2d;
const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const BACKTICK = 0x60;

/** Space, \t, \n, \v, \f, \r and NUL (the reference tests with strchr, which matches the NUL). */
function isWhite(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0;
}

// Bytes that end a tag name, an attribute name or an unquoted value: one table look-up per byte
// in the scanning loops, which then sort out which one it was.
const ENDS_TAG_NAME = 1;
const ENDS_ATTR_NAME = 2;
const ENDS_UNQUOTED_VALUE = 4;
const ENDS = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  if (isWhite(b)) ENDS[b] |= ENDS_ATTR_NAME | ENDS_UNQUOTED_VALUE | (b === 0 ? 0 : ENDS_TAG_NAME);
}
ENDS[0x2f] |= ENDS_TAG_NAME | ENDS_ATTR_NAME; // /
ENDS[0x3d] |= ENDS_ATTR_NAME; // =
ENDS[0x3e] |= ENDS_TAG_NAME | ENDS_ATTR_NAME | ENDS_UNQUOTED_VALUE; // >

function isAsciiLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function equalsIgnoringCase(s: string, at: number, upperWord: string): boolean {
  for (let i = 0; i < upperWord.length; i++) {
    let b = s.charCodeAt(at + i);
    if (b >= 0x61 && b <= 0x7a) b -= 0x20;
    if (b !== upperWord.charCodeAt(i)) return false;
  }
  return true;
}

export class Html5Tokenizer {
  s = '';
  n = 0;
  p = 0;
  tokenType = 0;
  tokenStart = 0;
  tokenLength = 0;
  private state: number = State.EOF;
  private isClose = false;
  /** The quote of the attribute value being read. */
  private quote = 0;

  reset(input: string, context: number): void {
    this.s = input;
    this.n = input.length;
    this.p = 0;
    this.isClose = false;
    this.tokenType = 0;
    this.tokenStart = 0;
    this.tokenLength = 0;
    switch (context) {
      case Html5Context.DATA:
        this.state = State.DATA;
        break;
      case Html5Context.VALUE_NO_QUOTE:
        this.state = State.BEFORE_ATTR_NAME;
        break;
      default:
        this.state = State.ATTR_VALUE_QUOTED;
        this.quote = context === Html5Context.VALUE_SINGLE_QUOTE ? SINGLE_QUOTE : context === Html5Context.VALUE_DOUBLE_QUOTE ? DOUBLE_QUOTE : BACKTICK;
    }
  }

  /** The current token's text. */
  tokenText(): string {
    return this.s.substring(this.tokenStart, this.tokenStart + this.tokenLength);
  }

  private emit(type: number, start: number, end: number, nextState: number): true {
    this.tokenType = type;
    this.tokenStart = start;
    this.tokenLength = end - start;
    this.state = nextState;
    return true;
  }

  /**
   * Skips whitespace and returns the byte it stopped at, or -1 at the end of input. The reference
   * returns a signed char and -1 means the end, so a 0xFF byte ends the input too.
   */
  private skipWhite(): number {
    const s = this.s;
    while (this.p < this.n) {
      const b = s.charCodeAt(this.p);
      if (!isWhite(b)) return b === 0xff ? -1 : b;
      this.p++;
    }
    return -1;
  }

  /** Advances to the next token; false at the end. */
  next(): boolean {
    const s = this.s;
    const n = this.n;
    for (;;) {
      switch (this.state) {
        case State.DATA: {
          const p = this.p;
          const lt = s.indexOf('<', p);
          if (lt === -1) {
            if (p >= n) return false;
            this.p = n;
            return this.emit(Html5TokenType.DATA_TEXT, p, n, State.EOF);
          }
          this.p = lt + 1;
          if (lt > p) return this.emit(Html5TokenType.DATA_TEXT, p, lt, State.TAG_OPEN);
          this.state = State.TAG_OPEN;
          break;
        }
        case State.TAG_OPEN: {
          if (this.p >= n) return false;
          const b = s.charCodeAt(this.p);
          if (b === BANG) {
            this.p++;
            this.state = State.MARKUP_DECLARATION;
          } else if (b === SLASH) {
            this.p++;
            this.isClose = true;
            this.state = State.END_TAG_OPEN;
          } else if (b === QUESTION) {
            this.p++;
            this.state = State.BOGUS_COMMENT;
          } else if (b === PERCENT) {
            this.p++;
            this.state = State.BOGUS_COMMENT_PERCENT;
          } else if (isAsciiLetter(b) || b === 0) {
            this.state = State.TAG_NAME;
          } else {
            // Not a tag: the `<` is text, and the byte after it is read again as text.
            return this.emit(Html5TokenType.DATA_TEXT, this.p - 1, this.p, State.DATA);
          }
          break;
        }
        case State.END_TAG_OPEN: {
          if (this.p >= n) return false;
          const b = s.charCodeAt(this.p);
          if (b === GT) {
            this.state = State.DATA; // `</>`: isClose stays set
          } else if (isAsciiLetter(b)) {
            this.state = State.TAG_NAME;
          } else {
            this.isClose = false;
            this.state = State.BOGUS_COMMENT;
          }
          break;
        }
        case State.TAG_NAME: {
          const p = this.p;
          for (let j = p; j < n; j++) {
            const b = s.charCodeAt(j);
            if ((ENDS[b] & ENDS_TAG_NAME) === 0) continue; // NUL too: it is part of the name
            if (isWhite(b)) {
              this.p = j + 1;
              return this.emit(Html5TokenType.TAG_NAME_OPEN, p, j, State.BEFORE_ATTR_NAME);
            }
            if (b === SLASH) {
              this.p = j + 1;
              return this.emit(Html5TokenType.TAG_NAME_OPEN, p, j, State.SELF_CLOSING);
            }
            if (b === GT) {
              if (this.isClose) {
                this.p = j + 1;
                this.isClose = false;
                return this.emit(Html5TokenType.TAG_CLOSE, p, j, State.DATA);
              }
              this.p = j;
              return this.emit(Html5TokenType.TAG_NAME_OPEN, p, j, State.TAG_NAME_CLOSE);
            }
          }
          this.p = n;
          return this.emit(Html5TokenType.TAG_NAME_OPEN, p, n, State.EOF);
        }
        case State.TAG_NAME_CLOSE: {
          const p = this.p;
          this.isClose = false;
          this.p = p + 1;
          return this.emit(Html5TokenType.TAG_NAME_CLOSE, p, p + 1, this.p < n ? State.DATA : State.EOF);
        }
        case State.BEFORE_ATTR_NAME: {
          const b = this.skipWhite();
          if (b === -1) return false;
          if (b === SLASH) {
            this.p++;
            this.state = State.SELF_CLOSING;
          } else if (b === GT) {
            const p = this.p;
            this.p = p + 1;
            return this.emit(Html5TokenType.TAG_NAME_CLOSE, p, p + 1, State.DATA);
          } else {
            this.state = State.ATTR_NAME;
          }
          break;
        }
        case State.ATTR_NAME: {
          // The first byte belongs to the name whatever it is (`=`, `"`, ...).
          const p = this.p;
          for (let j = p + 1; j < n; j++) {
            const b = s.charCodeAt(j);
            if ((ENDS[b] & ENDS_ATTR_NAME) === 0) continue;
            if (isWhite(b)) {
              this.p = j + 1;
              return this.emit(Html5TokenType.ATTR_NAME, p, j, State.AFTER_ATTR_NAME);
            }
            if (b === SLASH) {
              this.p = j + 1;
              return this.emit(Html5TokenType.ATTR_NAME, p, j, State.SELF_CLOSING);
            }
            if (b === EQUALS) {
              this.p = j + 1;
              return this.emit(Html5TokenType.ATTR_NAME, p, j, State.BEFORE_ATTR_VALUE);
            }
            if (b === GT) {
              this.p = j;
              return this.emit(Html5TokenType.ATTR_NAME, p, j, State.TAG_NAME_CLOSE);
            }
          }
          this.p = n;
          return this.emit(Html5TokenType.ATTR_NAME, p, n, State.EOF);
        }
        case State.AFTER_ATTR_NAME: {
          const b = this.skipWhite();
          if (b === -1) return false;
          if (b === SLASH) {
            this.p++;
            this.state = State.SELF_CLOSING;
          } else if (b === EQUALS) {
            this.p++;
            this.state = State.BEFORE_ATTR_VALUE;
          } else if (b === GT) {
            this.state = State.TAG_NAME_CLOSE;
          } else {
            this.state = State.ATTR_NAME;
          }
          break;
        }
        case State.BEFORE_ATTR_VALUE: {
          const b = this.skipWhite();
          if (b === -1) {
            this.state = State.EOF;
            return false;
          }
          if (b === DOUBLE_QUOTE || b === SINGLE_QUOTE || b === BACKTICK) {
            this.quote = b;
            this.state = State.ATTR_VALUE_QUOTED;
          } else {
            this.state = State.ATTR_VALUE_UNQUOTED;
          }
          break;
        }
        case State.ATTR_VALUE_QUOTED: {
          // A quote context starts at offset 0 with no opening quote to skip.
          if (this.p > 0) this.p++;
          const p = this.p;
          const end = s.indexOf(String.fromCharCode(this.quote), p);
          if (end === -1) {
            this.p = n;
            return this.emit(Html5TokenType.ATTR_VALUE, p, n, State.EOF);
          }
          this.p = end + 1;
          return this.emit(Html5TokenType.ATTR_VALUE, p, end, State.AFTER_ATTR_VALUE_QUOTED);
        }
        case State.ATTR_VALUE_UNQUOTED: {
          const p = this.p;
          for (let j = p; j < n; j++) {
            const b = s.charCodeAt(j);
            if ((ENDS[b] & ENDS_UNQUOTED_VALUE) === 0) continue;
            if (isWhite(b)) {
              this.p = j + 1;
              return this.emit(Html5TokenType.ATTR_VALUE, p, j, State.BEFORE_ATTR_NAME);
            }
            if (b === GT) {
              this.p = j;
              return this.emit(Html5TokenType.ATTR_VALUE, p, j, State.TAG_NAME_CLOSE);
            }
          }
          this.p = n;
          return this.emit(Html5TokenType.ATTR_VALUE, p, n, State.EOF);
        }
        case State.AFTER_ATTR_VALUE_QUOTED: {
          if (this.p >= n) return false;
          const b = s.charCodeAt(this.p);
          if (isWhite(b)) {
            this.p++;
            this.state = State.BEFORE_ATTR_NAME;
          } else if (b === SLASH) {
            this.p++;
            this.state = State.SELF_CLOSING;
          } else if (b === GT) {
            const p = this.p;
            this.p = p + 1;
            return this.emit(Html5TokenType.TAG_NAME_CLOSE, p, p + 1, State.DATA);
          } else {
            this.state = State.BEFORE_ATTR_NAME;
          }
          break;
        }
        case State.SELF_CLOSING: {
          if (this.p >= n) return false;
          if (s.charCodeAt(this.p) === GT) {
            const p = this.p;
            this.p = p + 1;
            return this.emit(Html5TokenType.TAG_NAME_SELFCLOSE, p - 1, p + 1, State.DATA);
          }
          this.state = State.BEFORE_ATTR_NAME;
          break;
        }
        case State.BOGUS_COMMENT: {
          const p = this.p;
          const end = s.indexOf('>', p);
          if (end === -1) {
            this.p = n;
            return this.emit(Html5TokenType.TAG_COMMENT, p, n, State.EOF);
          }
          this.p = end + 1;
          return this.emit(Html5TokenType.TAG_COMMENT, p, end, State.DATA);
        }
        case State.BOGUS_COMMENT_PERCENT: {
          // `<% ... %>`
          const p = this.p;
          let from = p;
          for (;;) {
            const percent = s.indexOf('%', from);
            if (percent === -1 || percent + 1 >= n) {
              this.p = n;
              return this.emit(Html5TokenType.TAG_COMMENT, p, n, State.EOF);
            }
            if (s.charCodeAt(percent + 1) === GT) {
              this.p = percent + 2;
              return this.emit(Html5TokenType.TAG_COMMENT, p, percent, State.DATA);
            }
            from = percent + 1;
          }
        }
        case State.MARKUP_DECLARATION: {
          const p = this.p;
          const remaining = n - p;
          if (remaining >= 7 && equalsIgnoringCase(s, p, 'DOCTYPE')) {
            this.state = State.DOCTYPE;
          } else if (remaining >= 7 && s.startsWith('[CDATA[', p)) {
            this.p = p + 7;
            this.state = State.CDATA;
          } else if (remaining >= 2 && s.charCodeAt(p) === DASH && s.charCodeAt(p + 1) === DASH) {
            this.p = p + 2;
            this.state = State.COMMENT;
          } else {
            this.state = State.BOGUS_COMMENT;
          }
          break;
        }
        case State.COMMENT: {
          // Ends at `-->` or `-!>`; NULs may sit between the first and second byte of that.
          const p = this.p;
          let from = p;
          for (;;) {
            const dash = s.indexOf('-', from);
            if (dash === -1 || dash > n - 3) break;
            let j = dash + 1;
            while (j < n && s.charCodeAt(j) === 0) j++;
            if (j === n) break;
            const second = s.charCodeAt(j);
            if (second !== DASH && second !== BANG) {
              from = dash + 1;
              continue;
            }
            j++;
            if (j === n) break;
            if (s.charCodeAt(j) !== GT) {
              from = dash + 1;
              continue;
            }
            this.p = j + 1;
            return this.emit(Html5TokenType.TAG_COMMENT, p, dash, State.DATA);
          }
          this.p = n;
          return this.emit(Html5TokenType.TAG_COMMENT, p, n, State.EOF);
        }
        case State.CDATA: {
          const p = this.p;
          let from = p;
          for (;;) {
            const bracket = s.indexOf(']', from);
            if (bracket === -1 || bracket > n - 3) {
              this.p = n;
              return this.emit(Html5TokenType.DATA_TEXT, p, n, State.EOF);
            }
            if (s.charCodeAt(bracket + 1) === 0x5d && s.charCodeAt(bracket + 2) === GT) {
              this.p = bracket + 3;
              return this.emit(Html5TokenType.DATA_TEXT, p, bracket, State.DATA);
            }
            from = bracket + 1;
          }
        }
        case State.DOCTYPE: {
          const p = this.p;
          const end = s.indexOf('>', p);
          if (end === -1) {
            this.p = n;
            return this.emit(Html5TokenType.DOCTYPE, p, n, State.EOF);
          }
          this.p = end + 1;
          return this.emit(Html5TokenType.DOCTYPE, p, end, State.DATA);
        }
        default:
          return false;
      }
    }
  }
}
