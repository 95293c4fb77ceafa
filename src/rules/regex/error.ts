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

/** Long patterns are shown around the offending part only. */
const CONTEXT_CHARS = 30;

function describeSpan(pattern: string, start: number, end: number): string {
  const chars = Array.from(pattern);
  const where = end > start ? `characters ${start}..${end}` : `character ${start}`;
  const clip = (from: number, to: number, keep: 'start' | 'end') => {
    if (to - from <= CONTEXT_CHARS) return chars.slice(from, to).join('');
    return keep === 'start' ? `${chars.slice(from, from + CONTEXT_CHARS).join('')}…` : `…${chars.slice(to - CONTEXT_CHARS, to).join('')}`;
  };
  const marked = `${clip(0, start, 'end')}>>>${clip(start, end, 'start')}<<<${clip(end, chars.length, 'start')}`;
  return `${where} of the pattern: ${JSON.stringify(marked)}`;
}
