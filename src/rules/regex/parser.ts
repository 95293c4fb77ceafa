// Pattern text → syntax tree, with the syntax and the errors of Rust's regex-syntax parser (the
// dialect of SPEC.md 7.4): the same escapes, the same class grammar (nesting, `&&`, `--`, `~~`,
// `[:name:]`), the same flag, group-name and counted-repetition rules, and the same nesting limit.
import { isUnicodeWhiteSpace } from '../values.ts';
import type {
  AsciiClassKind,
  AssertionKind,
  Ast,
  BracketedClass,
  ClassItem,
  ClassSet,
  ClassSetOp,
  FlagName,
  FlagSettings,
  GroupKind,
  Literal,
  PerlClass,
  Span,
  UnicodeClass,
} from './ast.ts';
import { RegexSyntaxError } from './error.ts';

/** Rust's default nesting limit: deeper syntax trees are rejected. */
const NEST_LIMIT = 250;
/** Repetition counts are 32-bit unsigned integers in Rust. */
const MAX_COUNT = 0xffff_ffff;

export function parse(pattern: string): Ast {
  return new Parser(pattern).parse();
}

/** What an escape or a class item can be, before it is placed in the tree. */
type Primitive =
  | Literal
  | PerlClass
  | UnicodeClass
  | { readonly type: 'assertion'; readonly span: Span; readonly kind: AssertionKind }
  | { readonly type: 'dot'; readonly span: Span };

class Parser {
  private readonly pattern: string;
  private readonly cps: readonly number[];
  private pos = 0;
  private ignoreWhitespace = false;
  /** Capture groups opened so far: the next one gets this + 1 (groups are numbered as written). */
  private groupCount = 0;
  private readonly groupNames = new Set<string>();
  /** Open groups and classes; bounds the parser's recursion before the exact nesting check. */
  private nesting = 0;

  constructor(pattern: string) {
    this.pattern = pattern;
    const cps: number[] = [];
    for (const ch of pattern) {
      const cp = ch.codePointAt(0)!;
      if (cp >= 0xd800 && cp <= 0xdfff) {
        throw new RegexSyntaxError('pattern is not valid Unicode (lone surrogate)', pattern, cps.length, cps.length + 1);
      }
      cps.push(cp);
    }
    this.cps = cps;
  }

  parse(): Ast {
    const ast = this.parseAlternation();
    if (!this.eof()) this.fail('unopened group', this.pos, this.pos + 1);
    this.checkNesting(ast, 0);
    return ast;
  }

  // ---- reading the text

  private fail(what: string, start: number, end: number): never {
    throw new RegexSyntaxError(what, this.pattern, start, end);
  }

  private eof(): boolean {
    return this.pos >= this.cps.length;
  }

  /** The current character (only valid when not at the end). */
  private char(): number {
    return this.cps[this.pos];
  }

  private isChar(ch: string): boolean {
    return this.pos < this.cps.length && this.cps[this.pos] === ch.charCodeAt(0);
  }

  /** Moves one character on; false when that reaches the end. */
  private bump(): boolean {
    if (this.eof()) return false;
    this.pos++;
    return !this.eof();
  }

  private bumpIf(prefix: string): boolean {
    for (let i = 0; i < prefix.length; i++) {
      if (this.cps[this.pos + i] !== prefix.charCodeAt(i)) return false;
    }
    this.pos += prefix.length;
    return true;
  }

  /** In `x` mode, skips whitespace and `#` comments. */
  private bumpSpace(): void {
    if (!this.ignoreWhitespace) return;
    while (!this.eof()) {
      const c = this.char();
      if (isUnicodeWhiteSpace(c)) {
        this.pos++;
      } else if (c === HASH) {
        while (!this.eof() && this.cps[this.pos++] !== NEWLINE);
      } else {
        break;
      }
    }
  }

  private bumpAndBumpSpace(): boolean {
    if (!this.bump()) return false;
    this.bumpSpace();
    return !this.eof();
  }

  /**
   * The character after the current one; in `x` mode the first one after whitespace and one `#`
   * (Rust's look-ahead skips exactly that much, not whole comments).
   */
  private peekSpace(): number | undefined {
    const next = this.pos + 1;
    if (this.ignoreWhitespace) {
      let sawHash = false;
      for (let i = next; i < this.cps.length; i++) {
        const c = this.cps[i];
        if (isUnicodeWhiteSpace(c)) continue;
        if (!sawHash && c === HASH) {
          sawHash = true;
          continue;
        }
        return c;
      }
    }
    return this.cps[next];
  }

  // ---- expressions

  /** Reads alternatives up to the end of the pattern or an unconsumed `)`. */
  private parseAlternation(): Ast {
    const branches: Ast[] = [];
    let concat: Ast[] = [];
    let concatStart = this.pos;
    for (;;) {
      this.bumpSpace();
      if (this.eof()) break;
      const c = this.char();
      if (c === OPEN_PAREN) {
        concat.push(this.parseGroup());
      } else if (c === CLOSE_PAREN) {
        break;
      } else if (c === PIPE) {
        branches.push(concatOf(concat, concatStart, this.pos));
        this.bump();
        concat = [];
        concatStart = this.pos;
      } else if (c === OPEN_BRACKET) {
        concat.push(this.parseBracketed());
      } else if (c === QUESTION) {
        this.parseUncountedRepetition(concat, 0, 1);
      } else if (c === STAR) {
        this.parseUncountedRepetition(concat, 0, undefined);
      } else if (c === PLUS) {
        this.parseUncountedRepetition(concat, 1, undefined);
      } else if (c === OPEN_BRACE) {
        this.parseCountedRepetition(concat);
      } else {
        concat.push(this.parsePrimitive());
      }
    }
    const last = concatOf(concat, concatStart, this.pos);
    if (branches.length === 0) return last;
    branches.push(last);
    return { type: 'alternation', span: { start: branches[0].span.start, end: this.pos }, subs: branches };
  }

  private popRepeatable(concat: Ast[]): Ast {
    const sub = concat.pop();
    if (sub === undefined || sub.type === 'empty' || sub.type === 'flags') {
      this.fail('repetition operator missing expression', this.pos, this.pos);
    }
    return sub;
  }

  private parseUncountedRepetition(concat: Ast[], min: number, max: number | undefined): void {
    const sub = this.popRepeatable(concat);
    let greedy = true;
    if (this.bump() && this.isChar('?')) {
      greedy = false;
      this.bump();
    }
    concat.push({ type: 'repetition', span: { start: sub.span.start, end: this.pos }, min, max, greedy, sub });
  }

  private parseCountedRepetition(concat: Ast[]): void {
    const start = this.pos;
    const sub = this.popRepeatable(concat);
    const unclosed = (): never => this.fail('unclosed counted repetition', start, this.pos);
    if (!this.bumpAndBumpSpace()) unclosed();
    // As in Rust, a bad first number is reported only once the shape of the braces is known.
    const first = this.parseDecimal();
    if (this.eof()) unclosed();
    let min: number;
    let max: number | undefined;
    if (this.isChar(',')) {
      if (!this.bumpAndBumpSpace()) unclosed();
      min = unwrapCount(first);
      max = this.isChar('}') ? undefined : unwrapCount(this.parseDecimal());
    } else {
      min = max = unwrapCount(first);
    }
    if (this.eof() || !this.isChar('}')) unclosed();
    let greedy = true;
    if (this.bumpAndBumpSpace() && this.isChar('?')) {
      greedy = false;
      this.bump();
    }
    if (max !== undefined && min > max) {
      this.fail('invalid repetition count range, the start must be <= the end', start, this.pos);
    }
    concat.push({ type: 'repetition', span: { start: sub.span.start, end: this.pos }, min, max, greedy, sub });
  }

  private parseDecimal(): number | RegexSyntaxError {
    while (!this.eof() && isUnicodeWhiteSpace(this.char())) this.bump();
    const start = this.pos;
    let digits = '';
    while (!this.eof() && this.char() >= DIGIT_0 && this.char() <= DIGIT_9) {
      digits += String.fromCharCode(this.char());
      this.bumpAndBumpSpace();
    }
    const end = this.pos;
    while (!this.eof() && isUnicodeWhiteSpace(this.char())) this.bumpAndBumpSpace();
    if (digits === '') {
      return new RegexSyntaxError('repetition quantifier expects a valid decimal', this.pattern, start, end);
    }
    const value = Number(digits);
    if (value > MAX_COUNT) return new RegexSyntaxError('decimal literal invalid (too large)', this.pattern, start, end);
    return value;
  }

  private parseGroup(): Ast {
    const open = this.pos;
    this.bump();
    this.bumpSpace();
    if (this.bumpIf('?=') || this.bumpIf('?!') || this.bumpIf('?<=') || this.bumpIf('?<!')) {
      this.fail('look-around, including look-ahead and look-behind, is not supported', open, this.pos);
    }
    let kind: GroupKind;
    if (this.bumpIf('?P<') || this.bumpIf('?<')) {
      const index = ++this.groupCount;
      kind = { type: 'capture', index, name: this.parseCaptureName() };
    } else if (this.bumpIf('?')) {
      if (this.eof()) this.fail('unclosed group', open, open + 1);
      const flagsStart = this.pos;
      const flags = this.parseFlags();
      const closesHere = this.isChar(')');
      this.bump();
      if (closesHere) {
        // `(?)` reads as a repetition operator with nothing before it, as in Rust.
        if (flags === undefined) this.fail('repetition operator missing expression', flagsStart, flagsStart);
        if (flags.x !== undefined) this.ignoreWhitespace = flags.x;
        return { type: 'flags', span: { start: open, end: this.pos }, flags };
      }
      kind = { type: 'nonCapturing', flags: flags ?? {} };
    } else {
      kind = { type: 'capture', index: ++this.groupCount, name: undefined };
    }
    this.enter(open);
    const outerIgnoreWhitespace = this.ignoreWhitespace;
    if (kind.type === 'nonCapturing' && kind.flags.x !== undefined) this.ignoreWhitespace = kind.flags.x;
    const sub = this.parseAlternation();
    if (this.eof()) this.fail('unclosed group', open, open + 1);
    this.ignoreWhitespace = outerIgnoreWhitespace;
    this.bump();
    this.nesting--;
    return { type: 'group', span: { start: open, end: this.pos }, kind, sub };
  }

  private enter(start: number): void {
    if (++this.nesting > NEST_LIMIT) this.fail(`exceeds the nesting limit of ${NEST_LIMIT}`, start, start + 1);
  }

  private parseCaptureName(): string {
    if (this.eof()) this.fail('unexpected end of pattern in a capture group name', this.pos, this.pos);
    const start = this.pos;
    while (!this.isChar('>')) {
      if (!isCaptureNameChar(this.char(), this.pos === start)) {
        this.fail('invalid capture group character', this.pos, this.pos + 1);
      }
      if (!this.bump()) break;
    }
    const end = this.pos;
    if (this.eof()) this.fail('unexpected end of pattern in a capture group name', this.pos, this.pos);
    this.bump();
    if (end === start) this.fail('empty capture group name', start, start);
    const name = this.text(start, end);
    if (this.groupNames.has(name)) this.fail('duplicate capture group name', start, end);
    this.groupNames.add(name);
    return name;
  }

  /** Reads flags up to `:` or `)` (not consumed); undefined when there are none at all. */
  private parseFlags(): FlagSettings | undefined {
    const flags: Partial<Record<FlagName, boolean>> = {};
    let items = 0;
    let negationAt = -1;
    let lastWasNegation = false;
    while (!this.isChar(':') && !this.isChar(')')) {
      const c = String.fromCodePoint(this.char());
      if (c === '-') {
        if (negationAt >= 0) this.fail('flag negation operator repeated', this.pos, this.pos + 1);
        negationAt = this.pos;
        lastWasNegation = true;
      } else {
        if (!isFlagName(c)) this.fail('unrecognized flag', this.pos, this.pos + 1);
        if (flags[c] !== undefined) this.fail('duplicate flag', this.pos, this.pos + 1);
        flags[c] = negationAt < 0;
        lastWasNegation = false;
      }
      items++;
      if (!this.bump()) this.fail('expected flag but got end of pattern', this.pos, this.pos);
    }
    if (lastWasNegation) this.fail('flag negation operator with no flags after it', negationAt, negationAt + 1);
    return items === 0 ? undefined : flags;
  }

  private parsePrimitive(): Ast {
    const start = this.pos;
    const c = this.char();
    if (c === BACKSLASH) return this.parseEscape();
    this.bump();
    const span = { start, end: this.pos };
    if (c === DOT) return { type: 'dot', span };
    if (c === CARET) return { type: 'assertion', span, kind: 'startLine' };
    if (c === DOLLAR) return { type: 'assertion', span, kind: 'endLine' };
    return { type: 'literal', span, c, byteEscape: false };
  }

  // ---- escapes

  private parseEscape(): Primitive {
    const start = this.pos;
    if (!this.bump()) this.fail('incomplete escape sequence, reached end of pattern prematurely', start, this.pos);
    const c = String.fromCodePoint(this.char());
    if (c >= '0' && c <= '9') {
      this.fail('backreferences are not supported', start, this.pos + 1);
    }
    if (c === 'x' || c === 'u' || c === 'U') return this.parseHex(start, c);
    if (c === 'p' || c === 'P') return this.parseUnicodeClass(start);
    if (c === 'd' || c === 's' || c === 'w' || c === 'D' || c === 'S' || c === 'W') {
      this.bump();
      const kind = c === 'd' || c === 'D' ? 'digit' : c === 's' || c === 'S' ? 'space' : 'word';
      return { type: 'perl', span: { start, end: this.pos }, kind, negated: c === 'D' || c === 'S' || c === 'W' };
    }
    this.bump();
    const span = { start, end: this.pos };
    const cp = c.codePointAt(0)!;
    if (isEscapeable(c)) return { type: 'literal', span, c: cp, byteEscape: false };
    const special = SPECIAL_ESCAPES.get(c);
    if (special !== undefined) return { type: 'literal', span, c: special, byteEscape: false };
    switch (c) {
      case 'A':
        return { type: 'assertion', span, kind: 'startText' };
      case 'z':
        return { type: 'assertion', span, kind: 'endText' };
      case 'B':
        return { type: 'assertion', span, kind: 'notWordBoundary' };
      case '<':
        return { type: 'assertion', span, kind: 'wordStart' };
      case '>':
        return { type: 'assertion', span, kind: 'wordEnd' };
      case 'b': {
        const kind = this.isChar('{') ? this.maybeSpecialWordBoundary(start) : undefined;
        return { type: 'assertion', span: { start, end: this.pos }, kind: kind ?? 'wordBoundary' };
      }
    }
    return this.fail('unrecognized escape sequence', start, this.pos);
  }

  /** After `\b`, at `{`: `\b{start}` and friends, or undefined (the brace then starts a counted repetition). */
  private maybeSpecialWordBoundary(escapeStart: number): AssertionKind | undefined {
    const brace = this.pos;
    if (!this.bumpAndBumpSpace()) {
      this.fail('expected special word boundary or repetition, got end of pattern', escapeStart, this.pos);
    }
    const isNameChar = (c: number) => isAsciiLetter(c) || c === HYPHEN;
    if (!isNameChar(this.char())) {
      this.pos = brace;
      return undefined;
    }
    const nameStart = this.pos;
    let name = '';
    while (!this.eof() && isNameChar(this.char())) {
      name += String.fromCharCode(this.char());
      this.bumpAndBumpSpace();
    }
    if (this.eof() || !this.isChar('}')) this.fail('special word boundary assertion is unclosed', brace, this.pos);
    const end = this.pos;
    this.bump();
    const kind = SPECIAL_WORD_BOUNDARIES.get(name);
    if (kind === undefined) this.fail('unrecognized special word boundary assertion', nameStart, end);
    return kind;
  }

  private parseHex(start: number, letter: 'x' | 'u' | 'U'): Literal {
    if (!this.bumpAndBumpSpace()) this.fail('incomplete escape sequence, reached end of pattern prematurely', this.pos, this.pos);
    let hex = '';
    const digitsStart = this.pos;
    if (this.isChar('{')) {
      const brace = this.pos;
      while (this.bumpAndBumpSpace() && !this.isChar('}')) {
        if (!isHexDigit(this.char())) this.fail('invalid hexadecimal digit', this.pos, this.pos + 1);
        hex += String.fromCharCode(this.char());
      }
      if (this.eof()) this.fail('incomplete escape sequence, reached end of pattern prematurely', brace, this.pos);
      this.bumpAndBumpSpace();
      if (hex === '') this.fail('hexadecimal literal is empty', brace, this.pos);
      return { type: 'literal', span: { start, end: this.pos }, c: this.scalarValue(hex, brace), byteEscape: false };
    }
    const digits = letter === 'x' ? 2 : letter === 'u' ? 4 : 8;
    for (let i = 0; i < digits; i++) {
      if (i > 0 && !this.bumpAndBumpSpace()) {
        this.fail('incomplete escape sequence, reached end of pattern prematurely', this.pos, this.pos);
      }
      if (!isHexDigit(this.char())) this.fail('invalid hexadecimal digit', this.pos, this.pos + 1);
      hex += String.fromCharCode(this.char());
    }
    this.bumpAndBumpSpace();
    return { type: 'literal', span: { start, end: this.pos }, c: this.scalarValue(hex, digitsStart), byteEscape: letter === 'x' };
  }

  private scalarValue(hex: string, start: number): number {
    const significant = hex.replace(/^0+/, '');
    const value = significant.length > 8 ? Infinity : parseInt(significant || '0', 16);
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
      this.fail('hexadecimal literal is not a Unicode scalar value', start, this.pos);
    }
    return value;
  }

  private parseUnicodeClass(start: number): UnicodeClass {
    let negated = this.isChar('P');
    if (!this.bumpAndBumpSpace()) this.fail('incomplete escape sequence, reached end of pattern prematurely', this.pos, this.pos);
    let text = '';
    if (this.isChar('{')) {
      while (this.bumpAndBumpSpace() && !this.isChar('}')) text += String.fromCodePoint(this.char());
      if (this.eof()) this.fail('incomplete escape sequence, reached end of pattern prematurely', this.pos, this.pos);
      this.bump();
    } else {
      if (this.isChar('\\')) this.fail('invalid Unicode character class', this.pos, this.pos + 1);
      text = String.fromCodePoint(this.char());
      this.bumpAndBumpSpace();
    }
    const span = { start, end: this.pos };
    for (const separator of ['!=', ':', '=']) {
      const at = text.indexOf(separator);
      if (at >= 0) {
        if (separator === '!=') negated = !negated;
        return { type: 'unicode', span, negated, name: text.slice(0, at), value: text.slice(at + separator.length) };
      }
    }
    return { type: 'unicode', span, negated, name: text, value: undefined };
  }

  // ---- bracketed classes

  private parseBracketed(): BracketedClass {
    const start = this.pos;
    this.enter(start);
    const unclosed = (): never => this.fail('unclosed character class', start, this.pos);
    if (!this.bumpAndBumpSpace()) unclosed();
    let negated = false;
    if (this.isChar('^')) {
      negated = true;
      if (!this.bumpAndBumpSpace()) unclosed();
    }
    // Leading `-` are literal, and so is a `]` right after the opening (an empty class cannot be written).
    let items: ClassItem[] = [];
    while (this.isChar('-')) {
      items.push(this.verbatim());
      if (!this.bumpAndBumpSpace()) unclosed();
    }
    if (items.length === 0 && this.isChar(']')) {
      items.push(this.verbatim());
      if (!this.bumpAndBumpSpace()) unclosed();
    }
    // Set operators are left-associative: `a&&b--c` is `(a&&b)--c`.
    let lhs: ClassSet | undefined;
    let pendingOp: ClassSetOp | undefined;
    const operand = (): ClassSet => {
      const rhs = unionOf(items);
      return pendingOp === undefined ? rhs : { type: 'op', op: pendingOp, lhs: lhs!, rhs };
    };
    for (;;) {
      this.bumpSpace();
      if (this.eof()) unclosed();
      const c = this.char();
      const next = this.cps[this.pos + 1];
      if (c === OPEN_BRACKET) {
        items.push(this.maybeAsciiClass() ?? this.parseBracketed());
      } else if (c === CLOSE_BRACKET) {
        const set = operand();
        this.bump();
        this.nesting--;
        return { type: 'bracketed', span: { start, end: this.pos }, negated, set };
      } else if ((c === AMPERSAND || c === HYPHEN || c === TILDE) && next === c) {
        lhs = operand();
        pendingOp = c === AMPERSAND ? 'intersection' : c === HYPHEN ? 'difference' : 'symmetricDifference';
        items = [];
        this.pos += 2;
      } else {
        items.push(this.parseClassRange(unclosed));
      }
    }
  }

  /** A literal of the current character, consumed by the caller. */
  private verbatim(): Literal {
    return { type: 'literal', span: { start: this.pos, end: this.pos + 1 }, c: this.char(), byteEscape: false };
  }

  private parseClassRange(unclosed: () => never): ClassItem {
    const first = this.parseClassPrimitive();
    this.bumpSpace();
    if (this.eof()) unclosed();
    const after = this.peekSpace();
    if (!this.isChar('-') || after === CLOSE_BRACKET || after === HYPHEN) return this.classItem(first);
    if (!this.bumpAndBumpSpace()) unclosed();
    const second = this.parseClassPrimitive();
    const start = this.rangeEnd(first);
    const end = this.rangeEnd(second);
    if (start.c > end.c) {
      this.fail('invalid character class range, the start must be <= the end', first.span.start, second.span.end);
    }
    return { type: 'range', start, end };
  }

  private parseClassPrimitive(): Primitive {
    if (this.isChar('\\')) return this.parseEscape();
    const literal = this.verbatim();
    this.bump();
    return literal;
  }

  private classItem(primitive: Primitive): ClassItem {
    if (primitive.type === 'assertion' || primitive.type === 'dot') {
      this.fail('invalid escape sequence found in character class', primitive.span.start, primitive.span.end);
    }
    return primitive;
  }

  private rangeEnd(primitive: Primitive): Literal {
    if (primitive.type !== 'literal') {
      this.fail('invalid range boundary, must be a literal', primitive.span.start, primitive.span.end);
    }
    return primitive;
  }

  /** `[:alpha:]` inside a class; undefined (nothing consumed) when the text is not one. */
  private maybeAsciiClass(): ClassItem | undefined {
    const start = this.pos;
    const giveUp = () => {
      this.pos = start;
      return undefined;
    };
    if (!this.bump() || !this.isChar(':') || !this.bump()) return giveUp();
    let negated = false;
    if (this.isChar('^')) {
      negated = true;
      if (!this.bump()) return giveUp();
    }
    const nameStart = this.pos;
    // No class name is longer than "xdigit": looking further could only fail, and would make
    // a long pattern with many `[` quadratic.
    while (!this.isChar(':') && this.pos - nameStart <= LONGEST_ASCII_CLASS_NAME && this.bump());
    if (this.eof() || !this.isChar(':')) return giveUp();
    const name = this.text(nameStart, this.pos);
    if (!this.bumpIf(':]') || !ASCII_CLASS_NAMES.has(name)) return giveUp();
    return { type: 'ascii', kind: name as AsciiClassKind, negated };
  }

  private text(start: number, end: number): string {
    let text = '';
    for (let i = start; i < end; i++) text += String.fromCodePoint(this.cps[i]);
    return text;
  }

  // ---- nesting limit

  /** Rust's nesting measure: every group, repetition, class, alternation, concatenation and class operation is a level. */
  private checkNesting(ast: Ast, depth: number): void {
    switch (ast.type) {
      case 'bracketed':
        this.checkClassNesting(ast.set, this.deeper(depth, ast.span));
        return;
      case 'repetition':
      case 'group':
        this.checkNesting(ast.sub, this.deeper(depth, ast.span));
        return;
      case 'concat':
      case 'alternation': {
        const inner = this.deeper(depth, ast.span);
        for (const sub of ast.subs) this.checkNesting(sub, inner);
        return;
      }
    }
  }

  private checkClassNesting(set: ClassSet, depth: number): void {
    if (set.type === 'op') {
      const inner = this.deeper(depth, undefined);
      this.checkClassNesting(set.lhs, inner);
      this.checkClassNesting(set.rhs, inner);
    } else if (set.type === 'bracketed') {
      this.checkClassNesting(set.set, this.deeper(depth, set.span));
    } else if (set.type === 'union') {
      const inner = this.deeper(depth, undefined);
      for (const item of set.items) this.checkClassNesting(item, inner);
    }
  }

  private deeper(depth: number, span: Span | undefined): number {
    if (depth + 1 > NEST_LIMIT) {
      this.fail(`exceeds the nesting limit of ${NEST_LIMIT}`, span?.start ?? 0, span?.end ?? this.cps.length);
    }
    return depth + 1;
  }
}

function unwrapCount(count: number | RegexSyntaxError): number {
  if (count instanceof RegexSyntaxError) throw count;
  return count;
}

function concatOf(items: Ast[], start: number, end: number): Ast {
  if (items.length === 0) return { type: 'empty', span: { start, end } };
  if (items.length === 1) return items[0];
  return { type: 'concat', span: { start, end }, subs: items };
}

function unionOf(items: ClassItem[]): ClassItem {
  if (items.length === 0) return { type: 'empty' };
  if (items.length === 1) return items[0];
  return { type: 'union', items };
}

const NEWLINE = 0x0a;
const HASH = 0x23;
const DOLLAR = 0x24;
const AMPERSAND = 0x26;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const STAR = 0x2a;
const PLUS = 0x2b;
const HYPHEN = 0x2d;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const QUESTION = 0x3f;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const CARET = 0x5e;
const OPEN_BRACE = 0x7b;
const PIPE = 0x7c;
const TILDE = 0x7e;

const SPECIAL_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['a', 0x07],
  ['f', 0x0c],
  ['t', 0x09],
  ['n', 0x0a],
  ['r', 0x0d],
  ['v', 0x0b],
]);

const SPECIAL_WORD_BOUNDARIES: ReadonlyMap<string, AssertionKind> = new Map([
  ['start', 'wordStart'],
  ['end', 'wordEnd'],
  ['start-half', 'wordStartHalf'],
  ['end-half', 'wordEndHalf'],
]);

const LONGEST_ASCII_CLASS_NAME = 6;
const ASCII_CLASS_NAMES: ReadonlySet<string> = new Set([
  'alnum',
  'alpha',
  'ascii',
  'blank',
  'cntrl',
  'digit',
  'graph',
  'lower',
  'print',
  'punct',
  'space',
  'upper',
  'word',
  'xdigit',
]);

function isFlagName(c: string): c is FlagName {
  return c === 'i' || c === 'm' || c === 's' || c === 'U' || c === 'u' || c === 'R' || c === 'x';
}

/** Characters with a meaning of their own, which an escape makes literal. */
const META_CHARACTERS = '\\.+*?()|[]{}^$#&-~';

/**
 * Whether `\c` is the literal `c`: meta characters and ASCII punctuation other than `<` and `>`
 * (which are word-boundary escapes); letters and digits are reserved, non-ASCII is not escapable.
 */
function isEscapeable(c: string): boolean {
  if (META_CHARACTERS.includes(c)) return true;
  const cp = c.codePointAt(0)!;
  if (cp > 0x7f || isAsciiLetter(cp) || (cp >= DIGIT_0 && cp <= DIGIT_9)) return false;
  return c !== '<' && c !== '>';
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isHexDigit(c: number): boolean {
  return (c >= DIGIT_0 && c <= DIGIT_9) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

const ALPHABETIC = /^\p{Alphabetic}$/u;
const NUMERIC = /^\p{N}$/u;

/** Rust's rule: a letter or `_` first, then letters, digits, `_`, `.`, `[` and `]`. */
function isCaptureNameChar(c: number, first: boolean): boolean {
  const ch = String.fromCodePoint(c);
  if (ch === '_' || ALPHABETIC.test(ch)) return true;
  return !first && (ch === '.' || ch === '[' || ch === ']' || NUMERIC.test(ch));
}
