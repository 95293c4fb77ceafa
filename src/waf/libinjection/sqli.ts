// SQLi detection (ALGORITHM.md §1.7–§1.10): fingerprint the folded tokens of one context, test
// the fingerprint against the blacklist and the false-positive rules, and try the contexts in
// the reference's order.
import { TOKEN_VECTOR_SIZE, foldTokens } from './sqli-fold.ts';
import { appendFingerprintKey, isBlacklistedFingerprintKey } from './sqli-tables.ts';
import { SqlToken, SqliFlags, SqliTokenizer, TokenType } from './sqli-tokenizer.ts';

export interface SqliResult {
  readonly sqli: boolean;
  /** The fingerprint of the context that matched, as libinjection reports it; null when not SQLi. */
  readonly fingerprint: string | null;
}

const BACKTICK = 0x60;

/** One context's pass: tokenize, fold, fingerprint, check. Reused across calls. */
export class SqliFingerprinter {
  readonly tokenizer = new SqliTokenizer();
  readonly tokens: readonly SqlToken[] = Array.from({ length: TOKEN_VECTOR_SIZE }, () => new SqlToken());
  /** Tokens in the fingerprint (0–5). */
  count = 0;
  private readonly lastComment = new SqlToken();
  private input = '';
  /** The fingerprint as a blacklist key (see appendFingerprintKey). */
  private key = 0;

  /** Computes the fingerprint of `input` in the context `flags` (SqliFlags). */
  fingerprint(input: string, flags: number): void {
    this.input = input;
    this.tokenizer.reset(input, flags);
    const tokens = this.tokens;
    let count = foldTokens(this.tokenizer, tokens, this.lastComment);
    // An unterminated empty backtick name at the end (the reference's "PHP backquote comment")
    // counts as a comment.
    if (count > 2) {
      const last = tokens[count - 1];
      if (last.type === TokenType.BAREWORD && last.open === BACKTICK && last.len === 0 && last.close === 0) last.type = TokenType.COMMENT;
    }
    let key = 0;
    let evil = false;
    for (let i = 0; i < count; i++) {
      key = appendFingerprintKey(key, tokens[i].type);
      if (tokens[i].type === TokenType.EVIL) evil = true;
    }
    if (evil) {
      // Anything unparsable makes the whole fingerprint "X", which is blacklisted.
      tokens[0].clear();
      tokens[0].type = TokenType.EVIL;
      tokens[0].src = 'X';
      tokens[0].len = 1;
      tokens[1].clear();
      count = 1;
      key = appendFingerprintKey(0, TokenType.EVIL);
    }
    this.count = count;
    this.key = key;
  }

  fingerprintString(): string {
    let fp = '';
    for (let i = 0; i < this.count; i++) fp += String.fromCharCode(this.tokens[i].type);
    return fp;
  }

  /** The last fingerprint is blacklisted and no false-positive rule clears it (§1.8, §1.9). */
  isSqli(): boolean {
    if (this.count === 0 || !isBlacklistedFingerprintKey(this.key)) return false;
    return this.survivesFalsePositiveRules();
  }

  /** A `#` or `--x` was read: the input may mean something else to MySQL. */
  wantsMysqlReparse(): boolean {
    return this.tokenizer.statsCommentDdx > 0 || this.tokenizer.statsCommentHash > 0;
  }

  private survivesFalsePositiveRules(): boolean {
    const tv = this.tokens;
    const length = this.count;
    const statsTokens = this.tokenizer.statsTokens;
    if (length > 1 && tv[length - 1].type === TokenType.COMMENT && this.input.includes('sp_password')) return true;

    if (length === 2) {
      // Very short fingerprints: hard to tell from ordinary input, so most are let through.
      if (tv[1].type === TokenType.UNION) return statsTokens !== 2;
      if (tv[1].byteAt(0) === 0x23) return false; // a `#...` comment
      if (tv[0].type === TokenType.BAREWORD && tv[1].type === TokenType.COMMENT && tv[1].byteAt(0) !== 0x2f) return false;
      if (tv[0].type === TokenType.NUMBER && tv[1].type === TokenType.COMMENT) {
        if (tv[1].byteAt(0) === 0x2f) return true;
        if (statsTokens > 2) return true;
        // `1234 --` is SQLi, `1234-ABCD--` (base64-looking) is not. The reference indexes the
        // input with the number's length, not its end, and compares a signed char.
        const s = this.input;
        const i = tv[0].len;
        const next = i < s.length ? s.charCodeAt(i) : 0;
        if (next <= 32 || next >= 0x80) return true;
        const after = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (next === 0x2f && after === 0x2a) return true;
        if (next === 0x2d && after === 0x2d) return true;
        return false;
      }
      // Many people end their input with `--`: not SQLi on its own.
      if (tv[1].len > 2 && tv[1].byteAt(0) === 0x2d) return false;
      return true;
    }

    if (length === 3) {
      const t0 = tv[0].type;
      const t1 = tv[1].type;
      const t2 = tv[2].type;
      if (t0 === TokenType.STRING && (t1 === TokenType.OPERATOR || t1 === TokenType.LOGIC_OPERATOR) && t2 === TokenType.STRING) {
        // `'a' or 'b'` with both strings closed is plain text; SQLi only when it breaks out of quotes.
        return tv[0].open === 0 && tv[2].close === 0 && tv[0].close === tv[2].open;
      }
      if (
        t1 === TokenType.LOGIC_OPERATOR &&
        ((t0 === TokenType.STRING && t2 === TokenType.BAREWORD) ||
          (t0 === TokenType.BAREWORD && t2 === TokenType.NUMBER) ||
          (t0 === TokenType.NUMBER && (t2 === TokenType.NUMBER || t2 === TokenType.VARIABLE || t2 === TokenType.STRING)))
      ) {
        return statsTokens !== 3;
      }
      if (t1 === TokenType.KEYWORD) {
        return tv[1].len >= 5 && valueStartsWithInto(tv[1]);
      }
      return true;
    }
    return true;
  }
}

function valueStartsWithInto(tok: SqlToken): boolean {
  const into = 'INTO';
  for (let i = 0; i < into.length; i++) {
    const b = tok.byteAt(i);
    if ((b >= 0x61 && b <= 0x7a ? b - 0x20 : b) !== into.charCodeAt(i)) return false;
  }
  return true;
}

const NOT_SQLI: SqliResult = Object.freeze({ sqli: false, fingerprint: null });

const fingerprinter = new SqliFingerprinter();

function sqliIn(input: string, flags: number): boolean {
  fingerprinter.fingerprint(input, flags);
  return fingerprinter.isSqli();
}

/**
 * libinjection_sqli: is the binary string `input` (one char per byte) SQL injection, tried as-is,
 * as the rest of a `'` string and as the rest of a `"` string (§1.10)?
 */
export function detectSqli(input: string): SqliResult {
  if (input.length === 0) return NOT_SQLI;
  if (
    sqliIn(input, SqliFlags.QUOTE_NONE | SqliFlags.SQL_ANSI) ||
    (fingerprinter.wantsMysqlReparse() && sqliIn(input, SqliFlags.QUOTE_NONE | SqliFlags.SQL_MYSQL)) ||
    (input.includes("'") &&
      (sqliIn(input, SqliFlags.QUOTE_SINGLE | SqliFlags.SQL_ANSI) ||
        (fingerprinter.wantsMysqlReparse() && sqliIn(input, SqliFlags.QUOTE_SINGLE | SqliFlags.SQL_MYSQL)))) ||
    (input.includes('"') && sqliIn(input, SqliFlags.QUOTE_DOUBLE | SqliFlags.SQL_MYSQL))
  ) {
    return { sqli: true, fingerprint: fingerprinter.fingerprintString() };
  }
  return NOT_SQLI;
}
