// Patterns that V8's own (backtracking) engine runs in linear time, handed to it for test(): it
// compiles them to machine code that skips ahead on literals, several times faster than the lazy
// DFA on the short values rules look at. Only a structurally safe subset qualifies: no repetition
// of a variable count, except one repetition of a single byte class or literal in a pattern
// anchored at the start (V8 then tries one start position, and that one repetition gives back at
// most one byte per step); counted repetitions only of a byte class or literal; no Unicode
// classes or assertions but ^ $ \b \B. Bytes become \xHH and byte classes [\xHH-\xHH], so on a
// latin1 string the JavaScript pattern means exactly what the bytes-mode pattern means.
import type { Hir } from './hir.ts';
import { LOOK_END, LOOK_NOT_WORD_ASCII, LOOK_START, LOOK_WORD_ASCII } from './looks.ts';

/**
 * RegExps for `hir` when it is in the safe subset: one for test(), and one with the pattern's
 * capture groups (numbered alike, with match indices) for captures(); undefined outside the subset.
 */
export function backtrackFreeRegExps(hir: Hir, anchoredStart: boolean): { test: RegExp; captures: RegExp } | undefined {
  const test = emit(hir, { variableRepeats: anchoredStart ? 1 : 0, capturing: false });
  const captures = emit(hir, { variableRepeats: anchoredStart ? 1 : 0, capturing: true });
  return test === undefined || captures === undefined ? undefined : { test: new RegExp(test), captures: new RegExp(captures, 'd') };
}

interface Budget {
  variableRepeats: number;
  /** Capture groups are emitted as groups (in the HIR's order, so numbered alike). */
  readonly capturing: boolean;
}

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** A single byte class or literal: what a repetition may repeat without nested choices. */
function isAtom(hir: Hir): boolean {
  return hir.kind === 'byteClass' || hir.kind === 'literal';
}

function emit(hir: Hir, budget: Budget): string | undefined {
  switch (hir.kind) {
    case 'empty':
      return '';
    case 'literal':
      return hir.bytes.map(hex).join('');
    case 'byteClass': {
      let out = '[';
      for (let i = 0; i < hir.ranges.length; i += 2) out += hir.ranges[i] === hir.ranges[i + 1] ? hex(hir.ranges[i]) : `${hex(hir.ranges[i])}-${hex(hir.ranges[i + 1])}`;
      return `${out}]`;
    }
    case 'charClass':
      return undefined;
    case 'look':
      switch (hir.look) {
        case LOOK_START:
          return '^';
        case LOOK_END:
          return '$';
        case LOOK_WORD_ASCII:
          return '\\b';
        case LOOK_NOT_WORD_ASCII:
          return '\\B';
        default:
          return undefined;
      }
    case 'capture': {
      const sub = emit(hir.sub, budget);
      return sub === undefined ? undefined : budget.capturing ? `(${sub})` : `(?:${sub})`;
    }
    case 'concat': {
      let out = '';
      for (const sub of hir.subs) {
        const part = emit(sub, budget);
        if (part === undefined) return undefined;
        out += part;
      }
      return out;
    }
    case 'alternation': {
      const parts: string[] = [];
      for (const sub of hir.subs) {
        const part = emit(sub, budget);
        if (part === undefined) return undefined;
        parts.push(part);
      }
      return `(?:${parts.join('|')})`;
    }
    case 'repeat': {
      if (!isAtom(hir.sub)) return undefined;
      if (hir.min !== hir.max) {
        if (budget.variableRepeats === 0) return undefined;
        budget.variableRepeats--;
      }
      const sub = emit(hir.sub, budget);
      if (sub === undefined) return undefined;
      return `(?:${sub}){${hir.min},${hir.max ?? ''}}${hir.greedy ? '' : '?'}`;
    }
  }
}
