// Rule programs: a rule set's rules, 32 at a time, generated as one JavaScript function that
// returns the bitmap of the rules that match. Inside it a comparison the prefilter decides
// exactly is a bit test on the atom bitmap (no call at all); any other comparison is a call to
// its compiled closure, guarded by the prefilter's inexact atom when it has one (a regex's
// required literal, a wildcard's longest segment), so a rule whose literals are absent costs a
// few bit tests. Operands of `and`/`or` are reordered cheapest first: expressions have no side
// effects, so order changes only the cost. The generated source holds only numbers (atom words,
// masks, closure indexes), never a literal from a rule.
import type { Comparison, IndexExpr, LogicalExpr } from './ast.ts';
import type { BoolFn, Compiler } from './compile.ts';
import type { ExecutionContext } from './context.ts';

/** Evaluates up to 32 rules; bit i of the result = rule `32 * word + i` matched. */
export type RuleWord = (ctx: ExecutionContext) => number;

/** Where a comparison's atoms are: an exact one decides it (a negated one inversely), a guard is necessary for it. */
export interface AtomIndex {
  exactAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): number | undefined;
  negatedAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): { atom: number; presence: number | undefined } | undefined;
  guardAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): number | undefined;
}

interface Code {
  readonly text: string;
  /** Rough cost, to put cheap operands first: a bit test 1, a guarded call 4, a call 16. */
  readonly cost: number;
}

/** Builds the functions for `roots` (one rule each), 32 rules per function. */
export function ruleWords(roots: readonly LogicalExpr[], compiler: Compiler, atoms: AtomIndex): RuleWord[] {
  const words: RuleWord[] = [];
  for (let start = 0; start < roots.length; start += 32) {
    const leaves: BoolFn[] = [];
    const generator = new Generator(compiler, atoms, leaves);
    let body = 'const A = ctx.atoms;\nlet r = 0;\n';
    for (let i = 0; i < 32 && start + i < roots.length; i++) {
      body += `if (${generator.logical(roots[start + i]).text}) r |= ${1 << i};\n`;
    }
    body += 'return r;';
    const build = new Function('L', `return function ruleWord(ctx) {\n${body}\n};`) as (leaves: BoolFn[]) => RuleWord;
    words.push(build(leaves));
  }
  return words;
}

class Generator {
  readonly #compiler: Compiler;
  readonly #atoms: AtomIndex;
  readonly #leaves: BoolFn[];

  constructor(compiler: Compiler, atoms: AtomIndex, leaves: BoolFn[]) {
    this.#compiler = compiler;
    this.#atoms = atoms;
    this.#leaves = leaves;
  }

  logical(expr: LogicalExpr): Code {
    switch (expr.kind) {
      case 'parenthesized':
        return this.logical(expr.expr);
      case 'not': {
        const inner = this.logical(expr.arg);
        return { text: `!(${inner.text})`, cost: inner.cost };
      }
      case 'combining': {
        const items = expr.items.map((item) => this.logical(item));
        const cost = items.reduce((sum, item) => sum + item.cost, 0);
        if (expr.op === 'Xor') return { text: items.map((item) => `(${item.text})`).join(' !== '), cost };
        items.sort((a, b) => a.cost - b.cost);
        return { text: items.map((item) => `(${item.text})`).join(expr.op === 'And' ? ' && ' : ' || '), cost };
      }
      case 'quantifier': {
        let single = expr.arg.kind === 'SimpleExpr' ? expr.arg.value : undefined;
        while (single?.kind === 'parenthesized') single = single.expr;
        if (expr.op === 'Any' && single?.kind === 'comparison') return this.#decided(expr, single.lhs, single.comparison, true);
        return this.#call(expr, undefined);
      }
      case 'comparison':
        return this.#decided(expr, expr.lhs, expr.comparison, false);
    }
  }

  #decided(expr: LogicalExpr, lhs: IndexExpr, comparison: Comparison, each: boolean): Code {
    const exact = this.#atoms.exactAtom(lhs, comparison, each);
    if (exact !== undefined) return { text: bitTest(exact), cost: 1 };
    const negated = this.#atoms.negatedAtom(lhs, comparison, each);
    if (negated !== undefined) {
      const text = bitTest(negated.atom, false);
      return negated.presence === undefined ? { text, cost: 1 } : { text: `${bitTest(negated.presence)} && ${text}`, cost: 2 };
    }
    return this.#call(expr, this.#atoms.guardAtom(lhs, comparison, each));
  }

  #call(expr: LogicalExpr, guard: number | undefined): Code {
    const compiled = this.#compiler.logical(expr);
    if (compiled.kind !== 'one') throw new Error('a rule must be Bool');
    const call = `L[${this.#leaves.push(compiled.fn) - 1}](ctx)`;
    return guard === undefined ? { text: call, cost: 16 } : { text: `${bitTest(guard)} && ${call}`, cost: 4 };
  }
}

function bitTest(atom: number, holds = true): string {
  return `(A[${atom >>> 5}] & ${1 << (atom & 31)}) ${holds ? '!==' : '==='} 0`;
}
