// A compiled SecRule/SecAction/SecMarker: targets, transformation chain, operator and actions,
// each prepared once. What each action does at run time is in transaction.ts; here they are
// parsed, checked and sorted into metadata, per-match actions, flow and the disruptive action.
import { compileMacro, type Macro } from './macro.ts';
import { compileOperator, type CompiledOperator, type Operator, type OperatorContext } from './operators.ts';
import type { ActionSpec, OperatorSpec, TargetSpec } from './seclang/rule-syntax.ts';
import { compileTarget, exclusionOf, variableKind, type Exclusion, type Target } from './targets.ts';
import { transformation, type Transformation } from './transformations/index.ts';

export type Disruptive = 'pass' | 'deny' | 'drop' | 'block' | 'redirect' | 'allow' | 'allow:phase' | 'allow:request';

/** An action run for every match (setvar, ctl, ...). */
export type PerMatchAction =
  | { readonly kind: 'setvar'; readonly collection: string; readonly remove: boolean; readonly key: Macro; readonly value: Macro | undefined }
  | { readonly kind: 'ctl'; readonly option: string; readonly value: string; readonly target: Exclusion | undefined; readonly ids: readonly (readonly [number, number])[] }
  | { readonly kind: 'setenv'; readonly key: Macro; readonly value: Macro };

export interface WafRule {
  /** 0 for chain links after the first and for markers. */
  readonly id: number;
  readonly phase: number;
  readonly file: string;
  readonly line: number;
  /** SecMarker name (the rule does nothing else). */
  readonly marker: string | undefined;
  targets: Target[];
  /** The rule's own exclusions; SecRuleUpdateTargetById adds more. */
  exclusions: Exclusion[];
  /** See targetSetKey (set once the rule set is complete). */
  targetSetKey: string | undefined;
  /**
   * The key (lower case) when the rule reads one TX variable by name, or counts it, without
   * exclusions or transformations (CRS's paranoia-level and setup checks, a third of the rules a
   * request runs): its value is looked up directly (set once the rule set is complete).
   */
  txKey: string | undefined;
  /** The chain's id (-1 without transformations): names the transformed values of a target set. */
  readonly transformKey: number;
  /** multiMatch: the chain ids of the transformations' prefixes, shortest first (the value after each step). */
  readonly transformSteps: readonly number[];
  readonly operator: Operator | undefined;
  /** A value without one of these (ASCII case ignored) cannot match the operator. */
  readonly requiredLiterals: readonly string[] | undefined;
  /** The rule's bit in the rule set's OperatorPrefilter, -1 when it has none. */
  prefilterBit: number;
  /** prefilterBit when the request's reach decides the rule before its targets are collected (see RequestReach), else -1. */
  reachBit: number;
  /** See CompiledOperator.resultKey. */
  readonly resultKey: string | undefined;
  /** Where a value's memo keeps this operator's result (numbered by resultKey once the rule set is complete), -1: not kept. */
  resultSlot: number;
  readonly negated: boolean;
  readonly multiMatch: boolean;
  readonly capture: boolean;
  readonly perMatch: readonly PerMatchAction[];
  readonly skip: number;
  readonly skipAfter: string | undefined;
  disruptive: Disruptive;
  readonly status: number | undefined;
  readonly redirect: Macro | undefined;
  readonly msg: Macro | undefined;
  readonly logdata: Macro | undefined;
  readonly severity: number | undefined;
  readonly tags: readonly string[];
  readonly ver: string | undefined;
  readonly log: boolean;
  readonly auditlog: boolean;
  /** The next link of a chain. */
  chain: WafRule | undefined;
  /** Set on links after the first: the rule that starts the chain. */
  parent: WafRule | undefined;
}

const SEVERITIES = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'];

/** Actions that only describe the rule or are accepted for compatibility and do nothing here. */
const INERT = new Set(['rev', 'maturity', 'accuracy', 'sanitisearg', 'sanitisematched', 'sanitisematchedbytes', 'sanitiserequestheader', 'sanitiseresponseheader', 'expirevar', 'initcol', 'deprecatevar', 'setuid', 'setsid', 'setrsc', 'append', 'prepend', 'xmlns', 'exec']);

export interface RuleSource {
  readonly file: string;
  readonly line: number;
}

/**
 * Numbers the distinct transformation chains of a rule set and every prefix of them (values keep
 * one result per chain): a chain's result is its prefix's result through its last transformation,
 * so chains that begin alike (dozens begin with urlDecodeUni) share that work.
 */
export class TransformChains {
  readonly #ids = new Map<string, number>();
  /** By chain id: the chain without its last transformation (-1: none left). */
  readonly prefixes: number[] = [];
  /** By chain id: its last transformation. */
  readonly lasts: Transformation[] = [];

  get count(): number {
    return this.prefixes.length;
  }

  /** -1 for no transformations. */
  idFor(names: readonly string[]): number {
    let id = -1;
    let key = '';
    for (const name of names) {
      key += `${name},`;
      let next = this.#ids.get(key);
      if (next === undefined) {
        next = this.prefixes.length;
        this.#ids.set(key, next);
        this.prefixes.push(id);
        this.lasts.push(transformation(name)!);
      }
      id = next;
    }
    return id;
  }
}

export interface CompileRuleInput {
  readonly source: RuleSource;
  readonly targets: readonly TargetSpec[];
  readonly operator: OperatorSpec | undefined;
  /** SecDefaultAction's actions for the phase first (chain starters only), then the rule's. */
  readonly actions: readonly ActionSpec[];
  readonly parent: WafRule | undefined;
  readonly operatorContext: OperatorContext;
  readonly transformChains: TransformChains;
  /** The disruptive action `block` stands for (SecDefaultAction of the phase). */
  readonly blockAs: (phase: number) => Disruptive;
}

/** Compiles a rule; throws Error with the reason. `chain` tells the caller the next rule continues this one. */
export function compileRule(input: CompileRuleInput): { rule: WafRule; chain: boolean } {
  const { actions, parent } = input;
  let id = 0;
  let phase = parent?.phase ?? 2;
  let chain = false;
  let transformNames: string[] = [];
  let multiMatch = false;
  let capture = false;
  const perMatch: PerMatchAction[] = [];
  let skip = 0;
  let skipAfter: string | undefined;
  let disruptive: Disruptive | undefined;
  let status: number | undefined;
  let redirect: Macro | undefined;
  let msg: Macro | undefined;
  let logdata: Macro | undefined;
  let severity: number | undefined;
  const tags: string[] = [];
  let ver: string | undefined;
  let log = true;
  let auditlog = true;
  for (const { name, value } of actions) {
    switch (name) {
      case 'id': {
        const n = Number(value);
        if (!Number.isInteger(n) || n <= 0) throw new Error(`id:${value} is not a positive integer`);
        id = n;
        break;
      }
      case 'phase':
        phase = parsePhase(value);
        break;
      case 'chain':
        chain = true;
        break;
      case 't': {
        if (value.toLowerCase() === 'none') {
          transformNames = [];
          break;
        }
        if (transformation(value) === undefined) throw new Error(`unknown transformation t:${value}`);
        transformNames.push(value.toLowerCase());
        break;
      }
      case 'multimatch':
        multiMatch = true;
        break;
      case 'capture':
        capture = true;
        break;
      case 'setvar':
        perMatch.push(setvar(value));
        break;
      case 'setenv': {
        const eq = value.indexOf('=');
        perMatch.push({ kind: 'setenv', key: compileMacro(eq === -1 ? value : value.slice(0, eq)), value: compileMacro(eq === -1 ? '1' : value.slice(eq + 1)) });
        break;
      }
      case 'ctl':
        perMatch.push(ctl(value));
        break;
      case 'skip': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw new Error(`skip:${value} needs a positive number of rules`);
        skip = n;
        break;
      }
      case 'skipafter':
        skipAfter = value;
        break;
      case 'pass':
      case 'deny':
      case 'drop':
      case 'block':
        disruptive = name;
        break;
      case 'allow':
        disruptive = value === '' ? 'allow' : value.toLowerCase() === 'phase' ? 'allow:phase' : value.toLowerCase() === 'request' ? 'allow:request' : invalid(`allow:${value}`);
        break;
      case 'redirect':
        disruptive = 'redirect';
        redirect = compileMacro(value);
        break;
      case 'proxy':
        throw new Error('the proxy action is not supported: route the request with frontline routes instead');
      case 'status': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 100 || n > 599) throw new Error(`status:${value} is not an HTTP status`);
        status = n;
        break;
      }
      case 'msg':
        msg = compileMacro(value);
        break;
      case 'logdata':
        logdata = compileMacro(value);
        break;
      case 'severity':
        severity = parseSeverity(value);
        break;
      case 'tag':
        tags.push(value);
        break;
      case 'ver':
        ver = value;
        break;
      case 'log':
        log = true;
        break;
      case 'nolog':
        log = false;
        auditlog = false;
        break;
      case 'auditlog':
        auditlog = true;
        break;
      case 'noauditlog':
        auditlog = false;
        break;
      default:
        if (!INERT.has(name)) throw new Error(`unknown action "${name}"`);
    }
  }
  if (parent === undefined && id === 0 && input.operator !== undefined) throw new Error('the rule has no id (add id:N)');
  if (parent !== undefined && (id !== 0 || disruptive !== undefined || skipAfter !== undefined || actions.some((a) => a.name === 'phase'))) {
    throw new Error('a chained rule cannot have id, phase, disruptive or skipAfter actions; put them on the first rule of the chain');
  }
  const operator = input.operator === undefined ? undefined : compileOperatorFor(input.operator, input.operatorContext);
  const exclusions = input.targets.filter((t) => t.exclude).map(exclusionOf);
  const targets = input.targets.filter((t) => !t.exclude).map(compileTarget);
  for (const t of input.targets) if (t.exclude && variableKind(t.variable) === undefined) throw new Error(`unknown variable ${t.variable}`);
  // `block` (and no disruptive action at all) is what SecDefaultAction says for the phase; chain links never disrupt.
  const resolved: Disruptive = parent !== undefined ? 'pass' : disruptive === undefined || disruptive === 'block' ? input.blockAs(phase) : disruptive;
  const rule: WafRule = {
    id,
    phase,
    file: input.source.file,
    line: input.source.line,
    marker: undefined,
    targets,
    exclusions,
    targetSetKey: undefined,
    txKey: undefined,
    transformKey: input.transformChains.idFor(transformNames),
    transformSteps: multiMatch ? transformNames.map((_, i) => input.transformChains.idFor(transformNames.slice(0, i + 1))) : [],
    operator: operator?.test,
    requiredLiterals: operator?.requiredLiterals,
    prefilterBit: -1,
    reachBit: -1,
    resultKey: operator?.resultKey,
    resultSlot: -1,
    negated: input.operator?.negated ?? false,
    multiMatch,
    capture,
    perMatch,
    skip,
    skipAfter,
    disruptive: resolved,
    status,
    redirect,
    msg,
    logdata,
    severity,
    tags,
    ver,
    log,
    auditlog,
    chain: undefined,
    parent,
  };
  return { rule, chain };
}

export function markerRule(name: string, phase: number, source: RuleSource): WafRule {
  return {
    id: 0, phase, file: source.file, line: source.line, marker: name, targets: [], exclusions: [], targetSetKey: undefined, txKey: undefined, transformKey: -1, transformSteps: [],
    operator: undefined, requiredLiterals: undefined, prefilterBit: -1, reachBit: -1, resultKey: undefined, resultSlot: -1, negated: false, multiMatch: false, capture: false, perMatch: [], skip: 0, skipAfter: undefined,
    disruptive: 'pass', status: undefined, redirect: undefined, msg: undefined, logdata: undefined, severity: undefined,
    tags: [], ver: undefined, log: false, auditlog: false, chain: undefined, parent: undefined,
  };
}

function invalid(what: string): never {
  throw new Error(`invalid action ${what}`);
}

function compileOperatorFor(spec: OperatorSpec, context: OperatorContext): CompiledOperator {
  return compileOperator(spec.name, spec.argument, context);
}

export function parsePhase(value: string): number {
  const lower = value.toLowerCase();
  const named: Record<string, number> = { request: 2, response: 4, logging: 5 };
  const n = named[lower] ?? Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`phase:${value} is not a phase (1-5, request, response, logging)`);
  return n;
}

function parseSeverity(value: string): number {
  const n = /^[0-7]$/.test(value) ? Number(value) : SEVERITIES.indexOf(value.toUpperCase());
  if (n === -1) throw new Error(`severity:${value} is not a severity (0-7 or EMERGENCY..DEBUG)`);
  return n;
}

export function severityName(severity: number): string {
  return SEVERITIES[severity];
}

const COLLECTIONS = new Set(['TX', 'IP', 'GLOBAL', 'SESSION', 'USER', 'RESOURCE']);

function setvar(text: string): PerMatchAction {
  let rest = text;
  let remove = false;
  if (rest.startsWith('!')) {
    remove = true;
    rest = rest.slice(1);
  }
  const eq = rest.indexOf('=');
  const name = eq === -1 ? rest : rest.slice(0, eq);
  const dot = name.indexOf('.');
  const collection = (dot === -1 ? '' : name.slice(0, dot)).toUpperCase();
  if (!COLLECTIONS.has(collection) || dot === name.length - 1) throw new Error(`setvar:${text}: expected COLLECTION.name[=value] with TX, IP, GLOBAL, SESSION, USER or RESOURCE`);
  // Keys are case-insensitive (stored in lower case): a constant one is lower-cased here, once.
  return { kind: 'setvar', collection, remove, key: compileMacro(name.slice(dot + 1).toLowerCase()), value: eq === -1 ? undefined : compileMacro(rest.slice(eq + 1)) };
}

const CTL_OPTIONS = new Set([
  'ruleengine', 'ruleremovebyid', 'ruleremovebytag', 'ruleremovebymsg', 'ruleremovetargetbyid', 'ruleremovetargetbytag',
  'ruleremovetargetbymsg', 'requestbodyprocessor', 'requestbodyaccess', 'requestbodylimit', 'forcerequestbodyvariable',
  'responsebodyaccess', 'responsebodylimit', 'responsebodyprocessor', 'auditengine', 'auditlogparts', 'debugloglevel', 'hashengine', 'hashenforcement',
]);

function ctl(text: string): PerMatchAction {
  const eq = text.indexOf('=');
  if (eq === -1) throw new Error(`ctl:${text}: expected option=value`);
  const option = text.slice(0, eq).trim().toLowerCase();
  const value = text.slice(eq + 1).trim();
  if (!CTL_OPTIONS.has(option)) throw new Error(`ctl:${text}: unknown option ${text.slice(0, eq)}`);
  let target: Exclusion | undefined;
  let subject = value;
  if (option.startsWith('ruleremovetarget')) {
    const semi = value.indexOf(';');
    if (semi === -1) throw new Error(`ctl:${text}: expected ${text.slice(0, eq)}=<rule>;VARIABLE[:key]`);
    subject = value.slice(0, semi);
    const spec = value.slice(semi + 1);
    const colon = spec.indexOf(':');
    const variable = (colon === -1 ? spec : spec.slice(0, colon)).toUpperCase();
    const key = colon === -1 ? undefined : spec.slice(colon + 1);
    const keyIsRegex = key !== undefined && key.length >= 2 && key.startsWith('/') && key.endsWith('/');
    target = exclusionOf({ variable, key: keyIsRegex ? key!.slice(1, -1) : key, keyIsRegex });
  }
  const ids = option === 'ruleremovebyid' || option === 'ruleremovetargetbyid' ? parseIdRanges(subject) : [];
  return { kind: 'ctl', option, value: subject, target, ids };
}

/** `1`, `1-100`, or several separated by spaces or commas. */
export function parseIdRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  for (const part of text.split(/[ ,]+/)) {
    if (part.length === 0) continue;
    const dash = part.indexOf('-', 1);
    const start = Number(dash === -1 ? part : part.slice(0, dash));
    const end = Number(dash === -1 ? part : part.slice(dash + 1));
    if (!Number.isInteger(start) || !Number.isInteger(end) || start > end) throw new Error(`"${part}" is not a rule id or id range`);
    ranges.push([start, end]);
  }
  return ranges;
}
