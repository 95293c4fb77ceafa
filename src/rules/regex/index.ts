// TEMPORARY shim of the regex engine's API on top of JS RegExp, only so the function library can
// be type-checked and tested before the real engine is merged. Not linear-time; do not ship.
export class RegexSyntaxError extends Error {}

export interface Regex {
  readonly source: string;
  /** Capture groups, not counting group 0 (the whole match). */
  readonly groupCount: number;
  test(haystack: string): boolean;
  captures(haystack: string): number[] | null;
}

export function compileRegex(pattern: string, _options?: { sizeLimit?: number }): Regex {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'd');
  } catch (error) {
    throw new RegexSyntaxError((error as Error).message);
  }
  const groupCount = new RegExp(`${pattern}|`).exec('')!.length - 1;
  return {
    source: pattern,
    groupCount,
    test: (haystack) => re.test(haystack),
    captures(haystack) {
      const match = re.exec(haystack);
      if (match === null) return null;
      const positions: number[] = [];
      for (const span of match.indices!) positions.push(span?.[0] ?? -1, span?.[1] ?? -1);
      return positions;
    },
  };
}
