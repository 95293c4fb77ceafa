// Rule programs: a rule set's rules, generated as JavaScript functions (128 rules each) that
// write the bitmap of the rules that match. Inside them a comparison the prefilter decides
// exactly (literals, ranges, regexes, wildcards) is a bit test on the atom bitmap (no call at
// all); a comparison on a field is written out (read, then its test called from a site of its
// own, which V8 inlines); anything else is a call to its compiled closure, guarded by the
// prefilter's inexact atom when it has one (`starts_with`'s literal), so a rule whose literals
// are absent costs a few bit tests. Operands of `and`/`or` are reordered cheapest first:
// expressions have no side effects, so order changes only the cost. A single filter (`compile`)
// is generated the same way, without atoms. The generated source holds only numbers (atom words,
// masks, indexes into its closures and constants), never a literal from a rule.
import type { Comparison, IndexExpr, LogicalExpr } from './ast.ts';
import type { BoolFn, Compiler } from './compile.ts';
import { fewBytes } from './lists.ts';
import type { ExecutionContext } from './context.ts';

/** Evaluates every rule: bit i of `out[w]` = rule `32 * w + i` matched (every word is written). */
export type RuleProgram = (ctx: ExecutionContext, out: number[]) => void;

/** Where a comparison's atoms are: an exact one decides it (a negated one inversely), a guard is necessary for it. */
export interface AtomIndex {
  exactAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): number | undefined;
  negatedAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): { atom: number; presence: number | undefined } | undefined;
  guardAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): number | undefined;
  allAtom(lhs: IndexExpr, comparison: Comparison): number | undefined;
}

/**
 * Generated code for one expression. `bits`, when present, is a branch-free form (the expression
 * reads only atoms) whose bit at the rule's position in its output word is the outcome (the other
 * bits are garbage): each atom word is shifted so that the atom's bit lands there, and they are
 * combined with `&`, `|`, `^`, `~` instead of `&&`/`||` branches, whose outcomes change with every
 * request and so are mispredicted often.
 */
interface Code {
  /** A boolean expression. */
  readonly text: string;
  readonly bits?: string;
  /** Rough cost, to put cheap operands first: a bit test 1, a guarded call 4, a call 16. */
  readonly cost: number;
}

/** Rules per generated function: fewer, larger functions mean fewer calls, up to what V8 still optimizes (all 3,000 in one is not). */
const RULES_PER_FUNCTION = 128;

/** Builds the program for `roots` (one rule each, in order). */
export function ruleProgram(roots: readonly LogicalExpr[], compiler: Compiler, atoms: AtomIndex): RuleProgram {
  const parts: RuleProgram[] = [];
  for (let first = 0; first < roots.length; first += RULES_PER_FUNCTION) {
    const generator = new Generator(compiler, atoms);
    let tests = '';
    const end = Math.min(roots.length, first + RULES_PER_FUNCTION);
    for (let rule = first; rule < end; rule++) {
      const mask = 1 << (rule & 31);
      generator.position = rule & 31;
      const code = generator.logical(roots[rule]);
      tests += code.bits !== undefined ? `r |= ${code.bits} & ${mask};\n` : `if (${code.text}) r |= ${mask};\n`;
      if ((rule & 31) === 31 || rule === end - 1) tests += `out[${rule >>> 5}] = r;\nr = 0;\n`;
    }
    // The atom words this function reads, loaded once into locals (a0, a7, ...).
    const loads = [...generator.atomWords].sort((a, b) => a - b).map((word) => `a${word} = A[${word}]`);
    const body = `const A = ctx.atoms${loads.length > 0 ? `, ${loads.join(', ')}` : ''};\nlet r = 0, v;\n${tests}`;
    parts.push(generator.build(`function rules(ctx, out) {\n${body}\n}`) as RuleProgram);
  }
  // One call site per part: a loop over them would be a megamorphic call.
  const calls = parts.map((_, i) => `P[${i}](ctx, out);\n`).join('');
  return new Function('P', `return function program(ctx, out) {\n${calls}};`)(parts) as RuleProgram;
}

/** One rule alone, without a prefilter, as a generated function. */
export function filterFunction(root: LogicalExpr, compiler: Compiler): BoolFn {
  const generator = new Generator(compiler, NO_ATOMS);
  const code = generator.logical(root);
  return generator.build(`function filter(ctx) {\nlet v;\nreturn ${code.text};\n}`) as BoolFn;
}

const NO_ATOMS: AtomIndex = {
  exactAtom: () => undefined,
  negatedAtom: () => undefined,
  guardAtom: () => undefined,
  allAtom: () => undefined,
};

/** Numbers the generated functions, so that each has source of its own (V8 shares the type feedback of identical sources). */
let generated = 0;

class Generator {
  /** Words of the atom bitmap that the generated tests read. */
  readonly atomWords = new Set<number>();
  /** The bit of the output word that the rule being generated writes. */
  position = 0;
  readonly #compiler: Compiler;
  readonly #atoms: AtomIndex;
  /** Compiled closures the code calls (L), and values it reads (K: element tests, literals, map keys). */
  readonly #leaves: BoolFn[] = [];
  readonly #constants: unknown[] = [];
  /** Functions declared beside the generated one (loops over elements). */
  readonly #helpers: string[] = [];

  constructor(compiler: Compiler, atoms: AtomIndex) {
    this.#compiler = compiler;
    this.#atoms = atoms;
  }

  /** The function `source` declares, with the leaves, constants and helpers it refers to. */
  build(source: string): unknown {
    const text = `// generated ${++generated}\n${this.#helpers.join('\n')}\nreturn ${source};`;
    return new Function('L', 'K', text)(this.#leaves, this.#constants);
  }

  logical(expr: LogicalExpr): Code {
    switch (expr.kind) {
      case 'parenthesized':
        return this.logical(expr.expr);
      case 'not': {
        const inner = this.logical(expr.arg);
        return inner.bits !== undefined ? this.#pure(`~${inner.bits}`, inner.cost) : { text: `!(${inner.text})`, cost: inner.cost };
      }
      case 'combining':
        return this.#combining(expr.op, expr.items.map((item) => this.logical(item)));
      case 'quantifier': {
        let single = expr.arg.kind === 'SimpleExpr' ? expr.arg.value : undefined;
        while (single?.kind === 'parenthesized') single = single.expr;
        if (single?.kind === 'comparison') {
          if (expr.op === 'Any') return this.#decided(expr, single.lhs, single.comparison, true);
          const all = this.#atoms.allAtom(single.lhs, single.comparison);
          if (all !== undefined) return this.#pure(this.#bit(all), 1);
        }
        return this.#call(expr, undefined);
      }
      case 'comparison':
        return this.#decided(expr, expr.lhs, expr.comparison, false);
    }
  }

  #combining(op: 'And' | 'Or' | 'Xor', items: Code[]): Code {
    const cost = items.reduce((sum, item) => sum + item.cost, 0);
    const bitOp = op === 'And' ? ' & ' : op === 'Or' ? ' | ' : ' ^ ';
    const pureItems = items.filter((item) => item.bits !== undefined);
    if (pureItems.length === items.length) return this.#pure(`(${items.map((item) => item.bits).join(bitOp)})`, cost);
    if (op === 'Xor') return { text: items.map((item) => `(${item.text})`).join(' !== '), cost };
    // The atom-only operands as one branch-free test, then the calls, cheapest first.
    const rest = items.filter((item) => item.bits === undefined).sort((a, b) => a.cost - b.cost);
    const texts = rest.map((item) => `(${item.text})`);
    if (pureItems.length > 0) texts.unshift(this.#pure(`(${pureItems.map((item) => item.bits).join(bitOp)})`, 0).text);
    return { text: texts.join(op === 'And' ? ' && ' : ' || '), cost };
  }

  #decided(expr: LogicalExpr, lhs: IndexExpr, comparison: Comparison, each: boolean): Code {
    const exact = this.#atoms.exactAtom(lhs, comparison, each);
    if (exact !== undefined) return this.#pure(this.#bit(exact), 1);
    const negated = this.#atoms.negatedAtom(lhs, comparison, each);
    if (negated !== undefined) {
      const bits = `~${this.#bit(negated.atom)}`;
      return negated.presence === undefined ? this.#pure(bits, 1) : this.#pure(`(${this.#bit(negated.presence)} & ${bits})`, 2);
    }
    return this.#call(expr, this.#atoms.guardAtom(lhs, comparison, each));
  }

  /** The atom's word, shifted so that the atom's bit is at the rule's position. */
  #bit(atom: number): string {
    this.atomWords.add(atom >>> 5);
    const shift = (atom & 31) - this.position;
    const word = `a${atom >>> 5}`;
    return shift === 0 ? word : shift > 0 ? `(${word} >> ${shift})` : `(${word} << ${-shift})`;
  }

  #pure(bits: string, cost: number): Code {
    return { text: `(${bits} & ${1 << this.position}) !== 0`, bits, cost };
  }

  #call(expr: LogicalExpr, guard: number | undefined): Code {
    let call = this.#inline(expr);
    if (call === undefined) {
      const compiled = this.#compiler.logical(expr);
      if (compiled.kind !== 'one') throw new Error('a rule must be Bool');
      call = `L[${this.#leaves.push(compiled.fn) - 1}](ctx)`;
    }
    return guard === undefined ? { text: call, cost: 16 } : { text: `(${this.#bit(guard)} & ${1 << this.position}) !== 0 && ${call}`, cost: 4 };
  }

  /**
   * Code for a comparison on a field (`x`, `x["k"][0]`) or `any`/`all` over one comparison on a
   * field's elements, written out so that its test is called from a site of its own (V8 then
   * inlines it); undefined for anything else, which stays a compiled closure.
   */
  #inline(expr: LogicalExpr): string | undefined {
    if (expr.kind === 'comparison') {
      const read = this.#fieldRead(expr.lhs);
      if (read === undefined || expr.type !== 'Bool' || (expr.comparison.op === 'IsTrue' && expr.lhs.type !== 'Bool')) return undefined;
      const missing = expr.comparison.op === 'NotEqual' ? this.#compiler.nilNotEqual : false;
      return `((v = ${read}) === undefined ? ${missing} : ${this.#test(expr.comparison, 'v')})`;
    }
    if (expr.kind !== 'quantifier' || expr.arg.kind !== 'SimpleExpr') return undefined;
    let single = expr.arg.value;
    while (single.kind === 'parenthesized') single = single.expr;
    const lhs = single.kind === 'comparison' ? single.lhs : undefined;
    if (single.kind !== 'comparison' || lhs === undefined || lhs.mapEachCount !== 1 || lhs.indexes[lhs.indexes.length - 1].kind !== 'MapEach') return undefined;
    const read = this.#fieldRead({ ...lhs, indexes: lhs.indexes.slice(0, -1), mapEachCount: 0 });
    if (read === undefined) return undefined;
    const any = expr.op === 'Any';
    const name = `q${this.#helpers.length}`;
    // A missing container has no elements: any is false, all is true.
    this.#helpers.push(`function ${name}(ctx) {
const c = ${read};
if (c === undefined) return ${!any};
const es = Array.isArray(c) ? c : [...c.values()];
for (let i = 0; i < es.length; i++) {
const e = es[i];
if ((${this.#test(single.comparison, 'e')}) === ${any}) return ${any};
}
return ${!any};
}`);
    return `${name}(ctx)`;
  }

  /** Code reading a field and its fixed indexes (undefined when any is missing); undefined for a function's value. */
  #fieldRead(expr: IndexExpr): string | undefined {
    if (!('index' in expr.base) || expr.mapEachCount !== 0) return undefined;
    let code = `ctx.get(${expr.base.index})`;
    for (const index of expr.indexes) code += index.kind === 'ArrayIndex' ? `?.[${index.value}]` : `?.get(${this.#constant(index.kind === 'MapKey' ? index.value : '')})`;
    return code;
  }

  /** Code testing `value` (present, of the comparison's left-hand type). */
  #test(comparison: Comparison, value: string): string {
    if (comparison.op === 'Equal' && comparison.rhs.type !== 'Ip') return `${value} === ${this.#constant(comparison.rhs.value)}`;
    if (comparison.op === 'IsTrue') return `${value} === true`;
    const literals = comparison.op === 'OneOf' ? fewBytes(comparison.rhs) : undefined;
    if (literals !== undefined) return `(${literals.map((literal) => `${value} === ${this.#constant(literal)}`).join(' || ')})`;
    return `${this.#constant(this.#compiler.elementTest(comparison))}(${value}, ctx)`;
  }

  #constant(value: unknown): string {
    return `K[${this.#constants.push(value) - 1}]`;
  }
}
