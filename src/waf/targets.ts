// Rule targets: which values of the transaction a rule inspects. Every variable name is checked at
// load time; each target becomes a function that appends (variable, key, value) matches, with the
// rule's exclusions (`!ARGS:foo`, SecRuleUpdateTargetById, ctl:ruleRemoveTargetById) applied.
import type { Regex } from '../rules/regex/index.ts';
import type { KeyedValues } from './collections.ts';
import { keyRegex } from './regex.ts';
import type { TargetSpec } from './seclang/rule-syntax.ts';

/** A target's values, reused from rule to rule: keys as they arrived ('' for a single-valued variable). */
export class Matches {
  readonly keys: string[] = [];
  readonly values: string[] = [];
  size = 0;

  push(key: string, value: string): void {
    this.keys[this.size] = key;
    this.values[this.size] = value;
    this.size++;
  }
}

/** The transaction's variables as targets read them. */
export interface VariableSource {
  single(name: string): string | undefined;
  keyed(name: string): KeyedValues | undefined;
}

/** Removes keys of one variable from a rule's targets: a key (lower case) or a key regex; neither = all. */
export interface Exclusion {
  readonly variable: string;
  readonly key: string | undefined;
  readonly regex: Regex | undefined;
}

export interface Target {
  /** The variable as the rule names it (`ARGS`, not `ARGS_GET`). */
  readonly variable: string;
  readonly count: boolean;
  readonly spec: TargetSpec;
  /** Fills `out` with this target's values, less those the rule's exclusions and `extra` (decided at run time) remove. */
  collect(source: VariableSource, out: Matches, exclusions: readonly Exclusion[], extra: readonly Exclusion[] | undefined): void;
}

/** Variables with one value. */
const SINGLE = new Set([
  'ARGS_COMBINED_SIZE', 'AUTH_TYPE', 'DURATION', 'FILES_COMBINED_SIZE', 'FULL_REQUEST', 'FULL_REQUEST_LENGTH', 'HIGHEST_SEVERITY',
  'INBOUND_DATA_ERROR', 'MATCHED_VAR', 'MATCHED_VAR_NAME', 'MULTIPART_BOUNDARY_QUOTED', 'MULTIPART_BOUNDARY_WHITESPACE',
  'MULTIPART_CRLF_LF_LINES', 'MULTIPART_DATA_AFTER', 'MULTIPART_DATA_BEFORE', 'MULTIPART_FILE_LIMIT_EXCEEDED',
  'MULTIPART_HEADER_FOLDING', 'MULTIPART_INVALID_HEADER_FOLDING', 'MULTIPART_INVALID_PART', 'MULTIPART_INVALID_QUOTING',
  'MULTIPART_LF_LINE', 'MULTIPART_MISSING_SEMICOLON', 'MULTIPART_STRICT_ERROR', 'MULTIPART_UNMATCHED_BOUNDARY',
  'OUTBOUND_DATA_ERROR', 'PATH_INFO', 'QUERY_STRING', 'REMOTE_ADDR', 'REMOTE_HOST', 'REMOTE_PORT', 'REMOTE_USER',
  'REQBODY_ERROR', 'REQBODY_ERROR_MSG', 'REQBODY_PROCESSOR', 'REQBODY_PROCESSOR_ERROR', 'REQBODY_PROCESSOR_ERROR_MSG',
  'REQUEST_BASENAME', 'REQUEST_BODY', 'REQUEST_BODY_LENGTH', 'REQUEST_FILENAME', 'REQUEST_LINE', 'REQUEST_METHOD',
  'REQUEST_PROTOCOL', 'REQUEST_URI', 'REQUEST_URI_RAW', 'RESPONSE_BODY', 'RESPONSE_CONTENT_LENGTH', 'RESPONSE_CONTENT_TYPE',
  'RESPONSE_PROTOCOL', 'RESPONSE_STATUS', 'SERVER_ADDR', 'SERVER_NAME', 'SERVER_PORT', 'SESSIONID', 'STATUS_LINE',
  'TIME', 'TIME_DAY', 'TIME_EPOCH', 'TIME_HOUR', 'TIME_MIN', 'TIME_MON', 'TIME_SEC', 'TIME_WDAY', 'TIME_YEAR', 'UNIQUE_ID',
  'URLENCODED_ERROR', 'USERID', 'WEBSERVER_ERROR_LOG', 'RESBODY_ERROR', 'RESBODY_PROCESSOR', 'RESBODY_PROCESSOR_ERROR',
]);

/** Variables with keys, stored as such. */
const KEYED = new Set([
  'ARGS_GET', 'ARGS_POST', 'ARGS_PATH', 'REQUEST_HEADERS', 'REQUEST_COOKIES', 'RESPONSE_HEADERS', 'FILES', 'FILES_SIZES',
  'FILES_TMPNAMES', 'FILES_TMP_CONTENT', 'MULTIPART_PART_HEADERS', 'MULTIPART_FILENAME', 'MULTIPART_NAME', 'TX', 'ENV', 'GEO',
  'IP', 'GLOBAL', 'SESSION', 'USER', 'RESOURCE', 'XML', 'JSON', 'MATCHED_VARS', 'RULE', 'RESPONSE_ARGS',
]);

/** Variables made of others: the stored collections they read, and whether they yield keys instead of values. */
const DERIVED: Record<string, { readonly parts: readonly string[]; readonly names: boolean }> = {
  ARGS: { parts: ['ARGS_GET', 'ARGS_POST', 'ARGS_PATH'], names: false },
  ARGS_NAMES: { parts: ['ARGS_GET', 'ARGS_POST', 'ARGS_PATH'], names: true },
  ARGS_GET_NAMES: { parts: ['ARGS_GET'], names: true },
  ARGS_POST_NAMES: { parts: ['ARGS_POST'], names: true },
  REQUEST_HEADERS_NAMES: { parts: ['REQUEST_HEADERS'], names: true },
  REQUEST_COOKIES_NAMES: { parts: ['REQUEST_COOKIES'], names: true },
  RESPONSE_HEADERS_NAMES: { parts: ['RESPONSE_HEADERS'], names: true },
  FILES_NAMES: { parts: ['FILES'], names: true },
  MATCHED_VARS_NAMES: { parts: ['MATCHED_VARS'], names: true },
};

/** Variables whose values change while rules run (setvar, matches, ctl): never cached between rules. */
const CHANGING = new Set(['TX', 'MATCHED_VAR', 'MATCHED_VARS', 'MATCHED_VAR_NAME', 'MATCHED_VARS_NAMES', 'RULE', 'ENV', 'IP', 'GLOBAL', 'SESSION', 'USER', 'RESOURCE', 'HIGHEST_SEVERITY', 'REQBODY_PROCESSOR']);

/** Whether rules change the variable's values (setvar, matches, ctl) while they run. */
export function changesWhileRulesRun(variable: string): boolean {
  return CHANGING.has(variable);
}

/**
 * A key naming what a rule's targets collect, equal for rules that read the same values (CRS
 * reads `REQUEST_COOKIES|REQUEST_COOKIES_NAMES|ARGS_NAMES|ARGS|XML:/*` in hundreds of rules), so a
 * transaction collects them once; undefined when a target reads a variable that rules change.
 */
export function targetSetKey(targets: readonly Target[], exclusions: readonly Exclusion[]): string | undefined {
  // One target is collected as cheaply as a cached set is looked up.
  if (targets.length < 2) return undefined;
  let key = '';
  for (const { spec } of targets) {
    if (changesWhileRulesRun(spec.variable)) return undefined;
    key += `${spec.count ? '&' : ''}${spec.variable}${spec.key === undefined ? '' : spec.keyIsRegex ? `:/${spec.key}/` : `:${spec.key.toLowerCase()}`}|`;
  }
  for (const ex of exclusions) key += `!${ex.variable}:${ex.regex !== undefined ? `/${ex.regex.source}/` : (ex.key ?? '')}|`;
  return key;
}

/** The first value of `variable` under `lowerKey`, derived collections (ARGS, ...) included: for macros. */
export function firstKeyedValue(source: VariableSource, variable: string, lowerKey: string): string | undefined {
  const derived = DERIVED[variable];
  if (derived === undefined) return source.keyed(variable)?.first(lowerKey);
  for (const part of derived.parts) {
    const values = source.keyed(part);
    const i = values === undefined ? -1 : values.indexOf(lowerKey);
    if (i !== -1) return derived.names ? values!.keys[i] : values!.values[i];
  }
  return undefined;
}

/** A variable as stored: a single value, or a collection's values or keys (all, or those under one key). */
export interface StoredVariable {
  readonly name: string;
  readonly single: boolean;
  readonly names: boolean;
  /** In lower case; undefined: every entry. */
  readonly key: string | undefined;
}

/** The stored variables a target reads (ARGS reads ARGS_GET, ARGS_POST and ARGS_PATH). */
export function storedVariables(spec: TargetSpec): StoredVariable[] {
  if (variableKind(spec.variable) === 'single') return [{ name: spec.variable, single: true, names: false, key: undefined }];
  const derived = DERIVED[spec.variable];
  const key = spec.key === undefined || spec.keyIsRegex ? undefined : spec.key.toLowerCase();
  return (derived?.parts ?? [spec.variable]).map((name) => ({ name, single: false, names: derived?.names ?? false, key }));
}

/** Whether a variable name exists, and whether it takes keys. */
export function variableKind(name: string): 'single' | 'keyed' | undefined {
  if (SINGLE.has(name)) return 'single';
  if (KEYED.has(name) || name in DERIVED) return 'keyed';
  return undefined;
}

export function exclusionOf(spec: { variable: string; key: string | undefined; keyIsRegex: boolean }): Exclusion {
  return {
    variable: spec.variable,
    key: spec.key === undefined || spec.keyIsRegex ? undefined : spec.key.toLowerCase(),
    regex: spec.key !== undefined && spec.keyIsRegex ? keyRegex(spec.key) : undefined,
  };
}

function excluded(exclusions: readonly Exclusion[], variable: string, lowerKey: string): boolean {
  for (const ex of exclusions) {
    if (ex.variable !== variable) continue;
    if (ex.regex !== undefined ? ex.regex.test(lowerKey) : ex.key === undefined || ex.key === lowerKey) return true;
  }
  return false;
}

/** Compiles one target. Throws Error for an unknown variable. */
export function compileTarget(spec: TargetSpec): Target {
  const { variable, count } = spec;
  const kind = variableKind(variable);
  if (kind === undefined) throw new Error(`unknown variable ${variable}`);
  if (kind === 'single') {
    if (spec.key !== undefined) throw new Error(`variable ${variable} has no keys (":${spec.key}")`);
    return {
      variable,
      count,
      spec,
      collect(source, out, exclusions, extra) {
        // A single-valued variable is always there, empty until set (as Coraza has it): CRS
        // relies on `!@rx` matching an unset REQBODY_PROCESSOR.
        out.size = 0;
        if ((exclusions.length > 0 && excluded(exclusions, variable, '')) || (extra !== undefined && excluded(extra, variable, ''))) {
          if (count) out.push('', '0');
          return;
        }
        out.push('', count ? '1' : (source.single(variable) ?? ''));
      },
    };
  }
  const derived = DERIVED[variable];
  const parts = derived?.parts ?? [variable];
  const names = derived?.names ?? false;
  const lowerKey = spec.key !== undefined && !spec.keyIsRegex ? spec.key.toLowerCase() : undefined;
  const regex = spec.key !== undefined && spec.keyIsRegex ? keyRegex(spec.key) : undefined;
  return {
    variable,
    count,
    spec,
    collect(source, out, exclusions, extra) {
      out.size = 0;
      for (const part of parts) {
        const values = source.keyed(part);
        if (values === undefined || values.size === 0) continue;
        const keys = values.keys;
        const lowerKeys = values.lowerKeys;
        let i = 0;
        if (lowerKey !== undefined) {
          // A named key: straight to its first entry (the only one, unless keys repeat).
          i = values.indexOf(lowerKey);
          if (i === -1) continue;
        }
        const end = lowerKey !== undefined && !values.repeated ? i + 1 : keys.length;
        for (; i < end; i++) {
          const lower = lowerKeys[i];
          if (lowerKey !== undefined ? lower !== lowerKey : regex !== undefined && !regex.test(keys[i])) continue;
          if (exclusions.length > 0 && excluded(exclusions, variable, lower)) continue;
          if (extra !== undefined && excluded(extra, variable, lower)) continue;
          out.push(keys[i], names ? keys[i] : values.values[i]);
        }
      }
      if (count) {
        const found = out.size;
        out.size = 0;
        out.push(spec.key ?? '', String(found));
      }
    },
  };
}
