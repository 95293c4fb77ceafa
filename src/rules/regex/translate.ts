// Syntax tree → HIR: applies the flags (in scope from where they are set to the end of the
// enclosing group) as Rust's translator does in `regex::bytes` mode with Unicode off by default:
// without `u`, characters are matched as their UTF-8 bytes, `\xHH` is the raw byte HH, classes are
// byte sets, and `\d \s \w`, POSIX classes, `\b` and case folding are ASCII-only.
import type { AssertionKind, Ast, AsciiClassKind, ClassItem, ClassSet, FlagSettings, Literal, PerlKind, Span } from './ast.ts';
import { RegexSyntaxError } from './error.ts';
import { concat, EMPTY, type Hir } from './hir.ts';
import { canonicalize, difference, intersect, negate, type Ranges, symmetricDifference, union } from './intervals.ts';
import {
  LOOK_END,
  LOOK_END_CRLF,
  LOOK_END_LF,
  LOOK_NOT_WORD_ASCII,
  LOOK_START,
  LOOK_START_CRLF,
  LOOK_START_LF,
  LOOK_UNICODE_OFFSET,
  LOOK_WORD_ASCII,
  LOOK_WORD_END_ASCII,
  LOOK_WORD_END_HALF_ASCII,
  LOOK_WORD_START_ASCII,
  LOOK_WORD_START_HALF_ASCII,
} from './looks.ts';
import { caseFoldOrbit, caseFoldRanges, unicodePerlRanges, unicodePropertyRanges } from './unicode.ts';
import { encodeUtf8 } from './utf8.ts';

interface Flags {
  readonly caseInsensitive: boolean;
  readonly multiLine: boolean;
  readonly dotMatchesNewLine: boolean;
  readonly swapGreed: boolean;
  readonly unicode: boolean;
  readonly crlf: boolean;
}

/** wirefilter's configuration: every flag off, Unicode included. */
const INITIAL_FLAGS: Flags = {
  caseInsensitive: false,
  multiLine: false,
  dotMatchesNewLine: false,
  swapGreed: false,
  unicode: false,
  crlf: false,
};

const MAX_BYTE = 0xff;
const MAX_CODE_POINT = 0x10ffff;

export function translate(ast: Ast, pattern: string): Hir {
  return new Translator(pattern).translate(ast);
}

class Translator {
  private readonly pattern: string;
  private flags: Flags = INITIAL_FLAGS;

  constructor(pattern: string) {
    this.pattern = pattern;
  }

  private fail(what: string, span: Span): never {
    throw new RegexSyntaxError(what, this.pattern, span.start, span.end);
  }

  translate(ast: Ast): Hir {
    switch (ast.type) {
      case 'empty':
        return EMPTY;
      case 'flags':
        this.flags = withSettings(this.flags, ast.flags);
        return EMPTY;
      case 'literal':
        return this.literal(ast);
      case 'dot':
        return this.dot();
      case 'assertion':
        return { kind: 'look', look: this.look(ast.kind) };
      case 'perl':
        return this.classHir(this.perl(ast.kind, ast.negated));
      case 'unicode':
        return this.classHir(this.unicodeClass(ast));
      case 'bracketed':
        return this.classHir(this.bracketed(ast.negated, ast.set));
      case 'repetition': {
        const sub = this.translate(ast.sub);
        // As in Rust, x{0} is nothing at all: capture groups inside it are gone (see groupCount).
        if (ast.max === 0) return EMPTY;
        return { kind: 'repeat', min: ast.min, max: ast.max, greedy: this.flags.swapGreed ? !ast.greedy : ast.greedy, sub };
      }
      case 'group': {
        const outer = this.flags;
        if (ast.kind.type === 'nonCapturing') this.flags = withSettings(outer, ast.kind.flags);
        const sub = this.translate(ast.sub);
        this.flags = outer;
        return ast.kind.type === 'capture' ? { kind: 'capture', index: ast.kind.index, sub } : sub;
      }
      case 'concat':
        // In order: a `(?flags)` changes how the items after it translate.
        return concat(ast.subs.map((sub) => this.translate(sub)));
      case 'alternation':
        return { kind: 'alternation', subs: ast.subs.map((sub) => this.translate(sub)) };
    }
  }

  private literal(literal: Literal): Hir {
    const { unicode, caseInsensitive } = this.flags;
    if (!unicode && literal.byteEscape && literal.c > 0x7f) return { kind: 'literal', bytes: [literal.c] };
    const c = literal.c;
    if (caseInsensitive) {
      if (unicode) {
        const orbit = caseFoldOrbit(c);
        if (orbit !== undefined) return this.classHir(canonicalize(orbit.flatMap((cp) => [cp, cp])));
      } else if (isAsciiLetter(c)) {
        return { kind: 'byteClass', ranges: canonicalize([c, c, c ^ 0x20, c ^ 0x20]) };
      }
    }
    return { kind: 'literal', bytes: encodeUtf8(c) };
  }

  private dot(): Hir {
    const { unicode, dotMatchesNewLine, crlf } = this.flags;
    const max = unicode ? MAX_CODE_POINT : MAX_BYTE;
    const excluded = dotMatchesNewLine ? [] : crlf ? [0x0a, 0x0a, 0x0d, 0x0d] : [0x0a, 0x0a];
    return this.classHir(negate(excluded, max));
  }

  private look(kind: AssertionKind): number {
    const { multiLine, crlf, unicode } = this.flags;
    const word = unicode ? LOOK_UNICODE_OFFSET : 0;
    switch (kind) {
      case 'startLine':
        return multiLine ? (crlf ? LOOK_START_CRLF : LOOK_START_LF) : LOOK_START;
      case 'endLine':
        return multiLine ? (crlf ? LOOK_END_CRLF : LOOK_END_LF) : LOOK_END;
      case 'startText':
        return LOOK_START;
      case 'endText':
        return LOOK_END;
      case 'wordBoundary':
        return LOOK_WORD_ASCII + word;
      case 'notWordBoundary':
        return LOOK_NOT_WORD_ASCII + word;
      case 'wordStart':
        return LOOK_WORD_START_ASCII + word;
      case 'wordEnd':
        return LOOK_WORD_END_ASCII + word;
      case 'wordStartHalf':
        return LOOK_WORD_START_HALF_ASCII + word;
      case 'wordEndHalf':
        return LOOK_WORD_END_HALF_ASCII + word;
    }
  }

  /** A class in the current mode: byte ranges, or code point ranges in Unicode mode. */
  private classHir(ranges: Ranges): Hir {
    if (!this.flags.unicode) return { kind: 'byteClass', ranges };
    // An all-ASCII Unicode class matches the same bytes as a byte class.
    const ascii = ranges.length === 0 || ranges[ranges.length - 1] <= 0x7f;
    return { kind: ascii ? 'byteClass' : 'charClass', ranges };
  }

  private perl(kind: PerlKind, negated: boolean): Ranges {
    if (this.flags.unicode) {
      const ranges = unicodePerlRanges(kind);
      return negated ? negate(ranges, MAX_CODE_POINT) : ranges;
    }
    const ranges = ASCII_CLASSES[kind];
    return negated ? negate(ranges, MAX_BYTE) : ranges;
  }

  private unicodeClass(ast: { readonly span: Span; readonly negated: boolean; readonly name: string; readonly value: string | undefined }): Ranges {
    if (!this.flags.unicode) this.fail('Unicode classes (\\p, \\P) need Unicode mode (?u)', ast.span);
    const ranges = unicodePropertyRanges(ast.name, ast.value);
    if (typeof ranges === 'string') this.fail(ranges, ast.span);
    return this.foldAndNegate(ranges, ast.negated);
  }

  private foldAndNegate(ranges: Ranges, negated: boolean): Ranges {
    const { unicode, caseInsensitive } = this.flags;
    const folded = caseInsensitive ? (unicode ? caseFoldRanges(ranges) : asciiCaseFold(ranges)) : ranges;
    return negated ? negate(folded, unicode ? MAX_CODE_POINT : MAX_BYTE) : folded;
  }

  private bracketed(negated: boolean, set: ClassSet): Ranges {
    return this.foldAndNegate(this.classSet(set), negated);
  }

  private classSet(set: ClassSet): Ranges {
    if (set.type !== 'op') return this.classItem(set);
    const fold = (ranges: Ranges) => this.foldAndNegate(ranges, false);
    const lhs = fold(this.classSet(set.lhs));
    const rhs = fold(this.classSet(set.rhs));
    switch (set.op) {
      case 'intersection':
        return intersect(lhs, rhs);
      case 'difference':
        return difference(lhs, rhs);
      case 'symmetricDifference':
        return symmetricDifference(lhs, rhs);
    }
  }

  private classItem(item: ClassItem): Ranges {
    switch (item.type) {
      case 'empty':
        return [];
      case 'literal': {
        const c = this.classCodePoint(item);
        return [c, c];
      }
      case 'range':
        return [this.classCodePoint(item.start), this.classCodePoint(item.end)];
      case 'ascii':
        return this.foldAndNegate(ASCII_CLASSES[item.kind], item.negated);
      case 'unicode':
        return this.unicodeClass(item);
      case 'perl':
        return this.perl(item.kind, item.negated);
      case 'bracketed':
        return this.bracketed(item.negated, item.set);
      case 'union':
        return item.items.reduce<Ranges>((all, sub) => union(all, this.classItem(sub)), []);
    }
  }

  /** A class member: any character in Unicode mode; otherwise an ASCII character or a `\xHH` byte. */
  private classCodePoint(literal: Literal): number {
    if (this.flags.unicode || literal.c <= 0x7f || literal.byteEscape) return literal.c;
    return this.fail('non-ASCII characters in a class need Unicode mode (?u); use \\xHH for bytes', literal.span);
  }
}

function withSettings(flags: Flags, settings: FlagSettings): Flags {
  return {
    caseInsensitive: settings.i ?? flags.caseInsensitive,
    multiLine: settings.m ?? flags.multiLine,
    dotMatchesNewLine: settings.s ?? flags.dotMatchesNewLine,
    swapGreed: settings.U ?? flags.swapGreed,
    unicode: settings.u ?? flags.unicode,
    crlf: settings.R ?? flags.crlf,
  };
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Adds the other case of every ASCII letter in the set. */
function asciiCaseFold(ranges: Ranges): Ranges {
  const added = [...ranges];
  for (const [from, to] of [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ]) {
    for (let i = 0; i < ranges.length; i += 2) {
      const lo = Math.max(ranges[i], from);
      const hi = Math.min(ranges[i + 1], to);
      if (lo <= hi) added.push(lo ^ 0x20, hi ^ 0x20);
    }
  }
  return canonicalize(added);
}

const ASCII_CLASSES: Record<AsciiClassKind | PerlKind, Ranges> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: [0x30, 0x39],
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};
