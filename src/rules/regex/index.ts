// The regular expressions of the rules language (SPEC.md 7.4): the Rust `regex` crate's dialect
// in `regex::bytes` mode with Unicode off unless `(?u)`, matched in linear time over byte strings.
//
// pattern ─parser─▶ syntax tree ─translate─▶ HIR (flags applied, bytes) ─nfa─▶ Thompson NFA, then
//   test():     one `indexOf` for a plain literal; V8's own engine for the patterns it runs in
//               linear time (backtrack-free.ts: no variable repetition, or one in a pattern
//               anchored at the start) — for a multi-line pattern, on haystacks without a line
//               feed, where (?m)^ and (?m)$ are the text's start and end; otherwise a lazy DFA (forward, skipping ahead
//               with `indexOf` on a literal prefix; or backwards from the end for patterns that
//               must match there), the Pike VM when the DFA gives up;
//   captures(): the Pike VM (leftmost-first), after `test()` has ruled out haystacks without a match.
// Every stage is O(pattern × haystack): nothing backtracks.
//
// Where this differs from Rust's regex crate (regex-syntax 0.8 / regex-automata 0.4):
// - `\p{…}` knows General_Category, Script, Script_Extensions and ECMAScript's binary properties,
//   with the JavaScript engine's Unicode version (see unicode.ts); Age, Grapheme_Cluster_Break,
//   Word_Break, Sentence_Break and the few binary properties JavaScript lacks are rejected.
// - A Unicode `\b` right after a stray UTF-8 continuation byte that follows a word character
//   ("a\xA9" at its end) does not hold here (invalid UTF-8 is not a word character); Rust's
//   lenient reverse decoding says it does.
// - The compiled-size accounting is this engine's own: thresholds are not Rust's byte for byte.
// As in Rust, `a++` is `(a+)+` (there are no possessive quantifiers) and `(?R)` is the CRLF flag.
import { backtrackFreeRegExps } from './backtrack-free.ts';
import { analyze, requiredLiteralSet, type Analysis, type Needle } from './literals.ts';
export type { Needle } from './literals.ts';
import { LazyDfa } from './dfa.ts';
import { RegexSyntaxError } from './error.ts';
import { highestCaptureIndex, type Hir } from './hir.ts';
import { LOOK_END, LOOK_END_LF, LOOK_START, LOOK_START_LF } from './looks.ts';
import { compileNfa, type Nfa, SizeLimitExceeded } from './nfa.ts';
import { parse } from './parser.ts';
import { PikeVm } from './pikevm.ts';
import { translate } from './translate.ts';

export { RegexSyntaxError } from './error.ts';

export interface RegexOptions {
  /** Budget for the compiled automaton, in bytes (roughly); default 10 MiB. Exceeded → RegexSyntaxError. */
  readonly sizeLimit?: number;
  /** Let V8's engine run test() for patterns in its linear-time subset (default true; tests compare both ways). */
  readonly useV8?: boolean;
}

export interface Regex {
  readonly source: string;
  /** Number of capture groups, not counting group 0. */
  readonly groupCount: number;
  /**
   * A string every match contains: in the haystack itself, or (`folded`) in its `toLowerCase()`.
   * Rule sets use it to skip the regex when the string is absent.
   */
  readonly mustContain: Needle | undefined;
  /**
   * Literals (A–Z given as a–z) one of which every match contains, compared ignoring ASCII case;
   * undefined when there is no such set worth searching for. For prefilters that decide many
   * patterns in one multi-literal pass (see multi-search.ts).
   */
  readonly requiredLiterals: readonly string[] | undefined;
  /** Unanchored search: is there a match anywhere in `haystack` (a byte string)? */
  test(haystack: string): boolean;
  /**
   * Leftmost-first match (Perl/Rust semantics) with capture offsets: [start0, end0, start1, end1, …],
   * -1 for groups that did not participate; null when no match.
   */
  captures(haystack: string): number[] | null;
}

const DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024;

/** Compiles `pattern` (its Unicode text); throws RegexSyntaxError. */
export function compileRegex(pattern: string, options?: RegexOptions): Regex {
  const sizeLimit = options?.sizeLimit ?? DEFAULT_SIZE_LIMIT;
  const hir = translate(parse(pattern), pattern);
  const groupCount = highestCaptureIndex(hir);
  const analysis = analyze(hir);
  let forward: Nfa;
  try {
    forward = compileNfa(hir, groupCount, false, sizeLimit);
  } catch (error) {
    if (!(error instanceof SizeLimitExceeded)) throw error;
    throw new RegexSyntaxError(`compiled regex exceeds the size limit of ${sizeLimit} bytes`, pattern, 0, Array.from(pattern).length);
  }
  let reverse: Nfa | undefined;
  if (analysis.anchoredEnd && !analysis.anchoredStart && analysis.literal === undefined) {
    try {
      reverse = compileNfa(hir, 0, true, sizeLimit);
    } catch (error) {
      // Without the reverse automaton, the forward search is still correct, only slower.
      if (!(error instanceof SizeLimitExceeded)) throw error;
    }
  }
  const useV8 = options?.useV8 !== false && analysis.literal === undefined;
  const v8 = useV8 ? backtrackFreeRegExps(hir, analysis.anchoredStart) : undefined;
  const singleLine = useV8 && v8 === undefined ? withTextAnchors(hir) : undefined;
  const v8SingleLine = singleLine === undefined ? undefined : backtrackFreeRegExps(singleLine, analyze(singleLine).anchoredStart);
  return new CompiledRegex(pattern, groupCount, analysis, requiredLiteralSet(hir), forward, reverse, v8, v8SingleLine);
}

class CompiledRegex implements Regex {
  readonly source: string;
  readonly groupCount: number;
  readonly mustContain: Needle | undefined;
  readonly requiredLiterals: readonly string[] | undefined;
  private readonly literal: Needle | undefined;
  /** test() and captures() when the pattern is in V8's linear-time subset. */
  private readonly v8: V8RegExps | undefined;
  /** test() and captures() on haystacks without a line feed, when the pattern is in the subset there. */
  private readonly v8SingleLine: V8RegExps | undefined;
  private readonly prefix: Needle | undefined;
  /** Looked for before a forward search that has no prefix to skip with. */
  private readonly required: Needle | undefined;
  private readonly anchoredStart: boolean;
  private readonly forward: Nfa;
  private readonly reverse: Nfa | undefined;
  // Built on first use: most patterns only ever need one of them.
  private forwardDfa: LazyDfa | undefined;
  private reverseDfa: LazyDfa | undefined;
  private testVm: PikeVm | undefined;
  private capturesVm: PikeVm | undefined;

  constructor(
    source: string,
    groupCount: number,
    analysis: Analysis,
    requiredLiterals: readonly string[] | undefined,
    forward: Nfa,
    reverse: Nfa | undefined,
    v8: V8RegExps | undefined,
    v8SingleLine: V8RegExps | undefined,
  ) {
    this.source = source;
    this.groupCount = groupCount;
    this.literal = analysis.literal;
    this.v8 = v8;
    this.v8SingleLine = v8SingleLine;
    this.mustContain = analysis.required ?? analysis.prefix ?? analysis.literal;
    this.requiredLiterals = requiredLiterals;
    this.anchoredStart = analysis.anchoredStart;
    this.prefix = analysis.anchoredStart ? undefined : analysis.prefix;
    this.required = analysis.anchoredStart || this.prefix !== undefined ? undefined : analysis.required;
    this.forward = forward;
    this.reverse = reverse;
  }

  test(haystack: string): boolean {
    if (this.literal !== undefined) return find(haystack, this.literal, 0) !== -1;
    if (this.v8 !== undefined) return this.v8.test.test(haystack);
    if (this.v8SingleLine !== undefined && haystack.indexOf('\n') === -1) return this.v8SingleLine.test.test(haystack);
    let found: boolean | undefined;
    if (this.reverse !== undefined) {
      this.reverseDfa ??= new LazyDfa(this.reverse, { reverse: true, anchored: true, restartStates: false });
      found = this.reverseDfa.searchReverse(haystack);
    } else {
      if (this.required !== undefined && find(haystack, this.required, 0) === -1) return false;
      this.forwardDfa ??= new LazyDfa(this.forward, {
        reverse: false,
        anchored: this.anchoredStart,
        restartStates: this.prefix !== undefined,
      });
      const prefix = this.prefix;
      found =
        prefix === undefined
          ? this.forwardDfa.searchForward(haystack)
          : this.forwardDfa.searchForward(haystack, prefix.folded ? haystack.toLowerCase() : haystack, prefix.text);
    }
    if (found !== undefined) return found;
    this.testVm ??= new PikeVm(this.forward, false);
    return this.testVm.search(haystack, 0, this.anchoredStart) !== null;
  }

  captures(haystack: string): number[] | null {
    if (this.literal !== undefined && this.groupCount === 0) {
      const at = find(haystack, this.literal, 0);
      return at === -1 ? null : [at, at + this.literal.text.length];
    }
    const v8 = this.v8 ?? (this.v8SingleLine !== undefined && haystack.indexOf('\n') === -1 ? this.v8SingleLine : undefined);
    if (v8 !== undefined) {
      const match = v8.captures.exec(haystack);
      if (match === null) return null;
      const slots: number[] = [];
      for (let i = 0; i <= this.groupCount; i++) {
        const span = match.indices?.[i];
        slots.push(span?.[0] ?? -1, span?.[1] ?? -1);
      }
      return slots;
    }
    if (!this.test(haystack)) return null;
    // No match starts before the first occurrence of the prefix.
    const from = this.prefix === undefined ? 0 : find(haystack, this.prefix, 0);
    this.capturesVm ??= new PikeVm(this.forward, true);
    const slots = this.capturesVm.search(haystack, from, this.anchoredStart);
    return slots === null ? null : Array.from(slots);
  }
}

type V8RegExps = { readonly test: RegExp; readonly captures: RegExp };

/**
 * `hir` with (?m)^ and (?m)$ as the text's start and end, which is what they are on a haystack
 * without a line feed; undefined when it has neither.
 */
function withTextAnchors(hir: Hir): Hir | undefined {
  let changed = false;
  const map = (node: Hir): Hir => {
    switch (node.kind) {
      case 'look':
        if (node.look !== LOOK_START_LF && node.look !== LOOK_END_LF) return node;
        changed = true;
        return { kind: 'look', look: node.look === LOOK_START_LF ? LOOK_START : LOOK_END };
      case 'repeat':
        return { ...node, sub: map(node.sub) };
      case 'capture':
        return { ...node, sub: map(node.sub) };
      case 'concat':
      case 'alternation':
        return { kind: node.kind, subs: node.subs.map(map) };
      default:
        return node;
    }
  };
  const mapped = map(hir);
  return changed ? mapped : undefined;
}

function find(haystack: string, needle: Needle, from: number): number {
  return (needle.folded ? haystack.toLowerCase() : haystack).indexOf(needle.text, from);
}
