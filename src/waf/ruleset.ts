// A loaded SecLang configuration: engine settings and the compiled rules of each phase, built once
// from directives. Any directive that does not load rejects the whole configuration with its
// file, line and reason (SecLangError), so a running configuration is only ever replaced by a
// complete one.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Regex } from '../rules/regex/index.ts';
import { readDirectiveFiles, SecLangError, type Directive } from './seclang/directives.ts';
import { parseActions, parseOperator, parseTargets, type ActionSpec } from './seclang/rule-syntax.ts';
import { compileRule, markerRule, parseIdRanges, parsePhase, TransformChains, type Disruptive, type WafRule } from './rule.ts';
import { OperatorPrefilter } from './prefilter.ts';
import { RequestReach } from './request-reach.ts';
import { ValueMemos } from './value-memo.ts';
import { operatorRegex } from './regex.ts';
import { compileTarget, exclusionOf, targetSetKey } from './targets.ts';

export type EngineMode = 'On' | 'Off' | 'DetectionOnly';
export type AuditEngine = 'On' | 'Off' | 'RelevantOnly';

export interface WafSettings {
  engine: EngineMode;
  requestBodyAccess: boolean;
  /** Bytes of request body buffered and inspected. */
  requestBodyLimit: number;
  /** Limit for the body without file parts (multipart); for other bodies the same as requestBodyLimit. */
  requestBodyNoFilesLimit: number;
  requestBodyLimitAction: 'Reject' | 'ProcessPartial';
  requestBodyJsonDepthLimit: number;
  argumentsLimit: number;
  argumentSeparator: string;
  responseBodyAccess: boolean;
  responseBodyMimeTypes: Set<string>;
  responseBodyLimit: number;
  responseBodyLimitAction: 'Reject' | 'ProcessPartial';
  auditEngine: AuditEngine;
  auditLogRelevantStatus: Regex | undefined;
  componentSignatures: string[];
}

export function defaultSettings(): WafSettings {
  return {
    engine: 'On',
    requestBodyAccess: false,
    requestBodyLimit: 13107200,
    requestBodyNoFilesLimit: 131072,
    requestBodyLimitAction: 'Reject',
    requestBodyJsonDepthLimit: 1024,
    argumentsLimit: 1000,
    argumentSeparator: '&',
    responseBodyAccess: false,
    responseBodyMimeTypes: new Set(['text/plain', 'text/html']),
    responseBodyLimit: 524288,
    responseBodyLimitAction: 'ProcessPartial',
    auditEngine: 'Off',
    auditLogRelevantStatus: undefined,
    componentSignatures: [],
  };
}

export class WafRuleSet {
  readonly settings: WafSettings;
  /** Rules (and markers) of phases 1–5, in file order; index 0 is unused. */
  readonly phases: WafRule[][];
  /** By phase: the positions of each SecMarker in `phases[phase]`, ascending (skipAfter jumps there). */
  readonly markers: ReadonlyMap<string, readonly number[]>[];
  readonly byId: ReadonlyMap<number, WafRule>;
  /** Ids of the rules carrying each tag (ctl:ruleRemoveByTag and friends look here per request). */
  readonly idsByTag: ReadonlyMap<string, readonly number[]>;
  /** Decides for all rules with required literals at once which can match a value. */
  readonly prefilter: OperatorPrefilter | undefined;
  /** The rules' transformation chains (a rule's transformKey) and their prefixes. */
  readonly transformChains: TransformChains;
  /** What transactions worked out about the values they read, for the next ones (see value-memo.ts). */
  readonly values: ValueMemos;
  /** Which rules the request's reach decides, and what it reads (see request-reach.ts). */
  readonly reach: RequestReach;

  constructor(settings: WafSettings, phases: WafRule[][], byId: Map<number, WafRule>, transformChains: TransformChains) {
    this.settings = settings;
    this.phases = phases;
    this.markers = phases.map((rules) => {
      const positions = new Map<string, number[]>();
      rules.forEach((rule, i) => {
        if (rule.marker === undefined) return;
        const list = positions.get(rule.marker);
        if (list === undefined) positions.set(rule.marker, [i]);
        else list.push(i);
      });
      return positions;
    });
    this.byId = byId;
    const resultSlots = new Map<string, number>();
    for (let phase = 1; phase <= 5; phase++) {
      for (const rule of phases[phase]) {
        for (let link: WafRule | undefined = rule; link !== undefined; link = link.chain) {
          link.targetSetKey = link.operator === undefined ? undefined : targetSetKey(link.targets, link.exclusions);
          const only = link.targets.length === 1 ? link.targets[0].spec : undefined;
          if (only?.variable === 'TX' && only.key !== undefined && !only.keyIsRegex && link.exclusions.length === 0 && link.transformKey === -1) {
            link.txKey = only.key.toLowerCase();
          }
          if (link.resultKey === undefined) continue;
          // A capturing rule's result comes with its captures, kept in a slot of its own.
          const resultKey = link.capture ? `capture ${link.resultKey}` : link.resultKey;
          let slot = resultSlots.get(resultKey);
          if (slot === undefined) resultSlots.set(resultKey, (slot = resultSlots.size));
          link.resultSlot = slot;
        }
      }
    }
    this.transformChains = transformChains;
    const idsByTag = new Map<string, number[]>();
    for (const rule of byId.values()) {
      for (const tag of rule.tags) {
        const ids = idsByTag.get(tag);
        if (ids === undefined) idsByTag.set(tag, [rule.id]);
        else if (ids.at(-1) !== rule.id) ids.push(rule.id);
      }
    }
    this.idsByTag = idsByTag;
    this.prefilter = OperatorPrefilter.build(phases.flat());
    this.reach = new RequestReach(phases.flat(), this.prefilter?.words ?? 0, transformChains.count + 1);
    this.values = new ValueMemos(this.prefilter, this.reach.chainMasks, this.reach.exactWords);
  }

  /** Loads files (paths or globs, relative to `baseDir`), in order. Throws SecLangError. */
  static fromFiles(patterns: readonly string[], baseDir?: string): WafRuleSet {
    return WafRuleSet.fromDirectives(readDirectiveFiles(patterns, baseDir));
  }

  /** Compiles directives. Throws SecLangError naming the directive's file and line. */
  static fromDirectives(directives: readonly Directive[]): WafRuleSet {
    const builder = new Builder();
    for (const directive of directives) {
      try {
        builder.apply(directive);
      } catch (error) {
        if (error instanceof SecLangError) throw error;
        throw new SecLangError(directive.file, directive.line, `${directive.name}: ${(error as Error).message}`);
      }
    }
    return builder.finish();
  }

}

class Builder {
  readonly settings = defaultSettings();
  readonly #phases: WafRule[][] = [[], [], [], [], [], []];
  readonly #byId = new Map<number, WafRule>();
  readonly #defaults = new Map<number, ActionSpec[]>();
  readonly #transformChains = new TransformChains();
  /** The last link of a chain still expecting its next rule. */
  #open: WafRule | undefined;
  #openDirective: Directive | undefined;

  apply(d: Directive): void {
    const name = d.name.toLowerCase();
    if (this.#open !== undefined && name !== 'secrule') {
      throw new SecLangError(this.#openDirective!.file, this.#openDirective!.line, 'the rule ends with `chain` but no SecRule follows it');
    }
    const args = d.args;
    const one = (): string => {
      if (args.length !== 1) throw new Error(`expects one argument, got ${args.length}`);
      return args[0];
    };
    switch (name) {
      case 'secrule': {
        if (args.length < 2 || args.length > 3) throw new Error('expects VARIABLES "OPERATOR" ["ACTIONS"]');
        this.#rule(d, args[0], args[1], args[2] ?? '');
        return;
      }
      case 'secaction':
        this.#rule(d, undefined, undefined, one());
        return;
      case 'secmarker': {
        const marker = one();
        for (let phase = 1; phase <= 5; phase++) this.#phases[phase].push(markerRule(marker, phase, d));
        return;
      }
      case 'secdefaultaction': {
        const actions = parseActions(one());
        const phaseAction = actions.find((a) => a.name === 'phase');
        if (phaseAction === undefined) throw new Error('needs a phase action (e.g. "phase:2,log,auditlog,pass")');
        const disruptive = actions.filter((a) => DISRUPTIVE.has(a.name));
        if (disruptive.length === 0) throw new Error('needs a disruptive action (pass, deny, block, ...)');
        if (actions.some((a) => a.name === 'id' || a.name === 'chain' || a.name === 'skip' || a.name === 'skipafter')) throw new Error('cannot hold id, chain, skip or skipAfter');
        this.#defaults.set(parsePhase(phaseAction.value), actions.filter((a) => a.name !== 'phase'));
        return;
      }
      case 'secruleengine':
        this.settings.engine = choice(one(), ['On', 'Off', 'DetectionOnly'] as const);
        return;
      case 'secrequestbodyaccess':
        this.settings.requestBodyAccess = onOff(one());
        return;
      case 'secrequestbodylimit':
        this.settings.requestBodyLimit = size(one());
        return;
      case 'secrequestbodynofileslimit':
        this.settings.requestBodyNoFilesLimit = size(one());
        return;
      case 'secrequestbodylimitaction':
        this.settings.requestBodyLimitAction = choice(one(), ['Reject', 'ProcessPartial'] as const);
        return;
      case 'secrequestbodyjsondepthlimit':
        this.settings.requestBodyJsonDepthLimit = size(one());
        return;
      case 'secargumentslimit':
        this.settings.argumentsLimit = size(one());
        return;
      case 'secresponsebodyaccess':
        this.settings.responseBodyAccess = onOff(one());
        return;
      case 'secresponsebodymimetype':
        for (const arg of args) for (const type of arg.split(/\s+/)) if (type.length > 0) this.settings.responseBodyMimeTypes.add(type.toLowerCase());
        return;
      case 'secresponsebodymimetypesclear':
        this.settings.responseBodyMimeTypes.clear();
        return;
      case 'secresponsebodylimit':
        this.settings.responseBodyLimit = size(one());
        return;
      case 'secresponsebodylimitaction':
        this.settings.responseBodyLimitAction = choice(one(), ['Reject', 'ProcessPartial'] as const);
        return;
      case 'secargumentseparator': {
        const separator = one();
        if (separator.length !== 1) throw new Error('expects one character');
        this.settings.argumentSeparator = separator;
        return;
      }
      case 'secauditengine':
        this.settings.auditEngine = choice(one(), ['On', 'Off', 'RelevantOnly'] as const);
        return;
      case 'secauditlogrelevantstatus':
        this.settings.auditLogRelevantStatus = operatorRegex(one());
        return;
      case 'seccomponentsignature':
        this.settings.componentSignatures.push(one());
        return;
      case 'secruleremovebyid':
        for (const arg of args) for (const [start, end] of parseIdRanges(arg)) this.#remove((rule) => rule.id >= start && rule.id <= end);
        return;
      case 'secruleremovebytag':
        for (const arg of args) this.#remove((rule) => rule.tags.includes(arg));
        return;
      case 'secruleremovebymsg':
        for (const arg of args) this.#remove((rule) => rule.msg?.constant === arg);
        return;
      case 'secruleupdatetargetbyid':
      case 'secruleupdatetargetbytag':
      case 'secruleupdatetargetbymsg': {
        if (args.length < 2 || args.length > 3) throw new Error('expects a rule selector, "TARGETS" and optionally the target to replace');
        const select =
          name === 'secruleupdatetargetbyid'
            ? ((ranges) => (rule: WafRule) => ranges.some(([s, e]) => rule.id >= s && rule.id <= e))(parseIdRanges(args[0]))
            : name === 'secruleupdatetargetbytag'
              ? (rule: WafRule) => rule.tags.includes(args[0])
              : (rule: WafRule) => rule.msg?.constant === args[0];
        this.#updateTargets(select, args[1], args[2]);
        return;
      }
      case 'secruleupdateactionbyid':
        throw new Error('SecRuleUpdateActionById is not supported; copy the rule with the actions you need and remove the original with SecRuleRemoveById');
      case 'secrulescript':
        throw new Error('Lua rules (SecRuleScript) are not supported');
      case 'secxmlexternalentity':
        if (onOff(one())) throw new Error('external XML entities are never loaded; only "Off" is accepted');
        return;
      default:
        if (ACCEPTED.has(name)) return;
        throw new Error(`unknown directive ${d.name}`);
    }
  }

  finish(): WafRuleSet {
    if (this.#open !== undefined) throw new SecLangError(this.#openDirective!.file, this.#openDirective!.line, 'the rule ends with `chain` but no SecRule follows it');
    return new WafRuleSet(this.settings, this.#phases, this.#byId, this.#transformChains);
  }

  #rule(d: Directive, targetText: string | undefined, operatorText: string | undefined, actionText: string): void {
    const parent = this.#open;
    const own = parseActions(actionText);
    const explicitPhase = own.find((a) => a.name === 'phase');
    const phase = parent?.phase ?? (explicitPhase !== undefined ? parsePhase(explicitPhase.value) : 2);
    const defaults = parent === undefined ? (this.#defaults.get(phase) ?? []) : [];
    const { rule, chain } = compileRule({
      source: d,
      targets: targetText === undefined ? [] : parseTargets(targetText),
      operator: operatorText === undefined ? undefined : parseOperator(operatorText),
      actions: [...defaults, ...own],
      parent: parent === undefined ? undefined : (parent.parent ?? parent),
      operatorContext: { readFile: (file) => readFileSync(isAbsolute(file) ? file : join(dirname(d.file), file), 'latin1') },
      transformChains: this.#transformChains,
      blockAs: (p) => this.#blockAs(p),
    });
    if (parent !== undefined) {
      parent.chain = rule;
    } else {
      if (this.#byId.has(rule.id)) {
        const first = this.#byId.get(rule.id)!;
        throw new Error(`rule id ${rule.id} is already used at ${first.file}:${first.line}`);
      }
      if (rule.id !== 0) this.#byId.set(rule.id, rule);
      this.#phases[rule.phase].push(rule);
    }
    this.#open = chain ? rule : undefined;
    this.#openDirective = chain ? d : undefined;
  }

  #blockAs(phase: number): Disruptive {
    const defaults = this.#defaults.get(phase);
    const last = defaults?.filter((a) => DISRUPTIVE.has(a.name)).at(-1);
    if (last === undefined || last.name === 'block') return 'pass';
    if (last.name === 'allow') return last.value === '' ? 'allow' : (`allow:${last.value.toLowerCase()}` as Disruptive);
    return last.name as Disruptive;
  }

  #remove(select: (rule: WafRule) => boolean): void {
    for (let phase = 1; phase <= 5; phase++) {
      this.#phases[phase] = this.#phases[phase].filter((rule) => {
        if (rule.marker !== undefined || !select(rule)) return true;
        this.#byId.delete(rule.id);
        return false;
      });
    }
  }

  #updateTargets(select: (rule: WafRule) => boolean, targetText: string, replace: string | undefined): void {
    const specs = parseTargets(targetText);
    for (const rule of this.#byId.values()) {
      if (!select(rule)) continue;
      // Exclusions live on the rule: every target of their variable checks them.
      rule.exclusions.push(...specs.filter((s) => s.exclude).map(exclusionOf));
      const targets = specs.filter((s) => !s.exclude).map(compileTarget);
      if (replace !== undefined) {
        const old = parseTargets(replace)[0];
        const index = rule.targets.findIndex((t) => t.variable === old?.variable);
        if (index === -1) throw new Error(`rule ${rule.id} has no target ${replace} to replace`);
        rule.targets.splice(index, 1, ...targets);
      } else {
        rule.targets.push(...targets);
      }
    }
  }
}

const DISRUPTIVE = new Set(['pass', 'deny', 'drop', 'block', 'allow', 'redirect', 'proxy']);

/** Directives that configure things frontline does otherwise (logging, storage) or not at all; accepted so that stock files load. */
const ACCEPTED = new Set([
  'secauditlog', 'secauditlog2', 'secauditlogparts', 'secauditlogtype', 'secauditlogformat', 'secauditlogstoragedir', 'secauditlogdirmode',
  'secauditlogfilemode', 'secdebuglog', 'secdebugloglevel', 'sectmpdir', 'secdatadir', 'secuploaddir', 'secuploadkeepfiles',
  'secuploadfilemode', 'secuploadfilelimit', 'seccollectiontimeout', 'secpcrematchlimit', 'secpcrematchlimitrecursion',
  'secunicodemapfile', 'secunicodecodepage', 'secstatusengine', 'secserversignature', 'sechttpblkey', 'secwebappid', 'secsensorid',
  'seccookieformat', 'seccookiev0separator', 'secrequestbodyinmemorylimit', 'secresponsebodylimitaction', 'sectmpsaveuploadedfiles',
  'secgeolookupdb', 'secconnengine', 'secinterceptonerror', 'secrulesupdate', 'secruleinheritance', 'secstreaminbodyinspection',
  'secstreamoutbodyinspection', 'secdisablebackendcompression', 'sechashengine', 'sechashkey', 'sechashparam', 'sechashmethodrx',
  'sechashmethodpm', 'secrulemandatoryid', 'secrxprefilter',
]);

function onOff(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower === 'on') return true;
  if (lower === 'off') return false;
  throw new Error(`expects On or Off, got "${value}"`);
}

function choice<T extends string>(value: string, options: readonly T[]): T {
  const found = options.find((o) => o.toLowerCase() === value.toLowerCase());
  if (found === undefined) throw new Error(`expects one of ${options.join(', ')}, got "${value}"`);
  return found;
}

function size(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expects a non-negative integer, got "${value}"`);
  return n;
}
