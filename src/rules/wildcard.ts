// Wildcard patterns (SPEC.md 7.5) for the `wildcard` / `strict wildcard` operators and
// `wildcard_replace` (11.6).
//
// A pattern is literal segments separated by stars, and it must match the whole value. With `*`
// as the only metacharacter, placing each middle segment at its leftmost occurrence after the
// previous one is both correct and linear: the first segment is a prefix, the last a suffix, and
// moving a middle segment further left never stops the rest from matching. The leftmost placement
// is also what lazy stars produce (each star, left to right, takes the shortest text that still
// lets the whole pattern match), so captures come from the same walk.
import { asciiLowercase, type Bytes } from './values.ts';

export class WildcardSyntaxError extends Error {
  override readonly name = 'WildcardSyntaxError';
}

export interface WildcardOptions {
  /** false: ASCII letters compare case-insensitively (`wildcard`); true: bytes compare exactly. */
  readonly caseSensitive: boolean;
  /** The most stars a pattern may have (the `wildcard_star_limit` setting); null or absent = unlimited. */
  readonly starLimit?: number | null;
}

export interface Wildcard {
  readonly starCount: number;
  /** The literal text between the stars; ASCII-lower-cased when `foldCase`. Every match contains each. */
  readonly segments: readonly Bytes[];
  /** Whether ASCII letters compare case-insensitively. */
  readonly foldCase: boolean;
  /** Whether the pattern matches the whole value. */
  test(value: Bytes): boolean;
  /**
   * Where the lazy stars matched: `[0, value.length, start1, end1, …]` (pair 0 is the whole value,
   * pair i the i-th star, the same layout as regex captures), or null when the pattern does not match.
   */
  captures(value: Bytes): number[] | null;
}

/** Compiles a pattern given as bytes (after the string literal's own escapes); throws WildcardSyntaxError. */
export function compileWildcard(pattern: Bytes, options: WildcardOptions): Wildcard {
  const segments = parseSegments(pattern);
  const starCount = segments.length - 1;
  const starLimit = options.starLimit ?? null;
  if (starLimit !== null && starCount > starLimit) {
    throw new WildcardSyntaxError(`the pattern has ${starCount} stars, more than the limit of ${starLimit}`);
  }
  // Case-insensitive matching folds the value, which costs a scan; a pattern without letters matches
  // the same either way.
  const foldCase = !options.caseSensitive && segments.some((segment) => /[A-Za-z]/.test(segment));
  return new SegmentWildcard(foldCase ? segments.map(asciiLowercase) : segments, foldCase);
}

function parseSegments(pattern: Bytes): string[] {
  const segments: string[] = [];
  let segment = '';
  let afterStar = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '*') {
      if (afterStar) throw new WildcardSyntaxError(`"**" at offset ${i - 1}: consecutive stars are not allowed`);
      segments.push(segment);
      segment = '';
      afterStar = true;
      continue;
    }
    afterStar = false;
    if (char !== '\\') {
      segment += char;
      continue;
    }
    const escaped = pattern[++i];
    if (escaped === '*' || escaped === '\\') {
      segment += escaped;
    } else if (escaped === undefined) {
      throw new WildcardSyntaxError('the pattern ends with a lone "\\" (write "\\\\" for a literal backslash)');
    } else {
      throw new WildcardSyntaxError(
        `invalid escape ${JSON.stringify(`\\${escaped}`)} at offset ${i - 1}: only "\\*" and "\\\\" are escapes`,
      );
    }
  }
  segments.push(segment);
  return segments;
}

class SegmentWildcard implements Wildcard {
  readonly starCount: number;
  readonly segments: readonly Bytes[];
  readonly foldCase: boolean;
  /** Without stars: the whole pattern. */
  readonly #prefix: string;
  readonly #middles: readonly string[];
  readonly #suffix: string;
  readonly #minLength: number;

  constructor(segments: readonly string[], foldCase: boolean) {
    this.starCount = segments.length - 1;
    this.segments = segments;
    this.foldCase = foldCase;
    this.#prefix = segments[0];
    this.#middles = segments.slice(1, -1);
    this.#suffix = segments.length > 1 ? segments[segments.length - 1] : '';
    this.#minLength = segments.reduce((sum, segment) => sum + segment.length, 0);
  }

  test(value: Bytes): boolean {
    const subject = this.foldCase ? asciiLowercase(value) : value;
    if (this.starCount === 0) return subject === this.#prefix;
    return this.#place(subject, null);
  }

  captures(value: Bytes): number[] | null {
    const subject = this.foldCase ? asciiLowercase(value) : value;
    if (this.starCount === 0) return subject === this.#prefix ? [0, subject.length] : null;
    const positions = [0, subject.length];
    return this.#place(subject, positions) ? positions : null;
  }

  /** Places the segments leftmost-first; appends each star's span to `positions` when given. */
  #place(subject: string, positions: number[] | null): boolean {
    if (subject.length < this.#minLength || !subject.startsWith(this.#prefix) || !subject.endsWith(this.#suffix)) {
      return false;
    }
    const suffixStart = subject.length - this.#suffix.length;
    let position = this.#prefix.length;
    for (const middle of this.#middles) {
      const found = subject.indexOf(middle, position);
      if (found < 0 || found + middle.length > suffixStart) return false;
      positions?.push(position, found);
      position = found + middle.length;
    }
    positions?.push(position, suffixStart);
    return true;
  }
}
