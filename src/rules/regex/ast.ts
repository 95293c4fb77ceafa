// The syntax tree of a pattern, as the parser reads it: no flag is applied yet (the translator does
// that), except `x`, which only changes how the text is read. Spans are code point offsets.

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** The flags of `(?flags)` and `(?flags:…)`: true = set, false = cleared (after `-`), absent = unchanged. */
export type FlagName = 'i' | 'm' | 's' | 'U' | 'u' | 'R' | 'x';
export type FlagSettings = Readonly<Partial<Record<FlagName, boolean>>>;

export type AssertionKind =
  | 'startLine' // ^
  | 'endLine' // $
  | 'startText' // \A
  | 'endText' // \z
  | 'wordBoundary' // \b
  | 'notWordBoundary' // \B
  | 'wordStart' // \b{start}, \<
  | 'wordEnd' // \b{end}, \>
  | 'wordStartHalf' // \b{start-half}
  | 'wordEndHalf'; // \b{end-half}

export interface Literal {
  readonly type: 'literal';
  readonly span: Span;
  /** The code point written. */
  readonly c: number;
  /** Written as `\xHH`: outside Unicode mode it stands for the byte HH rather than the character. */
  readonly byteEscape: boolean;
}

export type PerlKind = 'digit' | 'space' | 'word';

export interface PerlClass {
  readonly type: 'perl';
  readonly span: Span;
  readonly kind: PerlKind;
  readonly negated: boolean;
}

/** `\pL`, `\p{Greek}`, `\p{sc=Greek}`, `\P{…}`, `\p{gc!=L}`. */
export interface UnicodeClass {
  readonly type: 'unicode';
  readonly span: Span;
  /** Already combines `\P` and `!=`. */
  readonly negated: boolean;
  /** The property name, or the only name when no value is given (`\p{Greek}`). */
  readonly name: string;
  readonly value: string | undefined;
}

export type AsciiClassKind =
  | 'alnum'
  | 'alpha'
  | 'ascii'
  | 'blank'
  | 'cntrl'
  | 'digit'
  | 'graph'
  | 'lower'
  | 'print'
  | 'punct'
  | 'space'
  | 'upper'
  | 'word'
  | 'xdigit';

export type ClassSetOp = 'intersection' | 'difference' | 'symmetricDifference';

export type ClassSet =
  | ClassItem
  | { readonly type: 'op'; readonly op: ClassSetOp; readonly lhs: ClassSet; readonly rhs: ClassSet };

export type ClassItem =
  | { readonly type: 'empty' }
  | Literal
  | { readonly type: 'range'; readonly start: Literal; readonly end: Literal }
  | { readonly type: 'ascii'; readonly kind: AsciiClassKind; readonly negated: boolean }
  | UnicodeClass
  | PerlClass
  | BracketedClass
  | { readonly type: 'union'; readonly items: readonly ClassItem[] };

export interface BracketedClass {
  readonly type: 'bracketed';
  readonly span: Span;
  readonly negated: boolean;
  readonly set: ClassSet;
}

export type GroupKind =
  | { readonly type: 'capture'; readonly index: number; readonly name: string | undefined }
  | { readonly type: 'nonCapturing'; readonly flags: FlagSettings };

export type Ast =
  | { readonly type: 'empty'; readonly span: Span }
  /** `(?flags)`: applies to the rest of the enclosing group. */
  | { readonly type: 'flags'; readonly span: Span; readonly flags: FlagSettings }
  | Literal
  | { readonly type: 'dot'; readonly span: Span }
  | { readonly type: 'assertion'; readonly span: Span; readonly kind: AssertionKind }
  | PerlClass
  | UnicodeClass
  | BracketedClass
  | {
      readonly type: 'repetition';
      readonly span: Span;
      readonly min: number;
      /** undefined = unbounded. */
      readonly max: number | undefined;
      readonly greedy: boolean;
      readonly sub: Ast;
    }
  | { readonly type: 'group'; readonly span: Span; readonly kind: GroupKind; readonly sub: Ast }
  | { readonly type: 'concat'; readonly span: Span; readonly subs: readonly Ast[] }
  | { readonly type: 'alternation'; readonly span: Span; readonly subs: readonly Ast[] };
