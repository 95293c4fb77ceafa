// The `firewall:` section: rules written inline or in rule files, and named lists. Every rule is
// parsed here, when a configuration is loaded or reloaded, so a rule that does not parse rejects
// the whole file with the rule's id, the YAML position and the position inside the expression,
// and the running configuration stays in force.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Value } from 'typebox/value';
import { LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { LogicalExpr } from '../rules/ast.ts';
import { RuleParseError } from '../rules/errors.ts';
import { httpScheme } from '../rules/http-scheme.ts';
import { compileLists, ListItemError, type ListDefinition, type ListType } from '../rules/lists.ts';
import { parse } from '../rules/parser.ts';
import type { RuleAction, RuleDefinition } from '../rules/ruleset.ts';
import { FirewallRuleSchema, type ConfigFile, type FirewallRuleFile } from './schema.ts';

export interface FirewallConfig {
  /** Enabled rules in evaluation order (inline rules first, then each file's). */
  readonly rules: readonly RuleDefinition[];
  readonly lists: ReadonlyMap<string, ListDefinition>;
}

type Problem = (segments: (string | number)[], message: string, at?: { file: string; line?: number; column?: number }) => void;

const LIST_TYPES: Readonly<Record<'ip' | 'int' | 'bytes', ListType>> = { ip: 'Ip', int: 'Int', bytes: 'Bytes' };

interface Located {
  readonly rule: FirewallRuleFile;
  /** Where the rule is written: the config file's path segments, or a rule file's. */
  readonly segments: (string | number)[];
  readonly file?: { path: string; locate: (segments: (string | number)[]) => { line?: number; column?: number } };
}

export function resolveFirewall(section: ConfigFile['firewall'], baseDir: string, problem: Problem): FirewallConfig {
  const lists = new Map<string, ListDefinition>();
  for (const [name, list] of Object.entries(section.lists)) lists.set(name, { type: LIST_TYPES[list.type], items: list.items });
  try {
    compileLists(lists);
  } catch (error) {
    if (!(error instanceof ListItemError)) throw error;
    problem(['firewall', 'lists', error.list, 'items', error.item], error.message);
  }

  const located: Located[] = section.rules.map((rule, i) => ({ rule, segments: ['firewall', 'rules', i] }));
  section.files.forEach((file, i) => {
    const path = isAbsolute(file) ? file : resolve(baseDir, file);
    located.push(...readRuleFile(path, (message) => problem(['firewall', 'files', i], message)));
  });

  const report = (where: Located, key: string | undefined, message: string) => {
    const segments = key === undefined ? where.segments : [...where.segments, key];
    if (where.file === undefined) problem(segments, message);
    else problem(segments, message, { file: where.file.path, ...where.file.locate(segments) });
  };

  const ids = new Map<string, Located>();
  const rules: RuleDefinition[] = [];
  for (const where of located) {
    const { rule } = where;
    if (ids.has(rule.id)) {
      report(where, 'id', `rule id "${rule.id}" is already used; rule ids must be unique`);
      continue;
    }
    ids.set(rule.id, where);
    let root: LogicalExpr;
    try {
      root = parse(httpScheme, rule.expression).root;
    } catch (error) {
      if (!(error instanceof RuleParseError)) throw error;
      report(where, 'expression', `rule "${rule.id}": ${describeParseError(error)}`);
      continue;
    }
    for (const { name, type } of listReferences(root)) {
      const list = lists.get(name);
      if (list === undefined) report(where, 'expression', `rule "${rule.id}" uses $${name}, but firewall.lists has no list of that name`);
      else if (list.type !== type) report(where, 'expression', `rule "${rule.id}" tests a ${type} value against $${name}, which is a list of type ${list.type}`);
    }
    if (rule.action !== 'skip' && rule.skip !== undefined) report(where, 'skip', `"skip" only applies to rules whose action is skip (this one is ${rule.action})`);
    if (rule.enabled) rules.push({ id: rule.id, expression: rule.expression, action: action(rule), description: rule.description });
  }

  // A skip names later rules only: evaluation never goes back.
  rules.forEach((rule, index) => {
    if (rule.action.type !== 'skip') return;
    for (const target of rule.action.rules) {
      const at = rules.findIndex((other) => other.id === target);
      if (at <= index) report(ids.get(rule.id)!, 'skip', `rule "${rule.id}" skips "${target}", which is not a later enabled rule`);
    }
  });
  return { rules, lists };
}

function action(rule: FirewallRuleFile): RuleAction {
  switch (rule.action) {
    case 'block':
      return {
        type: 'block',
        status: rule.status,
        body: rule.body ?? `Request blocked by firewall rule ${rule.id}.\n`,
        contentType: rule.content_type,
      };
    case 'allow':
      return { type: 'allow' };
    case 'log':
      return { type: 'log' };
    default:
      // The schema admits only block, allow, log and skip.
      return {
        type: 'skip',
        rules: rule.skip?.rules ?? [],
        remaining: rule.skip?.remaining ?? false,
        phases: rule.skip?.phases ?? [],
      };
  }
}

/** Reads a YAML rule file: a list of rules in the same form as `firewall.rules`. */
function readRuleFile(path: string, fail: (message: string) => void): Located[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    fail(`cannot read the rule file: ${(error as Error).message}`);
    return [];
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const at = lines.linePos(doc.errors[0].pos[0]);
    fail(`${path}:${at.line}:${at.col}: YAML syntax: ${doc.errors[0].message.split('\n')[0]}`);
    return [];
  }
  const locate = (segments: (string | number)[]) => {
    const inFile = segments.slice(1);
    for (let n = inFile.length; n >= 0; n--) {
      const node = doc.getIn(inFile.slice(0, n), true) as YamlNode | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) {
        const at = lines.linePos(node.range[0]);
        return { line: at.line, column: at.col };
      }
      if (n === 0) break;
    }
    return {};
  };
  const value = doc.toJS() as unknown;
  if (!Array.isArray(value)) {
    fail(`${path}: a rule file holds a YAML list of rules (id, expression, action, ...)`);
    return [];
  }
  const located: Located[] = [];
  value.forEach((raw, i) => {
    const rule = Value.Default(FirewallRuleSchema, structuredClone(raw)) as FirewallRuleFile;
    const errors = [...Value.Errors(FirewallRuleSchema, rule)];
    if (errors.length > 0) {
      const error = errors[0];
      const at = locate([path, i, ...error.instancePath.split('/').filter(Boolean)]);
      fail(`${path}:${at.line ?? 0}:${at.column ?? 0}: rule ${i}${error.instancePath}: ${error.message}`);
      return;
    }
    located.push({ rule, segments: [path, i], file: { path, locate } });
  });
  return located;
}

/** A parse error as a configuration problem: category, position in the expression, and the caret under it. */
export function describeParseError(error: RuleParseError): string {
  const caret = error.render().trimEnd().split('\n').slice(1).join('\n      ');
  return `${error.category} at line ${error.line}, column ${error.column} of the expression: ${error.reason}\n      ${caret}`;
}

/** The named lists an expression uses, with the type of value it tests against each. */
export function listReferences(expr: LogicalExpr): { name: string; type: string }[] {
  const found: { name: string; type: string }[] = [];
  const visit = (node: LogicalExpr): void => {
    switch (node.kind) {
      case 'parenthesized':
        return visit(node.expr);
      case 'not':
        return visit(node.arg);
      case 'combining':
        return node.items.forEach(visit);
      case 'quantifier':
        if (node.arg.kind === 'SimpleExpr') visit(node.arg.value);
        return;
      case 'comparison':
        if (node.comparison.op === 'InList') found.push({ name: node.comparison.rhs, type: node.comparison.listType });
        for (const arg of 'index' in node.lhs.base ? [] : node.lhs.base.args) if (arg.kind === 'SimpleExpr') visit(arg.value);
    }
  };
  visit(expr);
  return found;
}
