// Runs a case on the reference (the oracle) and on the candidate engine, compares output bytes,
// handler logs and errors, and shrinks a disagreeing document while it still disagrees.
import type { RewriterFactory } from '../../test/helpers/html-rewriter-module.ts';
import { chunkSizes, describeSplit, type Case } from './generate.ts';
import { describeProgram, runProgram, type Outcome, type Program } from './program.ts';

export interface Disagreement {
  kind: 'error' | 'output' | 'log';
  detail: string;
  reference: Outcome;
  candidate: Outcome;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What differs between two outcomes, or undefined when they agree. */
export function compareOutcomes(reference: Outcome, candidate: Outcome): Omit<Disagreement, 'reference' | 'candidate'> | undefined {
  if (reference.error !== candidate.error) {
    const says = (o: Outcome) => (o.error ? `${o.error}() threw` : 'no error');
    return { kind: 'error', detail: `reference: ${says(reference)}, candidate: ${says(candidate)}` };
  }
  // After an error the output so far depends on where the chunks were cut: only logs are compared.
  if (!reference.error && !bytesEqual(reference.output, candidate.output)) {
    let at = 0;
    while (at < reference.output.length && reference.output[at] === candidate.output[at]) at++;
    return { kind: 'output', detail: `output differs from byte ${at} (lengths ${reference.output.length} and ${candidate.output.length})` };
  }
  const n = Math.max(reference.log.length, candidate.log.length);
  for (let i = 0; i < n; i++) {
    if (reference.log[i] !== candidate.log[i]) return { kind: 'log', detail: `handler log differs at call ${i} (${reference.log.length} and ${candidate.log.length} calls)` };
  }
  return undefined;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs one case on both engines; undefined when they agree. */
export async function checkCase(c: Case, reference: RewriterFactory, candidate: RewriterFactory): Promise<Disagreement | undefined> {
  const doc = encoder.encode(c.doc);
  const ref = await runProgram(reference, doc, chunkSizes(c.referenceSplit, doc.length), c.program);
  const cand = await runProgram(candidate, doc, chunkSizes(c.candidateSplit, doc.length), c.program);
  const diff = compareOutcomes(ref, cand);
  return diff && { ...diff, reference: ref, candidate: cand };
}

/**
 * A smaller case that still disagrees in the same way (kind): first both sides in one chunk (if
 * that still disagrees), then delta debugging over the document's code points (drop halves, quarters, ... down to single
 * code points while any disagreement remains), within `budget` runs.
 */
export async function minimise(c: Case, reference: RewriterFactory, candidate: RewriterFactory, budget = 1500): Promise<{ case: Case; disagreement: Disagreement }> {
  let best = c;
  const first = await checkCase(best, reference, candidate);
  if (!first) throw new Error('minimise: the case agrees');
  let found: Disagreement = first;
  // Keep the kind of disagreement, so that shrinking does not wander off to another fault.
  const check = async (trial: Case) => {
    const diff = await checkCase(trial, reference, candidate);
    return diff?.kind === first.kind ? diff : undefined;
  };
  const whole: Case = { ...best, referenceSplit: { kind: 'whole' }, candidateSplit: { kind: 'whole' } };
  const wholeDiff = await check(whole);
  if (wholeDiff) [best, found] = [whole, wholeDiff];
  let points = Array.from(best.doc);
  let parts = 2;
  while (points.length > 0 && budget > 0) {
    const size = Math.ceil(points.length / parts);
    let shrunk = false;
    for (let start = 0; start < points.length && budget > 0; start += size) {
      const candidatePoints = [...points.slice(0, start), ...points.slice(start + size)];
      const trial: Case = { ...best, doc: candidatePoints.join('') };
      budget--;
      const diff = await check(trial);
      if (diff) {
        [best, found, points] = [trial, diff, candidatePoints];
        shrunk = true;
        break;
      }
    }
    if (shrunk) parts = Math.max(parts - 1, 2);
    else if (size === 1) break;
    else parts = Math.min(parts * 2, points.length);
  }
  // Then the program: drop the registrations, then the single actions, the disagreement does not need.
  const attempt = async (program: Program): Promise<void> => {
    budget--;
    const diff = await check({ ...best, program });
    if (diff) [best, found] = [{ ...best, program }, diff];
  };
  for (let i = best.program.registrations.length - 1; i >= 0 && budget > 0; i--) {
    await attempt({ ...best.program, registrations: best.program.registrations.filter((_, j) => j !== i) });
  }
  for (let i = 0; i < best.program.registrations.length; i++) {
    for (const key of ['element', 'comments', 'text', 'end'] as const) {
      for (let k = (best.program.registrations[i][key]?.length ?? 0) - 1; k >= 0 && budget > 0; k--) {
        await attempt({
          ...best.program,
          registrations: best.program.registrations.map((reg, j) => (j === i ? { ...reg, [key]: reg[key]!.filter((_, m) => m !== k) } : reg)),
        });
      }
    }
  }
  return { case: best, disagreement: found };
}

const show = (s: string, max = 400): string => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/** A disagreement as printed by scripts/html-diff.ts. */
export function formatDisagreement(index: number, original: Case, minimised: Case, d: Disagreement, rerun: string): string {
  const lines = [
    `✗ case ${index} (${original.source} document, ${d.kind}): ${d.detail}`,
    `  document: ${show(minimised.doc)}${minimised.doc.length < original.doc.length ? ` (minimised from ${original.doc.length} to ${minimised.doc.length} characters)` : ''}`,
    `  program:  ${describeProgram(minimised.program)}`,
    `  chunks:   reference ${describeSplit(minimised.referenceSplit)}, candidate ${describeSplit(minimised.candidateSplit)}`,
  ];
  if (d.kind !== 'log') {
    const out = (o: Outcome) => (o.error ? `(${o.error}() threw) ` : '') + show(decoder.decode(o.output));
    lines.push(`  reference output: ${out(d.reference)}`, `  candidate output: ${out(d.candidate)}`);
  }
  let i = 0;
  while (i < d.reference.log.length && d.reference.log[i] === d.candidate.log[i]) i++;
  if (i < d.reference.log.length || i < d.candidate.log.length) {
    lines.push(`  first log difference, call ${i}: reference ${d.reference.log[i] ?? '(none)'}`, `${' '.repeat(36 + String(i).length)}candidate ${d.candidate.log[i] ?? '(none)'}`);
  }
  lines.push(`  rerun: ${rerun}`);
  return lines.join('\n');
}
