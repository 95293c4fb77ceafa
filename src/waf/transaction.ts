// One request through the WAF: its variables, and the rules of each phase run against them with
// ModSecurity/Coraza semantics:
// - a rule's targets are collected (exclusions applied), each value transformed and given to
//   the operator; `multiMatch` tries every stage of the chain. Rules that read the same targets
//   (CRS reads the same set in hundreds of rules) share one collection per transaction, and one
//   transformed copy per chain;
// - for every match, MATCHED_VAR(S) are set and the per-match actions run (setvar, ctl, ...),
//   even if a later link of a chain then fails, as in ModSecurity;
// - when the whole chain matched: skip/skipAfter, the disruptive action (enforced only with
//   SecRuleEngine On; in DetectionOnly it is recorded), and the rule is logged if it logs.
import { parseCookies } from './body/cookies.ts';
import { parseJson } from './body/json.ts';
import { parseMultipart } from './body/multipart.ts';
import { parseUrlEncoded } from './body/urlencoded.ts';
import { parseXml } from './body/xml.ts';
import { KeyedValues } from './collections.ts';
import type { MacroResolver } from './macro.ts';
import type { Operator, OperatorState } from './operators.ts';
import { hasBit } from './prefilter.ts';
import { severityName, type Disruptive, type PerMatchAction, type WafRule } from './rule.ts';
import type { EngineMode, WafRuleSet } from './ruleset.ts';
import type { ReachSource } from './request-reach.ts';
import { exclusionOf, firstKeyedValue, Matches, type Exclusion, type VariableSource } from './targets.ts';
import { lowercase } from './transformations/case.ts';
import { keepCaptures, keepResult, recallCaptures, recallResult, type ValueMemo } from './value-memo.ts';

export interface WafRequest {
  /** UNIQUE_ID: the proxy's request id. */
  readonly id: string;
  readonly method: string;
  /** The request target as received (REQUEST_URI_RAW). */
  readonly target: string;
  /** e.g. "HTTP/1.1". */
  readonly protocol: string;
  /** Header fields in arrival order, names and values as binary strings. */
  readonly headers: readonly (readonly [string, string])[];
  readonly remoteAddr: string;
  readonly remotePort: number;
  readonly serverAddr: string;
  readonly serverPort: number;
}

export interface Interruption {
  readonly action: 'deny' | 'drop' | 'redirect';
  readonly status: number;
  readonly ruleId: number;
  /** For redirect. */
  readonly location?: string;
}

export interface MatchedRule {
  readonly id: number;
  readonly msg: string;
  readonly data: string;
  readonly file: string;
  readonly line: number;
  readonly severity: string | undefined;
  readonly tags: readonly string[];
  readonly phase: number;
  /** What the rule's disruptive action is (enforced or not). */
  readonly action: Disruptive;
  readonly log: boolean;
  readonly auditlog: boolean;
}

export interface TransactionOptions {
  /** The status of a disruptive action without `status:` (default 403). */
  readonly blockStatus?: number;
  /** The time the TIME_* variables tell (default: now). */
  readonly now?: Date;
}

/**
 * What phases 1–2 leave for the later phases, as plain data: the request phases may run on a
 * pool thread and the response phases on the event loop (see features/waf).
 */
export interface TransactionState {
  readonly tx: readonly (readonly [string, string])[];
  readonly engine: EngineMode;
  readonly responseBodyAccess: boolean;
  readonly auditEngine: 'On' | 'Off' | 'RelevantOnly';
  readonly interruption: Interruption | undefined;
  readonly wouldInterrupt: Interruption | undefined;
  readonly matched: readonly MatchedRule[];
  readonly messages: readonly string[];
  readonly highestSeverity: string;
  readonly removedIds: readonly (readonly [number, number])[];
  readonly removedTargets: readonly { readonly start: number; readonly end: number; readonly variable: string; readonly key: string | undefined; readonly regex: string | undefined }[];
  readonly skipAfter: string | undefined;
  readonly allow: 'none' | 'phase' | 'request' | 'all';
}

export class Transaction implements VariableSource {
  readonly rules: WafRuleSet;
  readonly request: WafRequest;
  readonly singles = new Map<string, string>();
  readonly collections = new Map<string, KeyedValues>();
  engine: EngineMode;
  requestBodyAccess: boolean;
  responseBodyAccess: boolean;
  forceRequestBodyVariable = false;
  auditEngine: 'On' | 'Off' | 'RelevantOnly';
  interruption: Interruption | undefined;
  /** The interruption DetectionOnly did not enforce. */
  wouldInterrupt: Interruption | undefined;
  readonly matched: MatchedRule[] = [];
  /** Free-text lines for the audit log (body processor errors, limits). */
  readonly messages: string[] = [];
  lastPhase = 0;
  readonly #blockStatus: number;
  /** When the transaction began (ms since the epoch): TIME* tell it. */
  readonly #time: number;
  #skip = 0;
  #skipAfter: string | undefined;
  #allow: 'none' | 'phase' | 'request' | 'all' = 'none';
  readonly #removedIds: (readonly [number, number])[] = [];
  /** ctl:ruleRemoveTarget*: targets removed from one rule (by id), or from the rules with ids in [start, end]. */
  readonly #removedTargets = new Map<number, Exclusion[]>();
  readonly #removedTargetRanges: { readonly start: number; readonly end: number; readonly target: Exclusion }[] = [];
  readonly #matches = new Matches();
  /** The names of the values of the target set being matched (see #collectNames). */
  readonly #nameVariables: string[] = [];
  readonly #nameKeys: string[] = [];
  /**
   * The memos of the values this transaction met. The same strings recur in dozens of target sets:
   * a small table of its own finds them by identity, where the rule set's table of kept values
   * (thousands of entries, out of cache) would compare their text; it also holds the memos of
   * values too long to keep across transactions (see value-memo.ts).
   */
  readonly #seen = new Map<string, ValueMemo>();
  /** Values of target sets shared by rules (targetSetKey), valid while `#generation` is theirs. */
  readonly #targetSets = new Map<string, TargetSet>();
  /** Bumped whenever request or response data is added (a body parsed, a response arrived). */
  #generation = 0;
  /** The request's reach (see request-reach.ts), joined up to `#reachGeneration`. */
  #reach: Int32Array | undefined;
  #reachGeneration = -1;
  /** By source: the collection (or single value) last joined into the reach, and its size then (see #joinNew). */
  readonly #joinedFrom: (KeyedValues | string | undefined)[] = [];
  readonly #joinedCount: number[] = [];
  /** The current rule's matches (MATCHED_VARS), as parallel lists. */
  readonly #matchedVariables: string[] = [];
  readonly #matchedKeys: string[] = [];
  readonly #matchedValues: string[] = [];
  #matchedVarsBuilt: KeyedValues | undefined;
  /** The last match, of this rule or an earlier one (MATCHED_VAR_NAME outlives its rule, as MATCHED_VAR does). */
  #lastMatchedVariable: string | undefined;
  #lastMatchedKey = '';
  #lastMatchedName: string | undefined;
  #rule: WafRule | undefined;
  /** Where the running operator's captures go instead of TX, to be kept with its result (see #keptResult). */
  #recordedCaptures: (number | string)[] | undefined;
  /** `capturing` is a plain field, set per rule (see the constructor for why not a getter). */
  readonly #operatorState: { capturing: boolean } & OperatorState;
  readonly resolve: MacroResolver;

  constructor(rules: WafRuleSet, request: WafRequest, options: TransactionOptions = {}) {
    this.rules = rules;
    this.request = request;
    const settings = rules.settings;
    this.engine = settings.engine;
    this.requestBodyAccess = settings.requestBodyAccess;
    this.responseBodyAccess = settings.responseBodyAccess;
    this.auditEngine = settings.auditEngine;
    this.#blockStatus = options.blockStatus ?? 403;
    // Never `this.x = () => ...` nor a getter here: V8 allocates a function literal assigned to a
    // property, and an accessor pair, in old space, and from there their context would keep the
    // whole transaction (every value it made) alive through every scavenge until the next full GC.
    const resolve: MacroResolver = (variable, key) => this.#resolve(variable, key);
    this.resolve = resolve;
    this.#operatorState = {
      capturing: false,
      capture: (index, value) => this.#capture(index, value),
      resolve,
    };
    this.#time = options.now?.getTime() ?? Date.now();
    this.#setRequestVariables();
  }

  /** The state the response phases need (see TransactionState). */
  snapshot(): TransactionState {
    const tx = this.collections.get('TX');
    const removedTargets: TransactionState['removedTargets'][number][] = [];
    const plain = (start: number, end: number, t: Exclusion) => removedTargets.push({ start, end, variable: t.variable, key: t.key, regex: t.regex?.source });
    for (const [id, targets] of this.#removedTargets) for (const t of targets) plain(id, id, t);
    for (const { start, end, target } of this.#removedTargetRanges) plain(start, end, target);
    return {
      tx: tx === undefined ? [] : tx.keys.map((key, i) => [key, tx.values[i]] as const),
      engine: this.engine,
      responseBodyAccess: this.responseBodyAccess,
      auditEngine: this.auditEngine,
      interruption: this.interruption,
      wouldInterrupt: this.wouldInterrupt,
      matched: this.matched,
      messages: this.messages,
      highestSeverity: this.single('HIGHEST_SEVERITY')!,
      removedIds: this.#removedIds,
      removedTargets,
      skipAfter: this.#skipAfter,
      allow: this.#allow,
    };
  }

  /** A transaction for the same request that carries on from `state` (the request phases ran elsewhere). */
  static resume(rules: WafRuleSet, request: WafRequest, state: TransactionState, options: TransactionOptions = {}): Transaction {
    const t = new Transaction(rules, request, options);
    const tx = t.collection('TX');
    for (const [key, value] of state.tx) tx.add(key, value);
    t.engine = state.engine;
    t.responseBodyAccess = state.responseBodyAccess;
    t.auditEngine = state.auditEngine;
    t.interruption = state.interruption;
    t.wouldInterrupt = state.wouldInterrupt;
    t.matched.push(...state.matched);
    t.messages.push(...state.messages);
    t.singles.set('HIGHEST_SEVERITY', state.highestSeverity);
    t.#removedIds.push(...state.removedIds);
    for (const r of state.removedTargets) {
      const target = exclusionOf({ variable: r.variable, key: r.regex ?? r.key, keyIsRegex: r.regex !== undefined });
      if (r.start === r.end) t.#removeTarget(r.start, target);
      else t.#removedTargetRanges.push({ start: r.start, end: r.end, target });
    }
    t.#skipAfter = state.skipAfter;
    t.#allow = state.allow;
    t.lastPhase = 2;
    return t;
  }

  // ---- VariableSource ----

  single(name: string): string | undefined {
    if (name === 'MATCHED_VAR_NAME') return this.#matchedName();
    const value = this.singles.get(name);
    if (value !== undefined) return value;
    if (name.startsWith('TIME') && !this.singles.has('TIME')) {
      this.#setTime();
      return this.singles.get(name);
    }
    return SINGLE_DEFAULTS.get(name);
  }

  keyed(name: string): KeyedValues | undefined {
    if (name === 'MATCHED_VARS') return this.#matchedVars();
    return this.collections.get(name);
  }

  collection(name: string): KeyedValues {
    let values = this.collections.get(name);
    if (values === undefined) {
      values = new KeyedValues();
      this.collections.set(name, values);
    }
    return values;
  }

  // ---- phases ----

  /** Phase 1. */
  processRequestHeaders(): Interruption | undefined {
    return this.#phase(1);
  }

  /**
   * Phase 2, with the request body (binary string) when body access is on; `truncated` when it
   * was longer than SecRequestBodyLimit and the limit action is ProcessPartial.
   */
  processRequestBody(body: string | undefined): Interruption | undefined {
    if (this.interruption !== undefined || this.engine === 'Off') return this.interruption;
    if (body !== undefined && body.length > 0 && this.requestBodyAccess) this.#processBody(body);
    const interruption = this.#phase(2);
    // The response phases read other values: what the request phases worked out about theirs is
    // dropped, not held (and carried through scavenges) while the origin answers.
    this.#seen.clear();
    this.#targetSets.clear();
    return interruption;
  }

  /** Phase 3. */
  processResponseHeaders(status: number, protocol: string, headers: readonly (readonly [string, string])[]): Interruption | undefined {
    this.singles.set('RESPONSE_STATUS', String(status));
    this.singles.set('RESPONSE_PROTOCOL', protocol);
    this.singles.set('STATUS_LINE', `${protocol} ${status}`);
    const values = this.collection('RESPONSE_HEADERS');
    for (const [name, value] of headers) {
      values.add(name, value);
      const lower = name.toLowerCase();
      if (lower === 'content-type') this.singles.set('RESPONSE_CONTENT_TYPE', value.split(';')[0].trim());
      else if (lower === 'content-length') this.singles.set('RESPONSE_CONTENT_LENGTH', value);
    }
    this.#generation++;
    return this.#phase(3);
  }

  /** Whether phase 4 wants the response body: access on and a listed MIME type. */
  wantsResponseBody(): boolean {
    if (!this.responseBodyAccess || this.engine === 'Off') return false;
    const type = (this.singles.get('RESPONSE_CONTENT_TYPE') ?? '').toLowerCase();
    return this.rules.settings.responseBodyMimeTypes.has(type);
  }

  /** Phase 4, with the (possibly partial) response body when `wantsResponseBody()`. */
  processResponseBody(body: string | undefined): Interruption | undefined {
    if (body !== undefined) this.singles.set('RESPONSE_BODY', body);
    this.#generation++;
    return this.#phase(4);
  }

  /** Phase 5: runs even after an interruption. */
  processLogging(): void {
    this.#phase(5);
  }

  /** Whether the audit log records this transaction (SecAuditEngine, SecAuditLogRelevantStatus). */
  auditRelevant(status: number): boolean {
    if (this.auditEngine === 'On') return true;
    if (this.auditEngine === 'Off') return false;
    const relevantStatus = this.rules.settings.auditLogRelevantStatus;
    if (relevantStatus !== undefined && relevantStatus.test(String(status))) return true;
    return this.matched.some((rule) => rule.auditlog);
  }

  /** The inbound anomaly score CRS computed (0 without CRS). */
  anomalyScore(): number {
    const tx = this.collections.get('TX');
    const score = tx?.first('blocking_inbound_anomaly_score') ?? tx?.first('anomaly_score') ?? '0';
    return Number.parseInt(score, 10) || 0;
  }

  // ---- request variables ----

  /** The TIME* variables, at the transaction's time: set on first read (CRS reads none of them). */
  #setTime(): void {
    const now = new Date(this.#time);
    const singles = this.singles;
    const two = (n: number) => String(n).padStart(2, '0');
    singles.set('TIME_EPOCH', String(Math.floor(this.#time / 1000)));
    singles.set('TIME_YEAR', String(now.getFullYear()));
    singles.set('TIME_MON', two(now.getMonth() + 1));
    singles.set('TIME_DAY', two(now.getDate()));
    singles.set('TIME_HOUR', two(now.getHours()));
    singles.set('TIME_MIN', two(now.getMinutes()));
    singles.set('TIME_SEC', two(now.getSeconds()));
    singles.set('TIME_WDAY', String(now.getDay()));
    singles.set('TIME', `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`);
  }

  #setRequestVariables(): void {
    const { request, singles } = this;
    const target = request.target;
    const hash = target.indexOf('#');
    const uri = hash === -1 ? target : target.slice(0, hash);
    const question = uri.indexOf('?');
    const rawPath = question === -1 ? uri : uri.slice(0, question);
    const path = percentDecode(rawPath);
    singles.set('REQUEST_METHOD', request.method);
    singles.set('REQUEST_PROTOCOL', request.protocol);
    singles.set('REQUEST_LINE', `${request.method} ${target} ${request.protocol}`);
    singles.set('REQUEST_URI_RAW', target);
    singles.set('REQUEST_URI', stripOrigin(percentDecode(uri)));
    singles.set('REQUEST_FILENAME', path);
    singles.set('PATH_INFO', path);
    const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
    if (slash !== -1 && slash + 1 < path.length) singles.set('REQUEST_BASENAME', path.slice(slash + 1));
    else if (slash === -1) singles.set('REQUEST_BASENAME', path);
    singles.set('QUERY_STRING', question === -1 ? '' : uri.slice(question + 1));
    singles.set('REMOTE_ADDR', request.remoteAddr);
    singles.set('REMOTE_HOST', request.remoteAddr);
    singles.set('REMOTE_PORT', String(request.remotePort));
    singles.set('SERVER_ADDR', request.serverAddr);
    singles.set('SERVER_PORT', String(request.serverPort));
    singles.set('UNIQUE_ID', request.id);

    const headers = this.collection('REQUEST_HEADERS');
    const cookieHeaders: string[] = [];
    let headerBytes = 0;
    for (const [name, value] of request.headers) {
      headers.add(name, value);
      headerBytes += name.length + value.length + 4;
      const lower = name.toLowerCase();
      if (lower === 'cookie') cookieHeaders.push(value);
      else if (lower === 'host') singles.set('SERVER_NAME', value.replace(/:\d+$/, ''));
      else if (lower === 'content-type') {
        const type = value.toLowerCase();
        if (type.startsWith('application/x-www-form-urlencoded')) singles.set('REQBODY_PROCESSOR', 'URLENCODED');
        else if (type.startsWith('multipart/form-data')) singles.set('REQBODY_PROCESSOR', 'MULTIPART');
      }
    }
    singles.set('FULL_REQUEST_LENGTH', String(singles.get('REQUEST_LINE')!.length + 2 + headerBytes + 2));
    if (cookieHeaders.length > 0) {
      const cookies = this.collection('REQUEST_COOKIES');
      for (const [name, value] of parseCookies(cookieHeaders)) cookies.add(name, value);
    }
    if (question !== -1) {
      const parsed = parseUrlEncoded(uri.slice(question + 1), { separator: this.rules.settings.argumentSeparator, argumentsLimit: this.rules.settings.argumentsLimit });
      const args = this.collection('ARGS_GET');
      for (const [name, value] of parsed.args) args.add(name, value);
      if (parsed.invalidEncoding) singles.set('URLENCODED_ERROR', '1');
    }
    this.#updateArgsSize();
    this.#generation++;
  }

  #updateArgsSize(): void {
    let size = 0;
    for (const name of ['ARGS_GET', 'ARGS_POST']) {
      const args = this.collections.get(name);
      if (args === undefined) continue;
      for (let i = 0; i < args.size; i++) size += args.keys[i].length + args.values[i].length;
    }
    this.singles.set('ARGS_COMBINED_SIZE', String(size));
  }

  #processBody(body: string): void {
    const { singles, rules } = this;
    singles.set('REQUEST_BODY_LENGTH', String(body.length));
    const processor = (singles.get('REQBODY_PROCESSOR') ?? (this.forceRequestBodyVariable ? 'URLENCODED' : '')).toUpperCase();
    if (processor === 'URLENCODED' || this.forceRequestBodyVariable) singles.set('REQUEST_BODY', body);
    const remaining = Math.max(0, rules.settings.argumentsLimit - (this.collections.get('ARGS_GET')?.size ?? 0));
    const fail = (message: string) => {
      singles.set('REQBODY_ERROR', '1');
      singles.set('REQBODY_ERROR_MSG', message);
      singles.set('REQBODY_PROCESSOR_ERROR', '1');
      singles.set('REQBODY_PROCESSOR_ERROR_MSG', message);
      // Worded as ModSecurity's error log words it (CRS regression tests look for these lines).
      this.messages.push(`${PROCESSOR_NAMES[processor] ?? processor} parsing error: ${message}`);
    };
    const addArgs = (args: readonly (readonly [string, string])[]) => {
      const post = this.collection('ARGS_POST');
      for (const [name, value] of args) post.add(name, value);
    };
    switch (processor) {
      case 'URLENCODED': {
        const parsed = parseUrlEncoded(body, { separator: rules.settings.argumentSeparator, argumentsLimit: remaining });
        addArgs(parsed.args);
        if (parsed.invalidEncoding) singles.set('URLENCODED_ERROR', '1');
        if (parsed.error !== undefined) fail(parsed.error);
        break;
      }
      case 'MULTIPART': {
        const contentType = this.collections.get('REQUEST_HEADERS')?.first('content-type') ?? '';
        const parsed = parseMultipart(contentType, body, { argumentsLimit: remaining });
        addArgs(parsed.args);
        const files = this.collection('FILES');
        const sizes = this.collection('FILES_SIZES');
        const contents = this.collection('FILES_TMP_CONTENT');
        for (const file of parsed.files) {
          files.add(file.name, file.filename);
          sizes.add(file.name, String(file.size));
          if (file.content !== undefined) contents.add(file.name, file.content);
        }
        singles.set('FILES_COMBINED_SIZE', String(parsed.filesCombinedSize));
        const headers = this.collection('MULTIPART_PART_HEADERS');
        for (const [name, line] of parsed.partHeaders) headers.add(name, line);
        if (parsed.name !== undefined) this.collection('MULTIPART_NAME').add(parsed.name, parsed.name);
        if (parsed.filename !== undefined) this.collection('MULTIPART_FILENAME').add(parsed.filename, parsed.filename);
        const flags = parsed.flags;
        const set = (name: string, on: boolean) => singles.set(name, on ? '1' : '0');
        set('MULTIPART_BOUNDARY_QUOTED', flags.boundaryQuoted);
        set('MULTIPART_BOUNDARY_WHITESPACE', flags.boundaryWhitespace);
        set('MULTIPART_DATA_BEFORE', flags.dataBefore);
        set('MULTIPART_DATA_AFTER', flags.dataAfter);
        set('MULTIPART_HEADER_FOLDING', flags.headerFolding);
        set('MULTIPART_LF_LINE', flags.lfLine);
        set('MULTIPART_CRLF_LF_LINES', flags.crlfLfLines);
        set('MULTIPART_MISSING_SEMICOLON', flags.missingSemicolon);
        set('MULTIPART_INVALID_QUOTING', flags.invalidQuoting);
        set('MULTIPART_INVALID_PART', flags.invalidPart);
        set('MULTIPART_INVALID_HEADER_FOLDING', flags.invalidHeaderFolding);
        set('MULTIPART_FILE_LIMIT_EXCEEDED', flags.fileLimitExceeded);
        set('MULTIPART_UNMATCHED_BOUNDARY', flags.unmatchedBoundary);
        set('MULTIPART_STRICT_ERROR', flags.strictError);
        if (parsed.error !== undefined) fail(parsed.error);
        break;
      }
      case 'JSON': {
        const parsed = parseJson(body, { depthLimit: rules.settings.requestBodyJsonDepthLimit, argumentsLimit: remaining });
        addArgs(parsed.args);
        if (parsed.error !== undefined) fail(parsed.error);
        break;
      }
      case 'XML': {
        const parsed = parseXml(body);
        const xml = this.collection('XML');
        if (parsed.rootText !== undefined) xml.add('/*', parsed.rootText);
        for (const value of parsed.attributeValues) xml.add('//@*', value);
        if (parsed.error !== undefined) fail(parsed.error);
        break;
      }
      case '':
        break;
      default:
        fail(`unknown request body processor "${processor}"`);
    }
    this.#updateArgsSize();
    this.#generation++;
  }

  // ---- rule evaluation ----

  #phase(phase: number): Interruption | undefined {
    if (this.engine === 'Off') return undefined;
    if (this.interruption !== undefined && phase !== 5) return this.interruption;
    this.lastPhase = phase;
    const rules = this.rules.phases[phase];
    for (let i = 0; i < rules.length; i++) {
      if (this.interruption !== undefined && phase !== 5) break;
      if (this.#skipAfter !== undefined) {
        // On past the marker's next position in this phase; without one, the rest of the phase is skipped.
        const at = positionFrom(this.rules.markers[phase].get(this.#skipAfter), i);
        if (at === -1) break;
        this.#skipAfter = undefined;
        i = at;
        continue;
      }
      const rule = rules[i];
      if (rule.marker !== undefined) continue;
      if (this.#removedIds.length > 0 && this.#isRemoved(rule.id)) continue;
      if (this.#skip > 0) {
        this.#skip--;
        continue;
      }
      if (this.#allow === 'all' || this.#allow === 'phase' || (this.#allow === 'request' && phase <= 2)) break;
      if (this.#matchedVariables.length > 0) {
        this.#matchedVariables.length = 0;
        this.#matchedVarsBuilt = undefined;
      }
      this.#evaluate(rule, phase);
      this.#operatorState.capturing = false;
    }
    if (this.#allow === 'phase' || (this.#allow === 'request' && phase === 2)) this.#allow = 'none';
    this.#skip = 0;
    return this.interruption;
  }

  #isRemoved(id: number): boolean {
    for (const [start, end] of this.#removedIds) if (id >= start && id <= end) return true;
    return false;
  }

  /** Runs a rule (and its chain); true when the whole chain matched. */
  #evaluate(rule: WafRule, phase: number): boolean {
    if (rule.reachBit !== -1 && !this.#reached(rule)) return false;
    const starter = rule.parent ?? rule;
    this.#rule = starter;
    this.#operatorState.capturing = rule.capture;
    let matched = 0;
    if (rule.operator === undefined) {
      matched = 1;
      this.#runPerMatch(rule);
    } else {
      const extra = this.#removedTargets.size === 0 && this.#removedTargetRanges.length === 0 ? undefined : this.#removedTargetsOf(starter.id);
      const operator = rule.operator;
      const negated = rule.negated;
      if (rule.targetSetKey !== undefined && !rule.multiMatch) {
        // Exclusions decided at run time (ctl:ruleRemoveTargetByTag puts the same one on a whole family of rules) are part of the set's key.
        const key = extra === undefined ? rule.targetSetKey : keyWithExclusions(rule.targetSetKey, extra);
        const set = this.#targetSet(rule, key, extra);
        const chain = this.#chainValues(rule, set);
        const memos = chain.memos;
        const bit = rule.prefilterBit;
        // The prefilter decides a rule for the whole set at once: unless one of the values holds
        // one of its literals, none can match.
        if (bit === -1 || memos.length === 0 || negated || this.#chainMayMatch(chain, bit)) {
          for (let i = 0; i < memos.length; i++) {
            const memo = memos[i];
            if (this.#operate(rule, operator, memo.value, memo) === negated) continue;
            if (matched === 0) this.#collectNames(rule, extra);
            matched += this.#onMatch(rule, this.#nameVariables[i], this.#nameKeys[i], memo.value);
          }
        }
      } else if (rule.txKey !== undefined && extra === undefined && !rule.multiMatch && rule.prefilterBit === -1 && rule.resultSlot === -1) {
        // One TX variable by name: straight to its entry (TX holds one value per name: setvar and
        // captures replace), or whether there is one (`&TX:name`, named as the rule writes it).
        const tx = this.collections.get('TX');
        const at = tx === undefined ? -1 : tx.indexOf(rule.txKey);
        if (rule.targets[0].count) {
          const count = at === -1 ? '0' : '1';
          if (this.#operate(rule, operator, count, undefined) !== negated) matched += this.#onMatch(rule, 'TX', rule.targets[0].spec.key!, count);
        } else if (at !== -1 && this.#operate(rule, operator, tx!.values[at], undefined) !== negated) {
          matched += this.#onMatch(rule, 'TX', tx!.keys[at], tx!.values[at]);
        }
      } else {
        // Values are looked up in the memo only for what it serves: a transformation chain, the prefilter or a kept result.
        const memoized = rule.transformKey !== -1 || rule.prefilterBit !== -1 || rule.resultSlot !== -1;
        const found = this.#matches;
        for (const target of rule.targets) {
          target.collect(this, found, rule.exclusions, extra);
          const variable = target.variable;
          const size = found.size;
          for (let i = 0; i < size; i++) {
            const key = found.keys[i];
            const original = found.values[i];
            if (rule.multiMatch) {
              // The operator on the value and again after each transformation that changes it; the steps are chain prefixes, remembered per value.
              const first = this.#memo(original);
              let memo = first;
              if (this.#operate(rule, operator, original, memo) !== negated) matched += this.#onMatch(rule, variable, key, original);
              for (const step of rule.transformSteps) {
                const next = this.#throughChain(step, first);
                if (next.value === memo.value) continue;
                memo = next;
                if (this.#operate(rule, operator, memo.value, memo) !== negated) matched += this.#onMatch(rule, variable, key, memo.value);
              }
            } else {
              const memo = memoized ? this.#transformed(rule, this.#memo(original)) : undefined;
              const value = memo === undefined ? original : memo.value;
              if (this.#operate(rule, operator, value, memo) !== negated) matched += this.#onMatch(rule, variable, key, value);
            }
          }
        }
      }
    }
    if (matched === 0) return false;
    if (rule.parent !== undefined) return true;
    for (let link = rule.chain; link !== undefined; link = link.chain) {
      if (!this.#evaluate(link, phase)) {
        this.#rule = starter;
        return false;
      }
    }
    this.#rule = starter;
    if (rule.skip > 0) this.#skip = rule.skip;
    if (rule.skipAfter !== undefined) this.#skipAfter = rule.skipAfter;
    if (rule.id !== 0) this.#record(rule, phase);
    this.#disrupt(rule);
    return true;
  }

  /**
   * The rule's operator on `value` (not negated), skipped when the prefilter says it cannot match;
   * `memo` is the value's, present whenever the rule has a prefilter bit.
   */
  #operate(rule: WafRule, operator: Operator, value: string, memo: ValueMemo | undefined): boolean {
    if (rule.prefilterBit !== -1) {
      this.rules.values.scan(memo!);
      if (!hasBit(memo!.bits!, memo!.bitsAt, rule.prefilterBit)) return false;
    }
    const slot = rule.resultSlot;
    if (slot === -1 || memo === undefined) return operator(value, this.#operatorState);
    const matched = this.#keptResult(rule, operator, value, memo);
    if (matched && rule.capture) {
      const captures = recallCaptures(memo, slot);
      for (let i = 0; i < captures.length; i += 2) this.collection('TX').set(String(captures[i]), captures[i + 1] as string);
    }
    return matched;
  }

  /**
   * The operator's result on the value of `memo`, kept with it (rule.resultSlot), and for a
   * capturing rule what it captured; nothing is written to TX (see #operate).
   */
  #keptResult(rule: WafRule, operator: Operator, value: string, memo: ValueMemo): boolean {
    const slot = rule.resultSlot;
    const known = recallResult(memo, slot);
    if (known !== -1) return known === 1;
    const state = this.#operatorState;
    const capturing = state.capturing;
    state.capturing = rule.capture;
    const captures: (number | string)[] | undefined = rule.capture ? [] : undefined;
    this.#recordedCaptures = captures;
    const matched = operator(value, state);
    this.#recordedCaptures = undefined;
    state.capturing = capturing;
    keepResult(memo, slot, matched);
    if (matched && captures !== undefined) keepCaptures(memo, slot, captures);
    return matched;
  }

  #capture(index: number, value: string): void {
    const recorded = this.#recordedCaptures;
    if (recorded !== undefined) recorded.push(index, value);
    else this.collection('TX').set(String(index), value);
  }

  #targetSet(rule: WafRule, key: string, extra: readonly Exclusion[] | undefined): TargetSet {
    const known = this.#targetSets.get(key);
    if (known !== undefined && known.generation === this.#generation) return known;
    // Most sets are empty (XML, cookies absent, ...): they share the empty array. Only values are
    // kept: names are found again (#collectNames) for the few that match.
    let memos = NO_MEMOS;
    const found = this.#matches;
    for (const target of rule.targets) {
      target.collect(this, found, rule.exclusions, extra);
      if (found.size === 0) continue;
      if (memos === NO_MEMOS) memos = [];
      for (let i = 0; i < found.size; i++) memos.push(this.#memo(found.values[i]));
    }
    const set: TargetSet = { generation: this.#generation, memos, chains: undefined };
    this.#targetSets.set(key, set);
    return set;
  }

  /** The variables and keys of the rule's targets' values, in set order (into #nameVariables, #nameKeys). */
  #collectNames(rule: WafRule, extra: readonly Exclusion[] | undefined): void {
    const found = this.#matches;
    let at = 0;
    for (const target of rule.targets) {
      target.collect(this, found, rule.exclusions, extra);
      for (let i = 0; i < found.size; i++, at++) {
        this.#nameVariables[at] = target.variable;
        this.#nameKeys[at] = found.keys[i];
      }
    }
  }

  /** A target set's values through the rule's transformation chain, computed once per chain. */
  #chainValues(rule: WafRule, set: TargetSet): ChainValues {
    const transformKey = rule.transformKey;
    let chain = set.chains;
    while (chain !== undefined && chain.transformKey !== transformKey) chain = chain.next;
    if (chain === undefined) {
      // Transformations return their input when nothing changes (most benign values): then the
      // set's own memos serve, and no array is made.
      const own = set.memos;
      let memos = own;
      if (transformKey !== -1) {
        for (let i = 0; i < own.length; i++) {
          const memo = this.#transformed(rule, own[i]);
          if (memo === own[i]) continue;
          if (memos === own) memos = own.slice();
          memos[i] = memo;
        }
      }
      chain = { transformKey, memos, next: set.chains };
      set.chains = chain;
    }
    return chain;
  }

  /**
   * Whether the prefilter lets the rule with this bit match any of the chain's values: a bit per
   * value read where the rule is, cheaper than a union of whole bitmaps per chain and transaction.
   */
  #chainMayMatch(chain: ChainValues, bit: number): boolean {
    const values = this.rules.values;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    for (const memo of chain.memos) {
      values.scan(memo);
      if ((memo.bits![memo.bitsAt + word] & mask) !== 0) return true;
    }
    return false;
  }

  /**
   * Whether the request's reach has the rule's bit (see request-reach.ts): the values' reaches
   * joined once per generation, through the live chains and with the results of the live rules
   * decided by kept results; a chain or such a rule that turns live on the way is worked out for
   * the values it reads there and then.
   */
  #reached(rule: WafRule): boolean {
    const plan = this.rules.reach;
    const reach = (this.#reach ??= new Int32Array(plan.words));
    if (this.#reachGeneration !== this.#generation) {
      // A reach only ever gains bits: what was joined stays true of the values (a single value
      // that changed, such as REQBODY_ERROR, leaves its old value's bits: a superset, never a rule
      // skipped that could match).
      for (const source of plan.sources) this.#joinNew(source, reach);
      this.#reachGeneration = this.#generation;
    }
    const exact = rule.reachBit - (plan.prefilterWords << 5);
    if (exact < 0) {
      const slot = rule.transformKey + 1;
      if (!plan.live(slot)) {
        plan.makeLive(slot);
        for (const source of plan.sources) if ((source.slots[slot >>> 5] & (1 << (slot & 31))) !== 0) this.#joinSource(source, slot, -1, reach);
      }
    } else if (!plan.exactLive(exact)) {
      plan.makeExactLive(exact);
      for (const source of plan.sources) if ((source.exactMask[exact >>> 5] & (1 << (exact & 31))) !== 0) this.#joinSource(source, -1, exact, reach);
    }
    return hasBit(reach, 0, rule.reachBit);
  }

  /**
   * Joins the source's values into `reach` through every live chain and with every live rule's
   * result, unless they were joined as they are (request data only grows: a collection of the
   * same size holds the same entries).
   */
  #joinNew(source: ReachSource, reach: Int32Array): void {
    const index = source.index;
    const current = source.single ? this.single(source.name) : this.collections.get(source.name);
    if (current === undefined) return;
    const size = typeof current === 'string' ? 0 : current.size;
    if (current === this.#joinedFrom[index] && size === this.#joinedCount[index]) return;
    this.#joinedFrom[index] = current;
    this.#joinedCount[index] = size;
    this.#joinSource(source, -1, -1, reach);
  }

  /**
   * Joins all the source's values into `reach`: through the chain in `slot` alone, or with the
   * result of the rule with exact number `exact` alone (a chain or rule that just turned live), or
   * (both -1) through every live chain and with every live rule's result.
   */
  #joinSource(source: ReachSource, slot: number, exact: number, reach: Int32Array): void {
    if (source.single) {
      const value = this.single(source.name);
      if (value !== undefined && value.length > 0) this.#joinValue(this.#memo(value), source, slot, exact, reach);
      return;
    }
    const stored = this.collections.get(source.name);
    if (stored === undefined) return;
    const list = source.names ? stored.keys : stored.values;
    const key = source.key;
    for (let i = 0; i < list.length; i++) if (key === undefined || stored.lowerKeys[i] === key) this.#joinValue(this.#memo(list[i]), source, slot, exact, reach);
  }

  #joinValue(memo: ValueMemo, source: ReachSource, slot: number, exact: number, reach: Int32Array): void {
    const values = this.rules.values;
    const plan = this.rules.reach;
    if (exact !== -1) {
      if (!values.exactKnown(memo, exact)) values.keepExact(memo, exact, this.#exactMatch(plan.exactRules[exact], memo));
      values.joinExact(reach, plan.prefilterWords, memo, source.liveExactMask);
      return;
    }
    if (slot !== -1) {
      if (!values.merged(memo, slot)) this.#merge(memo, slot);
      values.joinReach(reach, memo, source.mask);
      return;
    }
    if (!values.mergedAll(memo, source.liveSlots)) {
      const live = source.liveSlots;
      for (let w = 0; w < live.length; w++) {
        for (let bits = live[w]; bits !== 0; bits &= bits - 1) {
          const at = (w << 5) + (31 - Math.clz32(bits & -bits));
          if (!values.merged(memo, at)) this.#merge(memo, at);
        }
      }
    }
    values.joinReach(reach, memo, source.mask);
    const live = source.liveExactMask;
    if (!values.exactKnownAll(memo, live)) {
      for (let w = 0; w < live.length; w++) {
        for (let bits = live[w]; bits !== 0; bits &= bits - 1) {
          const at = (w << 5) + (31 - Math.clz32(bits & -bits));
          if (!values.exactKnown(memo, at)) values.keepExact(memo, at, this.#exactMatch(plan.exactRules[at], memo));
        }
      }
    }
    values.joinExact(reach, plan.prefilterWords, memo, live);
  }

  /**
   * Whether the rule's operator matches the value through its chain (for multiMatch, the value or
   * any step of the chain that changes it), as #evaluate would find.
   */
  #exactMatch(rule: WafRule, first: ValueMemo): boolean {
    if (!rule.multiMatch) return this.#exactResult(rule, this.#transformed(rule, first));
    let memo = first;
    for (let step = -1; step < rule.transformSteps.length; step++) {
      if (step !== -1) {
        const next = this.#throughChain(rule.transformSteps[step], first);
        if (next.value === memo.value) continue;
        memo = next;
      }
      if (this.#exactResult(rule, memo)) return true;
    }
    return false;
  }

  /** The rule's (kept) result on the value of `memo`, the prefilter asked first: #operate without writing TX. */
  #exactResult(rule: WafRule, memo: ValueMemo): boolean {
    if (rule.prefilterBit !== -1) {
      this.rules.values.scan(memo);
      if (!hasBit(memo.bits!, memo.bitsAt, rule.prefilterBit)) return false;
    }
    return this.#keptResult(rule, rule.operator!, memo.value, memo);
  }

  #merge(memo: ValueMemo, slot: number): void {
    this.rules.values.merge(memo, slot, slot === 0 ? memo : this.#throughChain(slot - 1, memo));
  }

  #memo(value: string): ValueMemo {
    let memo = this.#seen.get(value);
    if (memo === undefined) {
      memo = this.rules.values.memo(value);
      this.#seen.set(value, memo);
    }
    return memo;
  }

  #onMatch(rule: WafRule, variable: string, key: string, value: string): number {
    // MATCHED_VAR_NAME and MATCHED_VARS are built only when something reads them.
    const n = this.#matchedVariables.length;
    this.#matchedVariables.push(variable);
    this.#matchedKeys[n] = key;
    this.#matchedValues[n] = value;
    this.#matchedVarsBuilt = undefined;
    this.#lastMatchedVariable = variable;
    this.#lastMatchedKey = key;
    this.#lastMatchedName = undefined;
    this.singles.set('MATCHED_VAR', value);
    this.#runPerMatch(rule);
    return 1;
  }

  #matchedName(): string | undefined {
    const variable = this.#lastMatchedVariable;
    if (variable === undefined) return undefined;
    return (this.#lastMatchedName ??= this.#lastMatchedKey === '' ? variable : `${variable}:${this.#lastMatchedKey}`);
  }

  #matchedVars(): KeyedValues {
    if (this.#matchedVarsBuilt !== undefined) return this.#matchedVarsBuilt;
    const vars = new KeyedValues();
    for (let i = 0; i < this.#matchedVariables.length; i++) {
      const key = this.#matchedKeys[i];
      vars.add(key === '' ? this.#matchedVariables[i] : `${this.#matchedVariables[i]}:${key}`, this.#matchedValues[i]);
    }
    this.#matchedVarsBuilt = vars;
    return vars;
  }

  /** The memo of a value through the rule's transformation chain. */
  #transformed(rule: WafRule, memo: ValueMemo): ValueMemo {
    return rule.transformKey === -1 ? memo : this.#throughChain(rule.transformKey, memo);
  }

  /**
   * The memo of a value through a transformation chain (see TransformChains), remembered per chain
   * and prefix for the transaction: the same argument goes through the same chain in dozens of CRS
   * rules with different targets.
   */
  #throughChain(chain: number, memo: ValueMemo): ValueMemo {
    const known = memo.transformed?.[chain];
    if (known !== undefined) return known;
    const chains = this.rules.transformChains;
    const prefix = chains.prefixes[chain];
    const input = prefix === -1 ? memo : this.#throughChain(prefix, memo);
    const transformation = chains.lasts[chain];
    const value = transformation(input.value);
    const result = value === input.value ? input : this.#memo(value);
    if (transformation === lowercase && result !== input && result.bits === undefined) result.caseVariantOf ??= input;
    (memo.transformed ??= new Array<ValueMemo | undefined>(chains.count))[chain] = result;
    return result;
  }

  #runPerMatch(rule: WafRule): void {
    for (const action of rule.perMatch) this.#perform(action);
  }

  #perform(action: PerMatchAction): void {
    switch (action.kind) {
      case 'setvar': {
        // A constant key was lower-cased at load time.
        const key = action.key.constant ?? action.key.expand(this.resolve).toLowerCase();
        const values = this.collection(action.collection);
        if (action.remove) {
          values.delete(key);
          return;
        }
        const value = action.value === undefined ? '' : action.value.expand(this.resolve);
        const sign = value.charCodeAt(0);
        if (sign === 0x2b || sign === 0x2d) {
          const operand = value.length === 1 ? 0 : Number(value.slice(1));
          if (!Number.isInteger(operand)) {
            values.set(key, value, key);
            return;
          }
          const current = Number.parseInt(values.first(key) ?? '0', 10) || 0;
          values.set(key, String(sign === 0x2b ? current + operand : current - operand), key);
          return;
        }
        values.set(key, value, key);
        return;
      }
      case 'setenv':
        this.collection('ENV').set(action.key.expand(this.resolve), action.value.expand(this.resolve));
        return;
      case 'ctl':
        this.#control(action);
    }
  }

  #control(action: Extract<PerMatchAction, { kind: 'ctl' }>): void {
    const value = action.value;
    switch (action.option) {
      case 'ruleengine':
        this.engine = value.toLowerCase() === 'on' ? 'On' : value.toLowerCase() === 'off' ? 'Off' : 'DetectionOnly';
        return;
      case 'ruleremovebyid':
        this.#removedIds.push(...action.ids);
        return;
      case 'ruleremovebytag':
        for (const id of this.rules.idsByTag.get(value) ?? []) this.#removedIds.push([id, id]);
        return;
      case 'ruleremovebymsg':
        for (const rule of this.rules.byId.values()) if (rule.msg?.constant === value) this.#removedIds.push([rule.id, rule.id]);
        return;
      case 'ruleremovetargetbyid':
        for (const [start, end] of action.ids) {
          if (start === end) this.#removeTarget(start, action.target!);
          else this.#removedTargetRanges.push({ start, end, target: action.target! });
        }
        return;
      case 'ruleremovetargetbytag':
        for (const id of this.rules.idsByTag.get(value) ?? []) this.#removeTarget(id, action.target!);
        return;
      case 'ruleremovetargetbymsg':
        for (const rule of this.rules.byId.values()) if (rule.msg?.constant === value) this.#removeTarget(rule.id, action.target!);
        return;
      case 'requestbodyprocessor':
        if (this.lastPhase <= 1) this.singles.set('REQBODY_PROCESSOR', value.toUpperCase());
        return;
      case 'requestbodyaccess':
        if (this.lastPhase <= 1) this.requestBodyAccess = value.toLowerCase() === 'on';
        return;
      case 'forcerequestbodyvariable':
        this.forceRequestBodyVariable = value.toLowerCase() === 'on';
        return;
      case 'responsebodyaccess':
        if (this.lastPhase <= 3) this.responseBodyAccess = value.toLowerCase() === 'on';
        return;
      case 'auditengine': {
        const lower = value.toLowerCase();
        this.auditEngine = lower === 'on' ? 'On' : lower === 'off' ? 'Off' : 'RelevantOnly';
        return;
      }
      default:
      // requestBodyLimit, auditLogParts, debugLogLevel, ...: limits are enforced by the proxy before the WAF runs.
    }
  }

  #removeTarget(id: number, target: Exclusion): void {
    const list = this.#removedTargets.get(id);
    if (list === undefined) this.#removedTargets.set(id, [target]);
    else list.push(target);
  }

  #removedTargetsOf(id: number): readonly Exclusion[] | undefined {
    const own = this.#removedTargets.get(id);
    if (this.#removedTargetRanges.length === 0) return own;
    let found = own === undefined ? undefined : [...own];
    for (const { start, end, target } of this.#removedTargetRanges) if (id >= start && id <= end) (found ??= []).push(target);
    return found;
  }

  #record(rule: WafRule, phase: number): void {
    if (rule.severity !== undefined) {
      const highest = Number(this.single('HIGHEST_SEVERITY'));
      if (rule.severity < highest) this.singles.set('HIGHEST_SEVERITY', String(rule.severity));
    }
    // A rule that neither logs nor audit-logs leaves no trace (CRS's setup and flow rules).
    if (!rule.log && !rule.auditlog) return;
    // Messages are expanded only for rules whose match is written anywhere.
    const logged = rule.log || rule.auditlog;
    this.matched.push({
      id: rule.id,
      msg: logged ? (rule.msg?.expand(this.resolve) ?? '') : '',
      data: logged ? (rule.logdata?.expand(this.resolve) ?? '') : '',
      file: rule.file,
      line: rule.line,
      severity: rule.severity === undefined ? undefined : severityName(rule.severity),
      tags: rule.tags,
      phase,
      action: rule.disruptive,
      log: rule.log,
      auditlog: rule.auditlog,
    });
  }

  #disrupt(rule: WafRule): void {
    const disruptive = rule.disruptive;
    if (disruptive === 'pass') return;
    if (disruptive === 'allow' || disruptive === 'allow:phase' || disruptive === 'allow:request') {
      if (this.engine === 'On') this.#allow = disruptive === 'allow' ? 'all' : disruptive === 'allow:phase' ? 'phase' : 'request';
      return;
    }
    const interruption: Interruption = {
      action: disruptive === 'drop' ? 'drop' : disruptive === 'redirect' ? 'redirect' : 'deny',
      status: rule.status ?? (disruptive === 'redirect' ? 302 : this.#blockStatus),
      ruleId: rule.id,
      location: rule.redirect?.expand(this.resolve),
    };
    if (this.engine === 'On') this.interruption = interruption;
    else this.wouldInterrupt ??= interruption;
  }

  // ---- macros ----

  #resolve(variable: string, key: string | undefined): string | undefined {
    if (variable === 'RULE') {
      const rule = this.#rule;
      if (rule === undefined || key === undefined) return undefined;
      switch (key) {
        case 'id':
          return String(rule.id);
        case 'msg':
          return rule.msg?.expand(this.resolve);
        case 'logdata':
          return rule.logdata?.expand(this.resolve);
        case 'severity':
          return rule.severity === undefined ? undefined : String(rule.severity);
        case 'ver':
          return rule.ver;
        default:
          return undefined;
      }
    }
    if (key === undefined) {
      const single = this.single(variable);
      if (single !== undefined) return single;
      return this.keyed(variable)?.values[0];
    }
    return firstKeyedValue(this, variable, key);
  }
}

const NO_MEMOS: ValueMemo[] = [];

/** The first of ascending `positions` at or after `from`, or -1. */
function positionFrom(positions: readonly number[] | undefined, from: number): number {
  if (positions !== undefined) for (const at of positions) if (at >= from) return at;
  return -1;
}

/**
 * Target-set keys extended by run-time exclusions, by the exclusions themselves (a trie on their
 * identity): a ctl action's Exclusion is made once at load time, so the lists a transaction builds
 * from them find the keys of earlier transactions, and nothing is made per request.
 */
interface ExclusionKeys {
  /** Target-set key → that key with the exclusions of the path to here. */
  readonly keys: Map<string, string>;
  readonly next: WeakMap<Exclusion, ExclusionKeys>;
}

const exclusionKeys = new WeakMap<Exclusion, ExclusionKeys>();

function keyWithExclusions(setKey: string, exclusions: readonly Exclusion[]): string {
  let level = exclusionKeys;
  let node: ExclusionKeys | undefined;
  for (const ex of exclusions) {
    node = level.get(ex);
    if (node === undefined) {
      node = { keys: new Map(), next: new WeakMap() };
      level.set(ex, node);
    }
    level = node.next;
  }
  if (node === undefined) return setKey;
  let key = node.keys.get(setKey);
  if (key === undefined) {
    key = setKey;
    for (const ex of exclusions) key += `!${ex.variable}:${ex.regex !== undefined ? `/${ex.regex.source}/` : (ex.key ?? '')}|`;
    node.keys.set(setKey, key);
  }
  return key;
}

/** The values of one set of targets, and of each transformation chain applied to them. */
interface TargetSet {
  readonly generation: number;
  /** The memos of the set's values, in target order. */
  readonly memos: ValueMemo[];
  /** The chains used so far (a set sees a few), made on first use. */
  chains: ChainValues | undefined;
}

/** A target set's values after one transformation chain. */
interface ChainValues {
  /** -1: no transformations. */
  readonly transformKey: number;
  readonly memos: readonly ValueMemo[];
  readonly next: ChainValues | undefined;
}


const PROCESSOR_NAMES: Record<string, string> = { MULTIPART: 'Multipart', JSON: 'JSON', XML: 'XML', URLENCODED: 'URL-encoded' };

/** Single-valued variables until the transaction sets them (most requests never do). */
const SINGLE_DEFAULTS = new Map<string, string>([
  ['REQBODY_ERROR', '0'],
  ['REQBODY_PROCESSOR_ERROR', '0'],
  ['INBOUND_DATA_ERROR', '0'],
  ['OUTBOUND_DATA_ERROR', '0'],
  ['HIGHEST_SEVERITY', '255'],
  ['FILES_COMBINED_SIZE', '0'],
  ...[
    'MULTIPART_BOUNDARY_QUOTED', 'MULTIPART_BOUNDARY_WHITESPACE', 'MULTIPART_DATA_AFTER', 'MULTIPART_DATA_BEFORE',
    'MULTIPART_FILE_LIMIT_EXCEEDED', 'MULTIPART_HEADER_FOLDING', 'MULTIPART_INVALID_HEADER_FOLDING', 'MULTIPART_INVALID_PART',
    'MULTIPART_INVALID_QUOTING', 'MULTIPART_LF_LINE', 'MULTIPART_CRLF_LF_LINES', 'MULTIPART_MISSING_SEMICOLON',
    'MULTIPART_STRICT_ERROR', 'MULTIPART_UNMATCHED_BOUNDARY',
  ].map((flag): [string, string] => [flag, '0']),
]);

/** %XX → byte (valid hex only; `+` stays), as libmodsecurity3 decodes the path for REQUEST_FILENAME. */
function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** An absolute-form target's path: `http://host/p?q` → `/p?q`. */
function stripOrigin(uri: string): string {
  if (uri.length === 0 || uri[0] === '/') return uri;
  const scheme = uri.indexOf('://');
  if (scheme === -1) return uri;
  const path = uri.indexOf('/', scheme + 3);
  return path === -1 ? uri : uri.slice(path);
}

