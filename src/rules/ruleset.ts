// Rule sets: thousands of ordered rules, each an expression with an action, evaluated against one
// request with the work shared across rules:
// - fields are read once per request (ExecutionContext), and so are derived values such as
//   `lower(http.user_agent)` that several rules use, and comparisons that several rules repeat;
// - a prefilter (prefilter.ts) tests every value that rules compare with literals against all
//   those literals at once; rules (rule-program.ts) read those results as bits, and a regex or
//   wildcard whose required literal is absent is not run.
import { comparisonKey, valueKey, type Comparison, type FilterAst, type IndexExpr, type LogicalExpr } from './ast.ts';
import { Compiler, type Sharing } from './compile.ts';
import { ExecutionContext, type FieldSource, type ListMatchers } from './context.ts';
import { RuleParseError } from './errors.ts';
import { Prefilter } from './prefilter.ts';
import { parse, type ParserSettings } from './parser.ts';
import { ruleProgram, type RuleProgram } from './rule-program.ts';
import type { Scheme } from './scheme.ts';

export type RuleAction =
  /** Answer the request with this status and body; later rules do not run. */
  | { readonly type: 'block'; readonly status: number; readonly body: string; readonly contentType: string }
  /** Let the request through; later rules do not run. */
  | { readonly type: 'allow' }
  /** Record the match and go on. */
  | { readonly type: 'log' }
  /** Skip the listed later rules, or all remaining rules, and/or later phases (e.g. `waf`). */
  | { readonly type: 'skip'; readonly rules: readonly string[]; readonly remaining: boolean; readonly phases: readonly string[] };

export interface RuleDefinition {
  readonly id: string;
  readonly expression: string;
  readonly action: RuleAction;
  readonly description?: string;
}

export interface Rule extends RuleDefinition {
  /** Position in the rule set. */
  readonly index: number;
}

export interface Verdict {
  /** The block or allow rule that ended evaluation, if any. */
  readonly terminal: Rule | undefined;
  /** How many rules matched (log and skip rules included): what `matched.length` is, without building the list. */
  readonly matchCount: number;
  /** Every rule that matched, in order (log and skip rules included, the terminal one last); built when first read. */
  readonly matched: readonly Rule[];
  /** Later phases a skip rule switched off. */
  readonly skippedPhases: readonly string[];
}

/** A rule that does not compile: which rule, and the parse error with its position. */
export class RuleSetError extends Error {
  readonly ruleId: string;
  readonly parseError: RuleParseError;
  constructor(ruleId: string, cause: RuleParseError) {
    super(`rule "${ruleId}": ${cause.category} at line ${cause.line}, column ${cause.column}: ${cause.reason}\n${cause.render()}`);
    this.name = 'RuleSetError';
    this.ruleId = ruleId;
    this.parseError = cause;
  }
}

export interface RuleSetOptions {
  readonly parser?: ParserSettings;
  readonly random?: () => number;
}

export class RuleSet {
  readonly rules: readonly Rule[];
  readonly scheme: Scheme;
  readonly #program: RuleProgram;
  readonly #wordCount: number;
  readonly #prefilter: Prefilter;
  /** Per evaluation: rules switched off by a skip rule that matched (bit i = rule i). */
  readonly #skipped: Int32Array;
  /** Rules whose action is not `log` (bit i = rule i): the only ones evaluation looks at one by one. */
  readonly #actionBits: Int32Array;
  readonly #memoSlots: number;
  readonly #skipTargets: Map<string, number>;

  /** Parses and compiles every rule; throws RuleSetError for the first rule that does not parse. */
  constructor(scheme: Scheme, definitions: readonly RuleDefinition[], options: RuleSetOptions = {}) {
    this.scheme = scheme;
    const seen = new Set<string>();
    const asts: FilterAst[] = [];
    this.rules = definitions.map((definition, index) => {
      if (seen.has(definition.id)) throw new Error(`rule id "${definition.id}" is used twice; rule ids must be unique`);
      seen.add(definition.id);
      try {
        asts.push(parse(scheme, definition.expression, options.parser));
      } catch (error) {
        if (error instanceof RuleParseError) throw new RuleSetError(definition.id, error);
        throw error;
      }
      return { ...definition, index };
    });
    this.#skipTargets = new Map(this.rules.map((rule) => [rule.id, rule.index]));
    for (const rule of this.rules) {
      if (rule.action.type !== 'skip') continue;
      for (const target of rule.action.rules) {
        const index = this.#skipTargets.get(target);
        if (index === undefined || index <= rule.index) {
          throw new Error(`rule "${rule.id}" skips "${target}", which is not a later rule of this rule set`);
        }
      }
    }

    this.#prefilter = new Prefilter(asts.map((ast) => ast.root), scheme.nilNotEqual);
    // The prefilter reads its source values before the rules do: memoize them so the rules reuse them.
    const sharing = new SharedSlots(asts, this.#prefilter);
    this.#memoSlots = sharing.count;
    const compiler = new Compiler(scheme, { sharing, random: options.random });
    this.#program = ruleProgram(asts.map((ast) => ast.root), compiler, this.#prefilter);
    this.#wordCount = Math.ceil(this.rules.length / 32);
    this.#skipped = new Int32Array(this.#wordCount);
    this.#actionBits = new Int32Array(this.#wordCount);
    for (const rule of this.rules) if (rule.action.type !== 'log') this.#actionBits[rule.index >>> 5] |= 1 << (rule.index & 31);
    this.#prefilter.bind((expr) => compiler.valueParts(expr));
  }

  /**
   * Forgets what was remembered about values seen in earlier requests (see prefilter.ts): the
   * next requests cost what values seen for the first time cost. For measurements.
   */
  forgetValues(): void {
    this.#prefilter.forgetValues();
  }

  /** A context sized for this rule set's shared sub-expressions; reuse it with `reset()` per request. */
  newContext(options: { source?: FieldSource; lists?: ListMatchers } = {}): ExecutionContext {
    return new ExecutionContext(this.scheme, { ...options, memoSlots: this.#memoSlots, atomWords: this.#prefilter.atomWords });
  }

  /**
   * Evaluates the rules in order against one request (a context from `newContext`). Every rule
   * runs, into a bitmap; a skip or a terminal action then takes effect from the next rule on
   * (evaluating a rule that ends up skipped changes nothing: expressions have no side effects).
   */
  evaluate(ctx: ExecutionContext): Verdict {
    this.#prefilter.decide(ctx);
    const actions = this.#actionBits;
    const skipped = this.#skipped;
    // A plain array: allocating a typed array per request costs several times more (its buffer).
    const matchedBits = new Array<number>(this.#wordCount);
    this.#program(ctx, matchedBits);
    let skipping = false;
    let terminal: Rule | undefined;
    let stop = false;
    let skippedPhases: string[] | undefined;
    for (let word = 0; word < matchedBits.length; word++) {
      if (stop) {
        matchedBits[word] = 0;
        continue;
      }
      let bits = matchedBits[word];
      if (skipping) bits &= ~skipped[word];
      // Only rules whose action is not `log` need looking at one by one.
      let pending = bits & actions[word];
      while (pending !== 0) {
        const low = pending & -pending;
        pending ^= low;
        if ((bits & low) === 0) continue; // skipped by an earlier rule of this word
        const rule = this.rules[(word << 5) + 31 - Math.clz32(low)];
        const action = rule.action;
        if (action.type === 'skip') {
          if (action.phases.length > 0) (skippedPhases ??= []).push(...action.phases);
          if (!action.remaining) {
            skipping = true;
            for (const target of action.rules) {
              const index = this.#skipTargets.get(target)!;
              skipped[index >>> 5] |= 1 << (index & 31);
              if (index >>> 5 === word) bits &= ~(1 << (index & 31));
            }
            continue;
          }
        } else if (action.type === 'block' || action.type === 'allow') {
          terminal = rule;
        } else {
          continue;
        }
        bits &= low | (low - 1); // this rule is the last one evaluated
        stop = true;
        break;
      }
      matchedBits[word] = bits;
    }
    if (skipping) skipped.fill(0);
    return new Evaluation(this.rules, matchedBits, terminal, skippedPhases ?? NO_PHASES);
  }
}

/** A verdict whose list of matched rules is built from the match bitmap when first read. */
class Evaluation implements Verdict {
  readonly terminal: Rule | undefined;
  readonly skippedPhases: readonly string[];
  readonly #rules: readonly Rule[];
  readonly #bits: readonly number[];
  #matched: readonly Rule[] | undefined;

  constructor(rules: readonly Rule[], bits: readonly number[], terminal: Rule | undefined, skippedPhases: readonly string[]) {
    this.#rules = rules;
    this.#bits = bits;
    this.terminal = terminal;
    this.skippedPhases = skippedPhases;
  }

  get matchCount(): number {
    if (this.#matched !== undefined) return this.#matched.length;
    const bits = this.#bits;
    let count = 0;
    for (let word = 0; word < bits.length; word++) count += popcount(bits[word]);
    return count;
  }

  get matched(): readonly Rule[] {
    if (this.#matched !== undefined) return this.#matched;
    const count = this.matchCount;
    if (count === 0) return (this.#matched = NONE);
    const bits = this.#bits;
    const matched = new Array<Rule>(count);
    let at = 0;
    for (let word = 0; word < bits.length; word++) {
      let b = bits[word];
      while (b !== 0) {
        const low = b & -b;
        b ^= low;
        matched[at++] = this.#rules[(word << 5) + 31 - Math.clz32(low)];
      }
    }
    return (this.#matched = matched);
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

const NONE: readonly Rule[] = [];
const NO_PHASES: readonly string[] = [];

/** Memo slots for values and comparisons that occur more than once across the rule set. */
class SharedSlots implements Sharing {
  readonly #slots = new Map<string, number>();
  readonly #prefilter: Prefilter;
  count = 0;

  constructor(asts: readonly FilterAst[], prefilter: Prefilter) {
    this.#prefilter = prefilter;
    const uses = new Map<string, number>();
    const count = (key: string) => uses.set(key, (uses.get(key) ?? 0) + 1);
    const visitValue = (expr: IndexExpr): void => {
      if ('index' in expr.base && expr.indexes.length === 0) return;
      if (expr.mapEachCount === 0) count(`v${valueKey(expr)}`);
      if (!('index' in expr.base)) for (const arg of expr.base.args) if (arg.kind === 'IndexExpr') visitValue(arg.value);
    };
    const visit = (expr: LogicalExpr): void => {
      switch (expr.kind) {
        case 'parenthesized':
          return visit(expr.expr);
        case 'not':
          return visit(expr.arg);
        case 'combining':
          return expr.items.forEach(visit);
        case 'quantifier':
          return expr.arg.kind === 'IndexExpr' ? visitValue(expr.arg.value) : visit(expr.arg.value);
        case 'comparison':
          if (expr.lhs.mapEachCount === 0 && expr.type === 'Bool') count(`c${comparisonKey(expr.lhs, expr.comparison)}`);
          return visitValue(expr.lhs);
      }
    };
    asts.forEach((ast) => visit(ast.root));
    prefilter.sourceExprs.forEach(visitValue);
    for (const [key, n] of uses) if (n > 1) this.#slots.set(key, this.count++);
  }

  valueSlot(expr: IndexExpr): number | undefined {
    if ('index' in expr.base && expr.indexes.length === 0) return undefined;
    return this.#slots.get(`v${valueKey(expr)}`);
  }

  comparisonSlot(lhs: IndexExpr, comparison: Comparison): number | undefined {
    return this.#slots.get(`c${comparisonKey(lhs, comparison)}`);
  }

  atomBit(lhs: IndexExpr, comparison: Comparison, each: boolean): number | undefined {
    return this.#prefilter.exactAtom(lhs, comparison, each);
  }
}
