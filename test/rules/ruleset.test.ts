// Rule sets: ordered actions, skips, errors naming the rule, and — on the shared benchmark
// corpus — that the prefilter and the shared sub-expressions never change which rules match.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compile } from '../../src/rules/compile.ts';
import { decodeValue } from '../../src/rules/conformance.ts';
import { ExecutionContext } from '../../src/rules/context.ts';
import { httpScheme } from '../../src/rules/http-scheme.ts';
import { parse } from '../../src/rules/parser.ts';
import { RuleSet, RuleSetError, type RuleAction, type RuleDefinition } from '../../src/rules/ruleset.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

const log: RuleAction = { type: 'log' };
const block: RuleAction = { type: 'block', status: 403, body: 'blocked', contentType: 'text/plain' };

function verdictFor(rules: RuleDefinition[], values: Record<string, string>) {
  const set = new RuleSet(httpScheme, rules);
  const ctx = set.newContext();
  for (const [name, value] of Object.entries(values)) ctx.set(name, value);
  const verdict = set.evaluate(ctx);
  const count = verdict.matchCount; // read before the list is built, as the firewall does
  assert.equal(verdict.matched.length, count);
  return { terminal: verdict.terminal?.id, matched: verdict.matched.map((rule) => rule.id), skippedPhases: verdict.skippedPhases };
}

test('rules run in order: log records and goes on, block and allow end evaluation, skip removes later rules', () => {
  const rules: RuleDefinition[] = [
    { id: 'log-wp', expression: 'http.request.uri.path contains "/wp-"', action: log },
    { id: 'skip', expression: 'http.host eq "trusted.example"', action: { type: 'skip', rules: ['block-admin'], remaining: false, phases: ['waf'] } },
    { id: 'block-admin', expression: 'http.request.uri.path contains "/wp-admin"', action: block },
    { id: 'allow-all', expression: 'http.request.uri.path contains "/"', action: { type: 'allow' } },
    { id: 'never', expression: 'http.request.uri.path contains "/"', action: block },
  ];
  assert.deepEqual(verdictFor(rules, { 'http.request.uri.path': '/wp-admin/x', 'http.host': 'a.example' }), {
    terminal: 'block-admin',
    matched: ['log-wp', 'block-admin'],
    skippedPhases: [],
  });
  assert.deepEqual(verdictFor(rules, { 'http.request.uri.path': '/wp-admin/x', 'http.host': 'trusted.example' }), {
    terminal: 'allow-all',
    matched: ['log-wp', 'skip', 'allow-all'],
    skippedPhases: ['waf'],
  });
  assert.deepEqual(verdictFor(rules, { 'http.request.uri.path': 'none' }), { terminal: undefined, matched: [], skippedPhases: [] });
});

test('a rule that does not parse is rejected with its id, position and reason', () => {
  assert.throws(
    () => new RuleSet(httpScheme, [{ id: 'ok', expression: 'ssl', action: log }, { id: 'bad-1', expression: 'http.host eq\n  1.2.3.4', action: log }]),
    (error: unknown) => error instanceof RuleSetError && error.ruleId === 'bad-1' && /line 2, column 3/.test(error.message) && error.parseError.category === 'parse_int',
  );
  assert.throws(() => new RuleSet(httpScheme, [{ id: 'a', expression: 'ssl', action: { type: 'skip', rules: ['a'], remaining: false, phases: [] } }]), /not a later rule/);
});

const RULES = new URL('../../../shared/rules-language/bench-rules.jsonl', import.meta.url);
const REQUESTS = new URL('../../../shared/rules-language/bench-requests.jsonl', import.meta.url);
const corpusAbsent = existsSync(RULES) && existsSync(REQUESTS) ? false : 'skipped: ../shared/rules-language bench corpus is not present';

test('on the benchmark corpus the rule set matches exactly the rules that match one by one', { skip: corpusAbsent }, () => {
  const lines = (url: URL) => readFileSync(url, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const rules = lines(RULES).map((rule) => ({ id: rule.id as string, expression: rule.expression as string, action: log }));
  const set = new RuleSet(httpScheme, rules);
  const single = rules.map((rule) => compile(parse(httpScheme, rule.expression), httpScheme));
  const requests = lines(REQUESTS).filter((_, i) => i % 4 === 0);
  const ctx = set.newContext();
  let matches = 0;
  for (const request of requests) {
    const values = request.values as Record<string, unknown>;
    const fill = (context: ExecutionContext) => {
      for (const [name, encoded] of Object.entries(values)) context.set(name, decodeValue(encoded, httpScheme.field(name)!.type));
    };
    ctx.reset();
    fill(ctx);
    const got = set.evaluate(ctx).matched.map((rule) => rule.id);
    const alone = new ExecutionContext(httpScheme);
    fill(alone);
    const expected = rules.filter((_, i) => single[i].execute(alone)).map((rule) => rule.id);
    assert.deepEqual(got, expected, `request ${request.id}`);
    matches += got.length;
  }
  assert.ok(matches > 0, 'some rules match some requests');
});

test('on the benchmark corpus with random actions, the verdict is that of evaluating the rules one by one in order', { skip: corpusAbsent }, () => {
  const lines = (url: URL) => readFileSync(url, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const corpus = lines(RULES).slice(0, 600);
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const rules: RuleDefinition[] = corpus.map((rule, i) => {
    const roll = random();
    const later = () => corpus[i + 1 + Math.floor(random() * Math.min(80, corpus.length - i - 1))].id as string;
    let action: RuleAction = log;
    if (roll < 0.004) action = block;
    else if (roll < 0.006) action = { type: 'allow' };
    else if (roll < 0.008) action = { type: 'skip', rules: [], remaining: true, phases: [] };
    else if (roll < 0.06 && i < corpus.length - 1) action = { type: 'skip', rules: [later(), later(), later()], remaining: false, phases: random() < 0.3 ? ['waf'] : [] };
    return { id: rule.id as string, expression: rule.expression as string, action };
  });
  const set = new RuleSet(httpScheme, rules);
  const single = rules.map((rule) => compile(parse(httpScheme, rule.expression), httpScheme));
  const ctx = set.newContext();
  const ends = new Set<string>();
  for (const request of lines(REQUESTS).filter((_, i) => i % 8 === 0)) {
    const alone = new ExecutionContext(httpScheme);
    ctx.reset();
    for (const [name, encoded] of Object.entries(request.values as Record<string, unknown>)) {
      const value = decodeValue(encoded, httpScheme.field(name)!.type);
      ctx.set(name, value);
      alone.set(name, value);
    }
    const expected = { terminal: undefined as string | undefined, matched: [] as string[], skippedPhases: [] as string[] };
    const skipped = new Set<string>();
    for (let i = 0; i < rules.length; i++) {
      const { id, action } = rules[i];
      if (skipped.has(id) || !single[i].execute(alone)) continue;
      expected.matched.push(id);
      if (action.type === 'block' || action.type === 'allow') {
        expected.terminal = id;
        break;
      }
      if (action.type !== 'skip') continue;
      expected.skippedPhases.push(...action.phases);
      if (action.remaining) break;
      for (const target of action.rules) skipped.add(target);
    }
    const verdict = set.evaluate(ctx);
    assert.equal(verdict.matchCount, expected.matched.length, `request ${request.id}: matchCount`);
    assert.deepEqual(
      { terminal: verdict.terminal?.id, matched: verdict.matched.map((rule) => rule.id), skippedPhases: [...verdict.skippedPhases] },
      expected,
      `request ${request.id}`,
    );
    ends.add(expected.terminal ?? (expected.matched.length > 0 && rules[rules.findIndex((rule) => rule.id === expected.matched.at(-1))].action.type === 'skip' ? 'skip' : 'end'));
  }
  assert.ok(ends.size > 3 && ends.has('end'), `requests end on different rules and at the end: ${[...ends].join(' ')}`);
});

test('atoms decide ne, Bool fields, regexes, wildcards, all() and lower() comparisons exactly as the rules alone do, values present or missing', () => {
  const expressions = [
    'http.host ne "a.example"',
    'not http.host ne "a.example"',
    'ip.src ne 10.0.0.1',
    'ip.src ne 2001:db8::1',
    'cf.threat_score ne 10',
    'ssl',
    'not ssl and http.host eq "a.example"',
    'lower(http.user_agent) contains "curl/"',
    'lower(http.user_agent) contains "Curl/"',
    'lower(http.user_agent) contains "\u00e0b"',
    'lower(http.user_agent) eq "mozilla"',
    'lower(http.user_agent) in {"curl" "wget"}',
    'lower(http.user_agent) ne "curl"',
    'lower(http.user_agent) matches "^cu"',
    'http.user_agent contains "Curl" or lower(http.user_agent) contains "curl"',
    'any(lower(http.request.headers.names[*])[*] eq "x-debug")',
    'any(lower(http.request.headers.names[*])[*] contains "debug")',
    'http.user_agent contains "Curl" and http.user_agent matches "(?i)curl"',
    'starts_with(lower(http.request.uri.path), "/wp")',
    'http.user_agent matches "^(curl|wget)/"',
    'http.user_agent matches "(?i)^mozilla$"',
    'http.user_agent matches "(?i)\u00c0b"',
    'http.user_agent matches "(?i)\u00c3\u0080b"',
    'http.user_agent matches "^$"',
    'lower(http.user_agent) matches "curl"',
    'not http.user_agent matches "[0-9]"',
    'any(http.request.headers.names[*] matches "(?i)^x-deb")',
    'any(lower(http.request.headers.names[*])[*] matches "debugger$")',
    'http.request.uri.path wildcard "/wp-*"',
    'http.request.uri.path strict wildcard "/WP-*"',
    'http.request.uri.path wildcard "*"',
    'http.request.uri.path wildcard "/x\u00c0*"',
    'http.request.uri.path wildcard "/x\u00c3\u0080*"',
    'http.user_agent matches "(?i)(bot|crawler)"',
    'http.user_agent matches "^(curl|Wget)/[0-9]"',
    'http.host wildcard "*.example" and http.request.uri.path matches "wp"',
    'all(http.request.headers.names[*] in {"X-Debug" "Host"})',
    'all(http.request.headers.names[*] eq "Host") or http.host eq "b.example"',
    'all(lower(http.request.headers.names[*])[*] contains "debug")',
    'all(http.request.headers.names[*] matches "^X-")',
    'not all(http.request.headers.names[*] contains "e")',
    'all(http.request.headers.names[*] ne "Host")',
    'any(http.request.headers.names[*] eq "Host") and all(http.request.headers.names[*] eq "Host")',
  ];
  const rules = expressions.map((expression, i) => ({ id: `r${i}`, expression, action: log }));
  const set = new RuleSet(httpScheme, rules);
  const single = rules.map((rule) => compile(parse(httpScheme, rule.expression), httpScheme));
  const userAgents = [undefined, 'curl/8', 'CURL/8', 'Curl/8', 'Mozilla', 'MOZILLA', '\u00c0b', '\u00e0b', 'wget', 'x\u00c3\u0080B', 'x\u00c0B'];
  const cases: Record<string, unknown>[] = [];
  for (const ua of userAgents) {
    cases.push({ 'http.user_agent': ua, 'http.host': ua === undefined ? undefined : 'a.example', 'ip.src': ua === undefined ? undefined : '10.0.0.1', ssl: ua === 'curl/8', 'cf.threat_score': ua === undefined ? undefined : 10 });
  }
  cases.push({ 'http.host': 'b.example', 'ip.src': '2001:db8::1', 'cf.threat_score': 11, 'http.request.headers.names': ['X-Debug', 'Host'], 'http.request.uri.path': '/WP-admin' });
  cases.push({ 'ip.src': '10.0.0.2', 'http.request.headers.names': ['X-DEBUGGER'], 'http.request.uri.path': '/x/wp' });
  cases.push({ 'http.user_agent': '', 'http.host': 'c.example', 'http.request.headers.names': [], 'http.request.uri.path': '/wp-login' });
  cases.push({ 'http.request.headers.names': ['Host'], 'http.request.uri.path': '/X\u00c3\u0080x', 'http.user_agent': 'Wget/1 CRAWLER' });
  cases.push({ 'http.request.uri.path': '/X\u00c0', 'http.user_agent': 'wget/1 bot' });
  cases.push({ 'http.request.headers.names': ['X-Debug', 'X-Debugger'] });
  cases.push({ 'http.request.headers.names': ['Host', 'Host'] });
  // More than a few elements: repeated ones are tested once.
  cases.push({ 'http.request.headers.names': Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 'Host' : 'X-Debug')) });
  cases.push({ 'http.request.headers.names': Array.from({ length: 40 }, () => 'Host').concat(['x-debugger']) });
  let matched = 0;
  // Twice over: the second time outcomes remembered per value answer.
  for (const values of [...cases, ...cases]) {
    const fill = (context: ExecutionContext) => {
      for (const [name, value] of Object.entries(values)) {
        if (value !== undefined) context.set(name, decodeValue(value, httpScheme.field(name)!.type));
      }
    };
    const ctx = set.newContext();
    fill(ctx);
    const alone = new ExecutionContext(httpScheme);
    fill(alone);
    const expected = rules.filter((_, i) => single[i].execute(alone)).map((rule) => rule.id);
    assert.deepEqual(set.evaluate(ctx).matched.map((rule) => rule.id), expected, JSON.stringify(values));
    matched += expected.length;
  }
  assert.ok(matched > cases.length, 'the cases make rules match');
});

test('outcomes remembered per value: recurring values are looked up, mostly-new values are tested directly, the verdicts never change', () => {
  const expressions = [
    'http.user_agent contains "bot"',
    'http.user_agent matches "(?i)cur[l]/[0-9]"',
    'lower(http.user_agent) eq "wget"',
    'http.request.uri.path wildcard "/api/*" and not http.request.uri.path contains "v2"',
    'any(lower(http.request.headers.names[*])[*] contains "debug")',
  ];
  const rules = expressions.map((expression, i) => ({ id: `r${i}`, expression, action: log }));
  const set = new RuleSet(httpScheme, rules);
  const single = rules.map((rule) => compile(parse(httpScheme, rule.expression), httpScheme));
  const random = seededRandom(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const agents = ['Mozilla/5.0', 'curl/8.1', 'CURL/7', 'WGET', 'wget', 'Googlebot/2.1', 'x'];
  const paths = ['/api/v1/x', '/api/v2/y', '/home', '/API/z'];
  const names = ['Host', 'X-Debug', 'Accept', 'x-debugger'];
  const ctx = set.newContext();
  let matched = 0;
  // Phase 1: every value new (the direct mode takes over); phase 2: a few values recurring (looked up again).
  for (let i = 0; i < 3000; i++) {
    const fresh = i < 1500;
    const values: Record<string, unknown> = {
      'http.user_agent': fresh ? `${pick(agents)} ${i}` : pick(agents),
      'http.request.uri.path': fresh ? `${pick(paths)}/${i}` : pick(paths),
      'http.request.headers.names': fresh ? [pick(names), `${pick(names)}-${i}`] : [pick(names), pick(names)],
    };
    const fill = (context: ExecutionContext) => {
      for (const [name, value] of Object.entries(values)) context.set(name, decodeValue(value, httpScheme.field(name)!.type));
    };
    ctx.reset();
    fill(ctx);
    const alone = new ExecutionContext(httpScheme);
    fill(alone);
    const expected = rules.filter((_, k) => single[k].execute(alone)).map((rule) => rule.id);
    assert.deepEqual(set.evaluate(ctx).matched.map((rule) => rule.id), expected, JSON.stringify(values));
    matched += expected.length;
  }
  assert.ok(matched > 1000, 'the requests make rules match');
});
