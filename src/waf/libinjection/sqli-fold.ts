// Folding (ALGORITHM.md §1.6): reads tokens on demand and collapses harmless structure so that
// at most five significant tokens remain. The rules, their order and their odd corners (the
// literal "drop k", the rules that fall through) are the reference's; changing any of them
// changes fingerprints.
import { lookupPhrase } from './sqli-tables.ts';
import { type SqlToken, type SqliTokenizer, TokenType } from './sqli-tokenizer.ts';

/** Fingerprints hold at most this many tokens. */
const MAX_FOLDED_TOKENS = 5;
/** Slots a token vector for foldTokens needs: a sixth token may be read to decide the fifth. */
export const TOKEN_VECTOR_SIZE = MAX_FOLDED_TOKENS + 1;

const PLUS = 0x2b;
const MINUS = 0x2d;
const BANG = 0x21;
const TILDE = 0x7e;
const STAR = 0x2a;
const SLASH = 0x2f;
const PERCENT = 0x25;

function upper(b: number): number {
  return b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
}

/** The token's whole value equals `word` (upper case), ASCII-case-insensitively. */
function valueEquals(tok: SqlToken, word: string): boolean {
  if (tok.len !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if (upper(tok.src.charCodeAt(tok.start + i)) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** `+ - ! ~ !! NOT` (§1.6.1) */
function isUnaryOperator(tok: SqlToken): boolean {
  if (tok.type !== TokenType.OPERATOR) return false;
  switch (tok.len) {
    case 1: {
      const b = tok.byteAt(0);
      return b === PLUS || b === MINUS || b === BANG || b === TILDE;
    }
    case 2:
      return tok.byteAt(0) === BANG && tok.byteAt(1) === BANG;
    case 3:
      return valueEquals(tok, 'NOT');
    default:
      return false;
  }
}

function isArithmeticOperator(tok: SqlToken): boolean {
  if (tok.type !== TokenType.OPERATOR || tok.len !== 1) return false;
  const b = tok.byteAt(0);
  return b === STAR || b === SLASH || b === MINUS || b === PLUS || b === PERCENT;
}

function isMergeableFirst(type: number): boolean {
  return (
    type === TokenType.KEYWORD ||
    type === TokenType.BAREWORD ||
    type === TokenType.OPERATOR ||
    type === TokenType.UNION ||
    type === TokenType.FUNCTION ||
    type === TokenType.EXPRESSION ||
    type === TokenType.TSQL ||
    type === TokenType.SQLTYPE
  );
}

/** `UNION` `ALL` → `UNION ALL` (§1.6.2); true when `a` became the merged phrase. */
function mergeWords(a: SqlToken, b: SqlToken): boolean {
  if (!isMergeableFirst(a.type) || !(isMergeableFirst(b.type) || b.type === TokenType.LOGIC_OPERATOR)) return false;
  const type = lookupPhrase(a.src, a.start, a.len, b.src, b.start, b.len);
  if (type === 0) return false;
  a.type = type;
  a.src = `${a.value()} ${b.value()}`;
  a.start = 0;
  a.len = a.src.length;
  return true;
}

/** Names that are functions when a `(` follows them (rule L4.7). */
const CALLABLE_NAMES = [
  'USER_ID',
  'USER_NAME',
  'DATABASE',
  'PASSWORD',
  'USER',
  'CURRENT_USER',
  'CURRENT_DATE',
  'CURRENT_TIME',
  'CURRENT_TIMESTAMP',
  'LOCALTIME',
  'LOCALTIMESTAMP',
];

function isCallableName(tok: SqlToken): boolean {
  for (const name of CALLABLE_NAMES) if (valueEquals(tok, name)) return true;
  return false;
}

/** The value, up to its first NUL, contains `_`. */
function containsUnderscore(tok: SqlToken): boolean {
  for (let i = 0; i < tok.len; i++) {
    const b = tok.byteAt(i);
    if (b === 0) return false;
    if (b === 0x5f) return true;
  }
  return false;
}

function startsWithIf(tok: SqlToken): boolean {
  return upper(tok.byteAt(0)) === 0x49 && upper(tok.byteAt(1)) === 0x46;
}

/** Rule L1: five-token shapes that restart folding. */
function isFiveTokenReset(tv: readonly SqlToken[]): boolean {
  const t0 = tv[0].type;
  const t1 = tv[1].type;
  const t2 = tv[2].type;
  const t3 = tv[3].type;
  const t4 = tv[4].type;
  return (
    (t0 === TokenType.NUMBER && (t1 === TokenType.OPERATOR || t1 === TokenType.COMMA) && t2 === TokenType.LEFTPARENS && t3 === TokenType.NUMBER && t4 === TokenType.RIGHTPARENS) ||
    (t0 === TokenType.BAREWORD && t1 === TokenType.OPERATOR && t2 === TokenType.LEFTPARENS && (t3 === TokenType.BAREWORD || t3 === TokenType.NUMBER) && t4 === TokenType.RIGHTPARENS) ||
    (t0 === TokenType.NUMBER && t1 === TokenType.RIGHTPARENS && t2 === TokenType.COMMA && t3 === TokenType.LEFTPARENS && t4 === TokenType.NUMBER) ||
    (t0 === TokenType.BAREWORD && t1 === TokenType.RIGHTPARENS && t2 === TokenType.OPERATOR && t3 === TokenType.LEFTPARENS && t4 === TokenType.BAREWORD)
  );
}

function isOneOf4(type: number, a: number, b: number, c: number, d: number): boolean {
  return type === a || type === b || type === c || type === d;
}

/**
 * Reads the next token into tv[pos]. Returns the next free slot: pos + 1, or pos again for a
 * comment (which only becomes lastComment: comments inside the input vanish); -1 at the end.
 */
function readToken(tokenizer: SqliTokenizer, tv: readonly SqlToken[], pos: number, lastComment: SqlToken): number {
  const tok = tv[pos];
  if (!tokenizer.next(tok)) return -1;
  if (tok.type === TokenType.COMMENT) {
    lastComment.copyFrom(tok);
    return pos;
  }
  lastComment.type = TokenType.NONE;
  return pos + 1;
}

/**
 * Folds the tokens of `tokenizer` (already reset to an input and context) into `tv`, which must
 * have TOKEN_VECTOR_SIZE slots; `lastComment` is scratch. Returns how many leading tokens of `tv`
 * are the result (0–5).
 */
export function foldTokens(tokenizer: SqliTokenizer, tv: readonly SqlToken[], lastComment: SqlToken): number {
  lastComment.clear();
  // Leading comments, `(`, SQL types and unary operators say nothing: skip them.
  for (;;) {
    if (!tokenizer.next(tv[0])) return 0;
    const type = tv[0].type;
    if (!(type === TokenType.COMMENT || type === TokenType.LEFTPARENS || type === TokenType.SQLTYPE || isUnaryOperator(tv[0]))) break;
  }
  let more = true;
  let pos = 1;
  let left = 0;

  for (;;) {
    // L1
    if (pos >= MAX_FOLDED_TOKENS && isFiveTokenReset(tv)) {
      if (pos > MAX_FOLDED_TOKENS) {
        tv[1].copyFrom(tv[MAX_FOLDED_TOKENS]);
        pos = 2;
      } else {
        pos = 1;
      }
      left = 0;
    }
    // L2
    if (!more || left >= MAX_FOLDED_TOKENS) {
      left = pos;
      break;
    }
    // L3
    while (more && pos <= MAX_FOLDED_TOKENS && pos - left < 2) {
      const next = readToken(tokenizer, tv, pos, lastComment);
      if (next === -1) more = false;
      else pos = next;
    }
    if (pos - left < 2) {
      left = pos;
      continue;
    }

    // L4: two-token rules
    const a = tv[left];
    const b = tv[left + 1];
    if (a.type === TokenType.STRING && b.type === TokenType.STRING) {
      pos -= 1;
      continue;
    } else if (a.type === TokenType.SEMICOLON && b.type === TokenType.SEMICOLON) {
      pos -= 1;
      continue;
    } else if ((a.type === TokenType.OPERATOR || a.type === TokenType.LOGIC_OPERATOR) && (isUnaryOperator(b) || b.type === TokenType.SQLTYPE)) {
      pos -= 1;
      left = 0;
      continue;
    } else if (a.type === TokenType.LEFTPARENS && isUnaryOperator(b)) {
      pos -= 1;
      if (left > 0) left -= 1;
      continue;
    } else if (mergeWords(a, b)) {
      pos -= 1;
      if (left > 0) left -= 1;
      continue;
    } else if (a.type === TokenType.SEMICOLON && b.type === TokenType.FUNCTION && startsWithIf(b)) {
      b.type = TokenType.TSQL; // `;IF(` starts a T-SQL statement
      continue;
    } else if ((a.type === TokenType.BAREWORD || a.type === TokenType.VARIABLE) && b.type === TokenType.LEFTPARENS && isCallableName(a)) {
      a.type = TokenType.FUNCTION;
      continue;
    } else if (a.type === TokenType.KEYWORD && (valueEquals(a, 'IN') || valueEquals(a, 'NOT IN'))) {
      a.type = b.type === TokenType.LEFTPARENS ? TokenType.OPERATOR : TokenType.BAREWORD;
      continue;
    } else if (a.type === TokenType.OPERATOR && (valueEquals(a, 'LIKE') || valueEquals(a, 'NOT LIKE'))) {
      if (b.type === TokenType.LEFTPARENS) a.type = TokenType.FUNCTION;
    } else if (
      a.type === TokenType.SQLTYPE &&
      (isOneOf4(b.type, TokenType.BAREWORD, TokenType.NUMBER, TokenType.SQLTYPE, TokenType.LEFTPARENS) ||
        b.type === TokenType.FUNCTION ||
        b.type === TokenType.VARIABLE ||
        b.type === TokenType.STRING)
    ) {
      a.copyFrom(b);
      pos -= 1;
      left = 0;
      continue;
    } else if (a.type === TokenType.COLLATE && b.type === TokenType.BAREWORD) {
      if (containsUnderscore(b)) {
        b.type = TokenType.SQLTYPE; // a charset name such as utf8_general_ci
        left = 0;
      }
    } else if (a.type === TokenType.BACKSLASH) {
      if (isArithmeticOperator(b)) {
        a.type = TokenType.NUMBER;
      } else {
        a.copyFrom(b);
        pos -= 1;
      }
      left = 0;
      continue;
    } else if (a.type === TokenType.LEFTPARENS && b.type === TokenType.LEFTPARENS) {
      pos -= 1;
      left = 0;
      continue;
    } else if (a.type === TokenType.RIGHTPARENS && b.type === TokenType.RIGHTPARENS) {
      pos -= 1;
      left = 0;
      continue;
    } else if (a.type === TokenType.LEFTBRACE && b.type === TokenType.BAREWORD) {
      // ODBC escape `{fn x}`; `{` followed by an empty name is unparsable.
      if (b.len === 0) {
        b.type = TokenType.EVIL;
        return left + 2;
      }
      pos -= 2;
      left = 0;
      continue;
    } else if (b.type === TokenType.RIGHTBRACE) {
      pos -= 1;
      left = 0;
      continue;
    }

    // L5
    while (more && pos <= MAX_FOLDED_TOKENS && pos - left < 3) {
      const next = readToken(tokenizer, tv, pos, lastComment);
      if (next === -1) more = false;
      else pos = next;
    }
    if (pos - left < 3) {
      left = pos;
      continue;
    }

    // L6: three-token rules
    const x = tv[left];
    const y = tv[left + 1];
    const z = tv[left + 2];
    const tx = x.type;
    const ty = y.type;
    const tz = z.type;
    if (tx === TokenType.NUMBER && ty === TokenType.OPERATOR && tz === TokenType.NUMBER) {
      pos -= 2;
      left = 0;
      continue;
    } else if (tx === TokenType.OPERATOR && ty !== TokenType.LEFTPARENS && tz === TokenType.OPERATOR) {
      pos -= 2;
      left = 0;
      continue;
    } else if (tx === TokenType.LOGIC_OPERATOR && tz === TokenType.LOGIC_OPERATOR) {
      pos -= 2;
      left = 0;
      continue;
    } else if (tx === TokenType.VARIABLE && ty === TokenType.OPERATOR && (tz === TokenType.VARIABLE || tz === TokenType.NUMBER || tz === TokenType.BAREWORD)) {
      pos -= 2;
      left = 0;
      continue;
    } else if ((tx === TokenType.BAREWORD || tx === TokenType.NUMBER) && ty === TokenType.OPERATOR && (tz === TokenType.NUMBER || tz === TokenType.BAREWORD)) {
      pos -= 2;
      left = 0;
      continue;
    } else if (
      isOneOf4(tx, TokenType.BAREWORD, TokenType.NUMBER, TokenType.VARIABLE, TokenType.STRING) &&
      ty === TokenType.OPERATOR &&
      valueEquals(y, '::') &&
      tz === TokenType.SQLTYPE
    ) {
      pos -= 2;
      left = 0;
      continue;
    } else if (
      isOneOf4(tx, TokenType.BAREWORD, TokenType.NUMBER, TokenType.STRING, TokenType.VARIABLE) &&
      ty === TokenType.COMMA &&
      isOneOf4(tz, TokenType.NUMBER, TokenType.BAREWORD, TokenType.STRING, TokenType.VARIABLE)
    ) {
      pos -= 2;
      left = 0;
      continue;
    } else if ((tx === TokenType.EXPRESSION || tx === TokenType.GROUP || tx === TokenType.COMMA) && isUnaryOperator(y) && tz === TokenType.LEFTPARENS) {
      y.copyFrom(z);
      pos -= 1;
      left = 0;
      continue;
    } else if (
      (tx === TokenType.KEYWORD || tx === TokenType.EXPRESSION || tx === TokenType.GROUP) &&
      isUnaryOperator(y) &&
      (isOneOf4(tz, TokenType.NUMBER, TokenType.BAREWORD, TokenType.VARIABLE, TokenType.STRING) || tz === TokenType.FUNCTION)
    ) {
      y.copyFrom(z);
      pos -= 1;
      left = 0;
      continue;
    } else if (tx === TokenType.COMMA && isUnaryOperator(y) && isOneOf4(tz, TokenType.NUMBER, TokenType.BAREWORD, TokenType.VARIABLE, TokenType.STRING)) {
      y.copyFrom(z);
      left = 0;
      pos -= 3;
      continue;
    } else if (tx === TokenType.COMMA && isUnaryOperator(y) && tz === TokenType.FUNCTION) {
      y.copyFrom(z);
      pos -= 1;
      left = 0;
      continue;
    } else if (tx === TokenType.BAREWORD && ty === TokenType.DOT && tz === TokenType.BAREWORD) {
      pos -= 2;
      left = 0;
      continue;
    } else if (tx === TokenType.EXPRESSION && ty === TokenType.DOT && tz === TokenType.BAREWORD) {
      y.copyFrom(z);
      pos -= 1;
      left = 0;
      continue;
    } else if (tx === TokenType.FUNCTION && ty === TokenType.LEFTPARENS && tz !== TokenType.RIGHTPARENS) {
      // USER(x) is not MySQL's USER() function
      if (valueEquals(x, 'USER')) x.type = TokenType.BAREWORD;
    }

    // L7
    left += 1;
  }

  if (left < MAX_FOLDED_TOKENS && lastComment.type === TokenType.COMMENT) {
    tv[left].copyFrom(lastComment);
    left += 1;
  }
  return left > MAX_FOLDED_TOKENS ? MAX_FOLDED_TOKENS : left;
}
