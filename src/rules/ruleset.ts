// Rule sets: thousands of ordered rules, each an expression with an action, evaluated against one
// request with the work shared across rules:
// - fields are read once per request (ExecutionContext), and so are derived values such as
//   `lower(http.user_agent)` that several rules use, and comparisons that several rules repeat;
// - a prefilter finds, for every value that rules test with `contains`/`eq`/`in {…}`, which of
//   those literals the value holds, in one pass per value (Aho–Corasick for `contains`, a hash
//   for equality). A rule whose expression needs one of its literals (it is an `and` with such a
//   comparison, or an `or` of them) is evaluated only when one was found; the others are skipped
//   without running their closures.
import { comparisonKey, valueKey, type Comparison, type FilterAst, type IndexExpr, type LogicalExpr } from './ast.ts';
import { Compiler, type BoolFn, type Sharing, type ValueFn } from './compile.ts';
import { ExecutionContext, type FieldSource, type ListMatchers } from './context.ts';
import { RuleParseError } from './errors.ts';
import { MultiSearch } from './multi-search.ts';
import { parse, type ParserSettings } from './parser.ts';
import type { Scheme } from './scheme.ts';
import type { Bytes } from './values.ts';

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
  /** Every rule that matched, in order (log and skip rules included, the terminal one last). */
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

/** Literals that must occur in one value for a rule to match: `contains` needles and `eq` values. */
interface Requirement {
  readonly source: IndexExpr;
  readonly kind: 'contains' | 'equals';
  readonly literal: Bytes;
}

interface Source {
  readonly value: ValueFn;
  readonly contains: MultiSearch | undefined;
  /** Rule bitmaps to add for each `contains` literal id. */
  readonly containsRules: Uint32Array[];
  readonly equals: Map<Bytes, Uint32Array>;
}

export class RuleSet {
  readonly rules: readonly Rule[];
  readonly scheme: Scheme;
  readonly #filters: BoolFn[];
  readonly #sources: Source[];
  /** Rules with no literal requirement: always evaluated. */
  readonly #always: Uint32Array;
  readonly #words: number;
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

    this.#words = Math.ceil(this.rules.length / 32) || 1;
    this.#always = new Uint32Array(this.#words);
    const bySource = new Map<string, { source: IndexExpr; contains: Map<Bytes, number[]>; equals: Map<Bytes, number[]> }>();
    asts.forEach((ast, index) => {
      const requirements = required(ast.root);
      if (requirements === undefined) {
        this.#always[index >>> 5] |= 1 << (index & 31);
        return;
      }
      for (const requirement of requirements) {
        const key = valueKey(requirement.source);
        let group = bySource.get(key);
        if (group === undefined) {
          group = { source: requirement.source, contains: new Map(), equals: new Map() };
          bySource.set(key, group);
        }
        const table = requirement.kind === 'contains' ? group.contains : group.equals;
        const rules = table.get(requirement.literal) ?? [];
        rules.push(index);
        table.set(requirement.literal, rules);
      }
    });
    // The prefilter reads each source value before the rules do: memoize it so the rules reuse it.
    const sharing = new SharedSlots(asts, [...bySource.values()].map((group) => group.source));
    this.#memoSlots = sharing.count;
    const compiler = new Compiler(scheme, { sharing, random: options.random });
    this.#filters = asts.map((ast) => {
      const compiled = compiler.logical(ast.root);
      if (compiled.kind !== 'one') throw new Error('a rule must be Bool');
      return compiled.fn;
    });
    this.#sources = [...bySource.values()].map((group) => {
      const literals = [...group.contains.keys()];
      return {
        value: compiler.value(group.source),
        contains: literals.length > 0 ? new MultiSearch(literals) : undefined,
        containsRules: literals.map((literal) => this.#bitmap(group.contains.get(literal)!)),
        equals: new Map([...group.equals].map(([literal, rules]) => [literal, this.#bitmap(rules)])),
      };
    });
  }

  #bitmap(indexes: readonly number[]): Uint32Array {
    const bits = new Uint32Array(this.#words);
    for (const index of indexes) bits[index >>> 5] |= 1 << (index & 31);
    return bits;
  }

  /** A context sized for this rule set's shared sub-expressions; reuse it with `reset()` per request. */
  newContext(options: { source?: FieldSource; lists?: ListMatchers } = {}): ExecutionContext {
    return new ExecutionContext(this.scheme, { ...options, memoSlots: this.#memoSlots });
  }

  /** Evaluates the rules in order against one request (a context from `newContext`). */
  evaluate(ctx: ExecutionContext): Verdict {
    const candidates = this.#always.slice();
    for (const source of this.#sources) {
      const value = source.value(ctx);
      if (typeof value !== 'string') continue;
      const exact = source.equals.get(value);
      if (exact !== undefined) or(candidates, exact);
      if (source.contains !== undefined) {
        const rules = source.containsRules;
        source.contains.scan(value, (id) => or(candidates, rules[id]));
      }
    }
    let matched: Rule[] | undefined;
    let skippedPhases: string[] | undefined;
    for (let word = 0; word < candidates.length; word++) {
      while (candidates[word] !== 0) {
        const bits = candidates[word];
        const low = bits & -bits;
        candidates[word] = bits ^ low;
        const index = (word << 5) + 31 - Math.clz32(low);
        if (!this.#filters[index](ctx)) continue;
        const rule = this.rules[index];
        (matched ??= []).push(rule);
        const action = rule.action;
        if (action.type === 'block' || action.type === 'allow') return { terminal: rule, matched, skippedPhases: skippedPhases ?? [] };
        if (action.type !== 'skip') continue;
        if (action.phases.length > 0) (skippedPhases ??= []).push(...action.phases);
        if (action.remaining) return { terminal: undefined, matched, skippedPhases: skippedPhases ?? [] };
        for (const target of action.rules) {
          const skipped = this.#skipTargets.get(target)!;
          candidates[skipped >>> 5] &= ~(1 << (skipped & 31));
        }
      }
    }
    return { terminal: undefined, matched: matched ?? NONE, skippedPhases: skippedPhases ?? [] };
  }
}

const NONE: readonly Rule[] = [];

function or(target: Uint32Array, bits: Uint32Array): void {
  for (let i = 0; i < target.length; i++) target[i] |= bits[i];
}

/**
 * Literal requirements of an expression: if it is true, at least one of them holds. undefined
 * when no such set is known (the rule is always evaluated).
 */
function required(expr: LogicalExpr): Requirement[] | undefined {
  switch (expr.kind) {
    case 'parenthesized':
      return required(expr.expr);
    case 'comparison':
      return comparisonRequirements(expr.lhs, expr.comparison);
    case 'combining': {
      const parts = expr.items.map(required);
      if (expr.op === 'And') {
        // Any conjunct's requirement is the rule's; prefer the fewest, longest literals.
        let best: Requirement[] | undefined;
        for (const part of parts) if (part !== undefined && (best === undefined || selectivity(part) > selectivity(best))) best = part;
        return best;
      }
      if (expr.op === 'Or' && parts.every((part) => part !== undefined)) return parts.flat() as Requirement[];
      return undefined;
    }
    default:
      return undefined;
  }
}

function comparisonRequirements(lhs: IndexExpr, comparison: Comparison): Requirement[] | undefined {
  if (lhs.mapEachCount > 0 || lhs.type !== 'Bytes') return undefined;
  switch (comparison.op) {
    case 'Contains':
      return comparison.rhs.value.length === 0 ? undefined : [{ source: lhs, kind: 'contains', literal: comparison.rhs.value }];
    case 'Equal':
      return comparison.rhs.type === 'Bytes' ? [{ source: lhs, kind: 'equals', literal: comparison.rhs.value }] : undefined;
    case 'OneOf':
      return comparison.rhs.map((element) => ({ source: lhs, kind: 'equals' as const, literal: (element as { value: Bytes }).value }));
    default:
      return undefined;
  }
}

/** Higher is more selective: few requirements, long literals (equality counts as very long). */
function selectivity(requirements: readonly Requirement[]): number {
  let shortest = Infinity;
  for (const r of requirements) shortest = Math.min(shortest, r.kind === 'equals' ? 64 : r.literal.length);
  return shortest / requirements.length;
}

/** Memo slots for values and comparisons that occur more than once across the rule set. */
class SharedSlots implements Sharing {
  readonly #slots = new Map<string, number>();
  count = 0;

  constructor(asts: readonly FilterAst[], prefilterSources: readonly IndexExpr[]) {
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
    prefilterSources.forEach(visitValue);
    for (const [key, n] of uses) if (n > 1) this.#slots.set(key, this.count++);
  }

  valueSlot(expr: IndexExpr): number | undefined {
    if ('index' in expr.base && expr.indexes.length === 0) return undefined;
    return this.#slots.get(`v${valueKey(expr)}`);
  }

  comparisonSlot(lhs: IndexExpr, comparison: Comparison): number | undefined {
    return this.#slots.get(`c${comparisonKey(lhs, comparison)}`);
  }
}
