// Platform overrides, in go-ftw's format (the one of CRS's nginx-overrides.yaml):
//
//   version: "v1"
//   meta: { engine: frontline, platform: frontline }
//   test_overrides:
//     - rule_id: 920100
//       test_ids: [4]
//       stage_ids: [0]          # optional, 0-based; absent = every stage
//       reason: "why"
//       output: { status: 400 } # replaces the stage's whole `output`
//
// As in go-ftw, an override replaces the expected output of the listed tests' stages; an entry
// with no `test_ids` applies to no test (go-ftw's behaviour), so this loader refuses it, and a
// missing `reason` too.
import { readFileSync } from 'node:fs';
import { parseYaml, readOutput, TestFileError, type YamlValue } from './load-tests.ts';
import type { FtwTest, StageOutput } from './types.ts';

export interface Override {
  ruleId: number;
  testIds: number[];
  /** 0-based stage indexes; empty = every stage. */
  stageIds: number[];
  reason: string;
  output: StageOutput;
}

export class OverridesError extends Error {}

const ENTRY_KEYS = new Set(['rule_id', 'test_ids', 'stage_ids', 'reason', 'retry_once', 'output']);

function entries(v: YamlValue | undefined): [string, YamlValue][] {
  return v?.kind === 'map' ? v.entries : [];
}

function get(v: YamlValue, key: string): YamlValue | undefined {
  const e = entries(v).find(([k]) => k === key);
  return e === undefined || e[1].kind === 'null' ? undefined : e[1];
}

function ids(v: YamlValue | undefined, where: string): number[] {
  if (v === undefined) return [];
  if (v.kind !== 'seq') throw new OverridesError(`${where}: expected a list of numbers`);
  return v.items.map((item, i) => {
    if (item.kind !== 'scalar' || !/^\d+$/.test(item.text)) throw new OverridesError(`${where}[${i}]: expected a number`);
    return Number(item.text);
  });
}

export function parseOverrides(text: string, file: string): Override[] {
  let root: YamlValue;
  try {
    root = parseYaml(text);
  } catch (err) {
    throw new OverridesError(`${file}: ${(err as Error).message}`);
  }
  if (root.kind === 'null') return [];
  if (root.kind !== 'map') throw new OverridesError(`${file}: expected a mapping with test_overrides`);
  const list = get(root, 'test_overrides');
  if (list === undefined) return [];
  if (list.kind !== 'seq') throw new OverridesError(`${file}: test_overrides must be a list`);
  return list.items.map((item, i) => {
    const where = `${file}: test_overrides[${i}]`;
    if (item.kind !== 'map') throw new OverridesError(`${where}: expected a mapping`);
    for (const [key] of item.entries) if (!ENTRY_KEYS.has(key)) throw new OverridesError(`${where}: unknown key "${key}"`);
    const rule = get(item, 'rule_id');
    if (rule?.kind !== 'scalar' || !/^\d+$/.test(rule.text)) throw new OverridesError(`${where}: rule_id must be a number`);
    const testIds = ids(get(item, 'test_ids'), `${where}.test_ids`);
    if (testIds.length === 0) throw new OverridesError(`${where}: test_ids is empty (go-ftw would apply it to no test)`);
    const reason = get(item, 'reason');
    if (reason?.kind !== 'scalar' || reason.text.trim() === '') throw new OverridesError(`${where}: every override needs a reason`);
    let output: StageOutput;
    try {
      output = readOutput(get(item, 'output'), `${where}.output`, false);
    } catch (err) {
      if (err instanceof TestFileError) throw new OverridesError(err.message);
      throw err;
    }
    return { ruleId: Number(rule.text), testIds, stageIds: ids(get(item, 'stage_ids'), `${where}.stage_ids`), reason: reason.text.trim(), output };
  });
}

export function loadOverrides(file: string): Override[] {
  return parseOverrides(readFileSync(file, 'utf8'), file);
}

/**
 * go-ftw's ApplyPlatformOverrides on a copy of the test: the override's output replaces the
 * output of the selected stages. Returns the reasons of the overrides that applied.
 */
export function applyOverrides(test: FtwTest, overrides: readonly Override[]): { test: FtwTest; reasons: string[] } {
  const reasons: string[] = [];
  const stages = test.stages.map((s) => ({ ...s }));
  for (const o of overrides) {
    if (o.ruleId !== test.ruleId || !o.testIds.includes(test.testId)) continue;
    reasons.push(o.reason);
    stages.forEach((stage, index) => {
      if (o.stageIds.length === 0 || o.stageIds.includes(index)) stage.output = structuredClone(o.output);
    });
  }
  return { test: { ...test, stages }, reasons };
}
