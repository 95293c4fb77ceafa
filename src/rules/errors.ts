// Parse errors (SPEC.md 13): a category, a span in UTF-8 bytes of the original expression
// (never crossing a line end), the 1-based line and column, details, and the upstream rendering.

export type ErrorCategory =
  | 'expected_name'
  | 'expected_literal'
  | 'parse_int'
  | 'count_mismatch'
  | 'parse_network'
  | 'incompatible_range_bounds'
  | 'invalid_character_escape'
  | 'missing_ending_quote'
  | 'invalid_raw_string_hash_count'
  | 'parse_regex'
  | 'parse_wildcard'
  | 'unknown_identifier'
  | 'unsupported_op'
  | 'type_mismatch'
  | 'invalid_index_access'
  | 'invalid_arguments_count'
  | 'invalid_argument_kind'
  | 'invalid_argument_type'
  | 'invalid_argument_value'
  | 'invalid_map_each_access'
  | 'invalid_list_name'
  | 'nesting_limit_exceeded'
  | 'unrecognised_input'
  | 'expression_too_long';

export type ErrorDetail = Readonly<Record<string, unknown>>;

export interface Span {
  /** UTF-8 byte offset in the original expression. */
  readonly start: number;
  /** Length in UTF-8 bytes, cut at the end of the line holding `start`. */
  readonly len: number;
}

export class RuleParseError extends Error {
  readonly category: ErrorCategory;
  readonly span: Span;
  readonly line: number;
  readonly column: number;
  readonly detail: ErrorDetail;
  /** The line of the expression the error is on, for rendering. */
  readonly lineText: string;
  /** What is wrong, without the position. */
  readonly reason: string;

  constructor(category: ErrorCategory, reason: string, detail: ErrorDetail, source: string, from: number, to: number) {
    const lineStart = source.lastIndexOf('\n', from - 1) + 1;
    let lineEnd = source.indexOf('\n', from);
    if (lineEnd === -1) lineEnd = source.length;
    const start = utf8Length(source, 0, from);
    const len = utf8Length(source, from, Math.min(to, lineEnd));
    const column = utf8Length(source, lineStart, from) + 1;
    let line = 1;
    for (let i = source.indexOf('\n'); i !== -1 && i < from; i = source.indexOf('\n', i + 1)) line++;
    super(`${reason} (line ${line}, column ${column})`);
    this.name = 'RuleParseError';
    this.category = category;
    this.span = { start, len };
    this.line = line;
    this.column = column;
    this.detail = detail;
    this.lineText = source.slice(lineStart, lineEnd);
    this.reason = reason;
  }

  /** The upstream engine's rendering: a header, the line, a caret line and the reason. */
  render(): string {
    return (
      `Filter parsing error (${this.line}:${this.column}):\n${this.lineText}\n` +
      `${' '.repeat(this.column - 1)}${'^'.repeat(Math.max(1, this.span.len))} ${this.reason}\n`
    );
  }
}

/** UTF-8 length of `text` between two UTF-16 indexes. */
export function utf8Length(text: string, from: number, to: number): number {
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
