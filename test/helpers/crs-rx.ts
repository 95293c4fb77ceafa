// The @rx patterns of OWASP CRS (../shared/crs), read as the WAF reads them, and inputs built to
// make a backtracking engine blow up on each one. Shared by test/waf/regex.test.ts and
// bench/waf/regex.ts.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Hir } from '../../src/rules/regex/hir.ts';
import { parse } from '../../src/rules/regex/parser.ts';
import { translate } from '../../src/rules/regex/translate.ts';
import { readDirectiveFiles } from '../../src/waf/seclang/directives.ts';
import { parseActions, parseOperator } from '../../src/waf/seclang/rule-syntax.ts';
import { operatorRegex } from '../../src/waf/regex.ts';

export const CRS_DIR = fileURLToPath(new URL('../../../shared/crs/', import.meta.url));

/** A reason to skip when CRS is not there, or false. */
export const crsAbsent: string | false = existsSync(`${CRS_DIR}rules`) ? false : `skipped: ${CRS_DIR}rules is not present`;

export interface CrsPattern {
  /** The @rx argument as written in the rule (after SecLang unquoting). */
  readonly pattern: string;
  /** The rules that use it (a chained rule counts as its chain's first rule). */
  readonly ruleIds: readonly string[];
}

/** Every distinct @rx pattern of the CRS rule files, in file order. */
export function crsRxPatterns(rulesDir = `${CRS_DIR}rules`): CrsPattern[] {
  const byPattern = new Map<string, string[]>();
  let chainId: string | undefined;
  for (const directive of readDirectiveFiles([`${rulesDir}/*.conf`])) {
    if (directive.name.toLowerCase() !== 'secrule') continue;
    const actions = parseActions(directive.args[2] ?? '');
    const id = actions.find((action) => action.name === 'id')?.value ?? chainId ?? `${directive.file}:${directive.line}`;
    chainId = actions.some((action) => action.name === 'chain') ? id : undefined;
    const operator = parseOperator(directive.args[1]);
    if (operator.name !== 'rx') continue;
    const ids = byPattern.get(operator.argument) ?? [];
    if (!ids.includes(id)) ids.push(id);
    byPattern.set(operator.argument, ids);
  }
  return [...byPattern].map(([pattern, ruleIds]) => ({ pattern, ruleIds }));
}

export interface NamedInput {
  readonly name: string;
  /** A binary string (one char per byte), as the WAF's values are. */
  readonly value: string;
}

/** The byte that ends every adversarial input: a control byte no CRS literal contains, where an almost-match fails. */
const TAIL = '\x00';

/**
 * Inputs of `size` bytes that make backtracking engines try many ways to match `pattern`: a run of
 * each byte the pattern repeats (or contains), the pattern's literals followed by such runs or
 * repeated, and the classic nested-quantifier baits (`aaaa…!`, `<<<<…`, `((((…`, `%u%u…`, white
 * space). Each ends in TAIL.
 */
export function adversarialInputs(pattern: string, size: number): NamedInput[] {
  const { source } = operatorRegex(pattern);
  const found = ingredients(translate(parse(source), source));
  const inputs = new Map<string, string>();
  const fill = (name: string, unit: string, prefix = '') => {
    const body = size - prefix.length - TAIL.length;
    inputs.set(name, prefix + unit.repeat(Math.ceil(body / unit.length)).slice(0, body) + TAIL);
  };
  const runBytes = [...found.repeated, ...found.bytes].filter((byte, i, all) => all.indexOf(byte) === i).slice(0, 8);
  for (const byte of runBytes) fill(`run of 0x${byte.toString(16)}`, String.fromCharCode(byte));
  const runByte = String.fromCharCode(runBytes[0] ?? 0x61);
  for (const literal of [...found.literals].slice(0, 3)) {
    fill(`${JSON.stringify(literal)} then a run`, runByte, literal);
    fill(`${JSON.stringify(literal)} repeated`, `${literal}${runByte}`);
  }
  for (const bait of ['a', '<', '(', '%u', ' ', '\t\n', '\'"', 'a=', '\\', '/*', '${', '0x']) fill(`bait ${JSON.stringify(bait)}`, bait);
  return [...inputs].map(([name, value]) => ({ name, value }));
}

interface Ingredients {
  /** Bytes a repetition (`*`, `+`, `{n,}`…) in the pattern can consume. */
  readonly repeated: Set<number>;
  /** Bytes that appear anywhere in the pattern's literals and classes. */
  readonly bytes: Set<number>;
  /** Byte strings of two or more the pattern matches literally (case-folded ones included). */
  readonly literals: Set<string>;
}

/** A few bytes of a class: where each of its first ranges starts and ends. */
function sampleBytes(ranges: readonly number[]): number[] {
  return ranges.slice(0, 8);
}

function ingredients(hir: Hir): Ingredients {
  const found: Ingredients = { repeated: new Set(), bytes: new Set(), literals: new Set() };
  const visit = (node: Hir, repeated: boolean): void => {
    switch (node.kind) {
      case 'literal':
        for (const byte of node.bytes) (repeated ? found.repeated : found.bytes).add(byte);
        if (node.bytes.length >= 2) found.literals.add(String.fromCharCode(...node.bytes));
        return;
      case 'byteClass':
      case 'charClass':
        for (const byte of sampleBytes(node.ranges)) if (byte <= 0xff) (repeated ? found.repeated : found.bytes).add(byte);
        return;
      case 'repeat':
        visit(node.sub, repeated || node.max === undefined || node.max > 1);
        return;
      case 'capture':
        visit(node.sub, repeated);
        return;
      case 'concat': {
        // A case-insensitive word is a run of two-byte classes ([Ss][Ee]…): read it as a literal.
        let word = '';
        const endWord = () => {
          if (word.length >= 2) found.literals.add(word);
          word = '';
        };
        for (const sub of node.subs) {
          if (sub.kind === 'byteClass' && sub.ranges.length <= 4 && sub.ranges.every((byte, i) => i % 2 === 0 || byte === sub.ranges[i - 1])) {
            word += String.fromCharCode(sub.ranges[sub.ranges.length - 1]);
          } else if (sub.kind === 'literal') {
            word += String.fromCharCode(...sub.bytes);
          } else {
            endWord();
          }
          visit(sub, repeated);
        }
        endWord();
        return;
      }
      case 'alternation':
        for (const sub of node.subs) visit(sub, repeated);
        return;
      default:
        return;
    }
  };
  visit(hir, false);
  return found;
}
