/** A pattern that is not valid in the dialect, or whose compiled form exceeds the size budget. */
export class RegexSyntaxError extends Error {
  /** Start of the offending part of the pattern, in characters (code points) from its beginning. */
  readonly start: number;
  /** End (exclusive) of the offending part, in characters. */
  readonly end: number;

  constructor(what: string, pattern: string, start: number, end: number) {
    super(`regex parse error: ${what} at ${describeSpan(pattern, start, end)}`);
    this.name = 'RegexSyntaxError';
    this.start = start;
    this.end = end;
  }
}

function describeSpan(pattern: string, start: number, end: number): string {
  const chars = Array.from(pattern);
  const where = end > start ? `characters ${start}..${end}` : `character ${start}`;
  const marked = `${chars.slice(0, start).join('')}>>>${chars.slice(start, end).join('')}<<<${chars.slice(end).join('')}`;
  return `${where} of the pattern: ${JSON.stringify(marked)}`;
}
