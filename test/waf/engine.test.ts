// The SecLang engine: directives, rule flow (chain, skip, skipAfter, ctl), variables, macros,
// captures, engine modes — and CRS v4 itself loading and catching real attacks.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { parseDirectives, readDirectiveFiles, SecLangError } from '../../src/waf/seclang/directives.ts';
import { parseActions, parseTargets } from '../../src/waf/seclang/rule-syntax.ts';
import { detectSqli } from '../../src/waf/libinjection/index.ts';
import { WafRuleSet } from '../../src/waf/ruleset.ts';
import { Transaction, type WafRequest } from '../../src/waf/transaction.ts';

const CRS = new URL('../../../shared/crs/', import.meta.url).pathname;

function rules(text: string): WafRuleSet {
  return WafRuleSet.fromDirectives(parseDirectives(text, 'test.conf'));
}

function request(target: string, headers: [string, string][] = [], method = 'GET'): WafRequest {
  return {
    id: 'req-1',
    method,
    target,
    protocol: 'HTTP/1.1',
    headers: [['Host', 'example.com'], ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64)'], ['Accept', 'text/html'], ...headers],
    remoteAddr: '192.0.2.10',
    remotePort: 40000,
    serverAddr: '192.0.2.1',
    serverPort: 80,
  };
}

function run(set: WafRuleSet, req: WafRequest, body?: string): Transaction {
  const tx = new Transaction(set, req);
  tx.processRequestHeaders();
  tx.processRequestBody(body);
  return tx;
}

/** The rules that matched and log. */
const ids = (tx: Transaction) => tx.matched.filter((rule) => rule.log).map((rule) => rule.id);

test('directive files: continuation lines, quoting, comments; errors name the file and line', () => {
  const directives = parseDirectives('# comment\nSecRule ARGS "@rx a\\"b" \\\n  "id:1,\\\n  phase:2,pass"\n', 'f.conf');
  assert.equal(directives.length, 1);
  assert.deepEqual(directives[0].args, ['ARGS', '@rx a"b', 'id:1,  phase:2,pass']);
  assert.equal(directives[0].line, 2);
  assert.throws(() => rules('SecRuleEngine On\nSecRule ARGS "@rx x" "id:2,phase:2,t:nosuch,pass"'), (error: unknown) => error instanceof SecLangError && error.line === 2 && /t:nosuch/.test(error.message));
  assert.throws(() => rules('SecRule ARGS "@rx x" "phase:2,pass"'), /no id/);
  assert.throws(() => rules('SecRule NOSUCHVAR "@rx x" "id:3,pass"'), /unknown variable NOSUCHVAR/);
  assert.throws(() => rules('SecRule ARGS "@rx x" "id:4,pass"\nSecRule ARGS "@rx y" "id:4,pass"'), /already used/);
  assert.throws(() => rules('SecRule ARGS "@rx x" "id:5,pass,chain"'), /chain/);
});

test('targets and actions parse like ModSecurity: regex keys with pipes, exclusions, counts, quoted values', () => {
  assert.deepEqual(parseTargets('ARGS|!ARGS:foo|&TX:x|REQUEST_COOKIES:/^(a|b)$/|XML:/*').map((t) => [t.variable, t.key, t.keyIsRegex, t.count, t.exclude]), [
    ['ARGS', undefined, false, false, false],
    ['ARGS', 'foo', false, false, true],
    ['TX', 'x', false, true, false],
    ['REQUEST_COOKIES', '^(a|b)$', true, false, false],
    ['XML', '/*', false, false, false],
  ]);
  assert.deepEqual(parseActions("id:1,msg:'a, b: c',t:none,setvar:'tx.x=+%{tx.y}'"), [
    { name: 'id', value: '1' },
    { name: 'msg', value: 'a, b: c' },
    { name: 't', value: 'none' },
    { name: 'setvar', value: 'tx.x=+%{tx.y}' },
  ]);
});

test('setvar arithmetic, macros, chains whose per-match actions run even when the chain fails, and logging', () => {
  const set = rules(`
SecDefaultAction "phase:2,log,auditlog,pass"
SecAction "id:10,phase:1,pass,nolog,setvar:tx.score=0,setvar:tx.weight=5"
SecRule ARGS "@contains attack" "id:11,phase:2,pass,msg:'attack in %{MATCHED_VAR_NAME}',logdata:'%{MATCHED_VAR}',setvar:tx.score=+%{tx.weight}"
SecRule ARGS:a "@streq x" "id:12,phase:2,pass,setvar:tx.chained=1,chain"
  SecRule ARGS:b "@streq never" "setvar:tx.chain_end=1"
SecRule TX:score "@ge 10" "id:13,phase:2,deny,status:406,msg:'score %{tx.score}'"
`);
  const tx = run(set, request('/p?a=x&q1=attack1&q2=attack2'));
  assert.deepEqual(ids(tx), [11, 13]);
  assert.equal(tx.collection('TX').first('score'), '10', 'added once per matching argument');
  assert.equal(tx.collection('TX').first('chained'), '1', 'the first link ran its setvar');
  assert.equal(tx.collection('TX').first('chain_end'), undefined);
  const logged = tx.matched.find((rule) => rule.id === 11)!;
  assert.equal(logged.msg, 'attack in ARGS:q2');
  assert.equal(tx.interruption?.status, 406);
  assert.equal(tx.matched.find((rule) => rule.id === 13)!.msg, 'score 10');
});

test('skip, skipAfter markers, ctl:ruleRemoveById and ctl:ruleRemoveTargetById change later rules of the transaction', () => {
  const set = rules(`
SecRule ARGS:skip "@streq 1" "id:20,phase:1,pass,nolog,skipAfter:END"
SecRule ARGS "@rx ." "id:21,phase:1,pass,log"
SecMarker END
SecRule ARGS:one "@streq 1" "id:22,phase:1,pass,nolog,skip:1"
SecRule ARGS "@rx ." "id:23,phase:1,pass,log"
SecRule ARGS "@rx ." "id:24,phase:1,pass,log"
SecRule REQUEST_FILENAME "@beginsWith /api/" "id:25,phase:1,pass,nolog,ctl:ruleRemoveById=26-27,ctl:ruleRemoveTargetById=28;ARGS:token"
SecRule ARGS "@rx ." "id:26,phase:2,pass,log"
SecRule ARGS "@rx ." "id:27,phase:2,pass,log"
SecRule ARGS "@rx secret" "id:28,phase:2,pass,log"
`);
  assert.deepEqual(ids(run(set, request('/x?skip=1&one=1'))), [24, 26, 27]);
  assert.deepEqual(ids(run(set, request('/x?v=secret'))), [21, 23, 24, 26, 27, 28]);
  assert.deepEqual(ids(run(set, request('/api/x?token=secret'))), [21, 23, 24]);
  assert.deepEqual(ids(run(set, request('/api/x?token=secret&other=secret'))), [21, 23, 24, 28]);
});

test('counting, exclusions, key regexes, names collections, transformations and captures', () => {
  const set = rules(`
SecRule &ARGS "@eq 3" "id:30,phase:2,pass,log"
SecRule ARGS|!ARGS:safe "@rx <script" "id:31,phase:2,pass,log,t:none,t:urlDecodeUni,t:lowercase"
SecRule ARGS_NAMES "@rx ^debug$" "id:32,phase:2,pass,log"
SecRule REQUEST_HEADERS:/^x-(a|b)$/ "@streq yes" "id:33,phase:1,pass,log"
SecRule ARGS:id "@rx ^(\\d+)-(\\w+)$" "id:34,phase:2,pass,log,capture,setvar:tx.num=%{tx.1},setvar:tx.word=%{TX.2}"
`);
  const tx = run(set, request('/?safe=%3Cscript&debug=%253CSCRIPT&id=42-abc', [['X-B', 'yes']]));
  assert.deepEqual(ids(tx), [33, 30, 31, 32, 34]);
  assert.equal(tx.collection('TX').first('num'), '42');
  assert.equal(tx.collection('TX').first('word'), 'abc');
  assert.equal(tx.collection('TX').first('0'), '42-abc');
});

test('request bodies: urlencoded, JSON (through ctl:requestBodyProcessor) and multipart reach ARGS and FILES', () => {
  const set = rules(`
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:40,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule ARGS:json.user.name "@streq alice" "id:41,phase:2,pass,log"
SecRule ARGS_POST:field "@streq value" "id:42,phase:2,pass,log"
SecRule FILES "@endsWith .php" "id:43,phase:2,pass,log"
SecRule REQBODY_ERROR "!@eq 0" "id:44,phase:2,pass,log"
`);
  assert.deepEqual(ids(run(set, request('/', [['Content-Type', 'application/json']], 'POST'), '{"user":{"name":"alice"}}')), [41]);
  assert.deepEqual(ids(run(set, request('/', [['Content-Type', 'application/x-www-form-urlencoded']], 'POST'), 'field=value')), [42]);
  const multipart = ['--B', 'Content-Disposition: form-data; name="up"; filename="shell.php"', '', '<?php ?>', '--B--', ''].join('\r\n');
  assert.deepEqual(ids(run(set, request('/', [['Content-Type', 'multipart/form-data; boundary=B']], 'POST'), multipart)), [43]);
  assert.deepEqual(ids(run(set, request('/', [['Content-Type', 'application/json']], 'POST'), '{"user":')), [44]);
});

test('DetectionOnly records what On would have blocked; Off runs nothing; allow stops the rules', () => {
  const text = (mode: string) => `SecRuleEngine ${mode}\nSecRule ARGS "@contains bad" "id:50,phase:1,deny,status:403,log"\nSecRule ARGS "@contains bad" "id:51,phase:1,pass,log"`;
  const on = run(rules(text('On')), request('/?x=bad'));
  assert.equal(on.interruption?.ruleId, 50);
  assert.deepEqual(ids(on), [50]);
  const detect = run(rules(text('DetectionOnly')), request('/?x=bad'));
  assert.equal(detect.interruption, undefined);
  assert.equal(detect.wouldInterrupt?.ruleId, 50);
  assert.deepEqual(ids(detect), [50, 51]);
  assert.deepEqual(ids(run(rules(text('Off')), request('/?x=bad'))), []);
  const allow = run(rules('SecRule REMOTE_ADDR "@ipMatch 192.0.2.0/24" "id:52,phase:1,allow,nolog"\nSecRule ARGS "@contains bad" "id:53,phase:1,deny,log"'), request('/?x=bad'));
  assert.equal(allow.interruption, undefined);
});

test('OWASP CRS v4 loads unmodified and scores real attacks, not ordinary requests', { skip: existsSync(`${CRS}rules`) ? false : 'the shared CRS is not beside the project' }, () => {
  const crs = WafRuleSet.fromFiles([`${CRS}crs-setup.conf.example`, `${CRS}rules/*.conf`]);
  assert.ok([...crs.byId.keys()].length > 500);
  const blocked = (target: string) => run(crs, request(target)).interruption?.ruleId;
  assert.equal(blocked('/index.html?page=2&sort=price'), undefined);
  assert.equal(blocked('/search?q=running+shoes'), undefined);
  assert.equal(blocked("/item?id=1'%20OR%20'1'='1"), 949110);
  assert.equal(blocked('/?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E'), 949110);
  assert.equal(blocked('/download?file=../../../../etc/passwd'), 949110);
  assert.equal(blocked('/?cmd=%3Bcat%20/etc/passwd'), 949110);
  const sqli = run(crs, request("/item?id=1'%20UNION%20SELECT%20password%20FROM%20users--"));
  assert.ok(ids(sqli).includes(942100), 'libinjection finds the SQL injection');
});

test('the literal prefilter: a rule whose literal is in a later value still matches after the bitmaps grew; the starter rules run', () => {
  const set = rules('SecRuleEngine On\nSecRule ARGS "@rx attack[0-9]" "id:1,phase:2,deny,status:403,log"\nSecRule ARGS_NAMES "@rx ^zz" "id:2,phase:2,pass,log"');
  // 300 distinct values: more prefilter bitmaps than the first allocation holds.
  const query = Array.from({ length: 300 }, (_, i) => `a${i}=x${i}`).join('&');
  const tx = run(set, request(`/?${query}&last=attack5`));
  assert.deepEqual(ids(tx), [1]);
  assert.equal(tx.interruption?.status, 403);
  assert.deepEqual(ids(run(set, request(`/?${query}`))), []);

  const starter = WafRuleSet.fromDirectives(readDirectiveFiles([new URL('../../src/demo/waf-starter.conf', import.meta.url).pathname]));
  assert.equal(run(starter, request('/products?page=2&sort=price')).interruption, undefined);
  assert.equal(run(starter, request("/?q=1'%20or%201=1--")).interruption?.status, 403);
});

test('phrase sets through the prefilter: any case, negated, captured, and values above U+00FF still tested', () => {
  const set = rules([
    'SecRuleEngine On',
    'SecRule ARGS "@pm passwd shadow" "id:1,phase:2,pass,log,capture,setvar:tx.phrase=%{tx.0}"',
    'SecRule REQUEST_HEADERS:X-Mode "!@pm fast slow" "id:2,phase:2,pass,log"',
  ].join('\n'));
  const hit = run(set, request('/?f=/etc/PassWD'));
  assert.deepEqual(ids(hit), [1]);
  assert.equal(hit.collection('TX').first('phrase'), 'passwd');
  assert.deepEqual(ids(run(set, request('/?f=/etc/hosts'))), []);
  assert.deepEqual(ids(run(set, request('/', [['X-Mode', 'Medium']]))), [2]);
  assert.deepEqual(ids(run(set, request('/', [['X-Mode', 'SLOW']]))), []);
  // A value given with a code unit above 0xFF (the API takes strings): the byte automaton gives up there, the phrase set still decides.
  assert.deepEqual(ids(run(set, request('/', [['X-Mode', '\u0100 slow']]))), []);
  assert.deepEqual(ids(run(set, request('/', [['X-Mode', '\u0100 medium']]))), [2]);
});

test("the request's reach skips a rule only when no value it reads can match it through its own transformations", () => {
  const text = [
    'SecRuleEngine On',
    'SecRequestBodyAccess On',
    'SecRule REQUEST_HEADERS:User-Agent "@rx (?i)sqlmap" "id:1,phase:1,pass,log,t:urlDecodeUni"',
    'SecRule ARGS "@rx <script" "id:2,phase:2,pass,log,t:urlDecodeUni,t:lowercase"',
    'SecRule REQUEST_COOKIES_NAMES "@rx ^evil_" "id:3,phase:1,pass,log"',
    'SecRule ARGS|REQUEST_BODY "@rx union\\s+select" "id:4,phase:2,pass,log,t:lowercase"',
    'SecRule ARGS_NAMES "@rx (?i)^cmd$" "id:5,phase:2,pass,log"',
    // Rules without literals, and multiMatch: decided by their results kept per value.
    'SecRule ARGS "@detectSQLi" "id:6,phase:2,pass,log,t:urlDecodeUni"',
    'SecRule ARGS|!ARGS:safe "@detectSQLi" "id:7,phase:2,pass,log"',
    'SecRule REQUEST_HEADERS:X-Code "@validateByteRange 32-126" "id:8,phase:1,pass,log"',
    'SecRule ARGS "@rx ^\\d{6,}$" "id:9,phase:2,pass,log,capture,setvar:tx.digits=%{tx.0}"',
    'SecRule ARGS:m "@rx A" "id:10,phase:2,pass,log,t:urlDecode,t:lowercase,multiMatch"',
  ].join('\n');
  const form: [string, string][] = [['Content-Type', 'application/x-www-form-urlencoded']];
  const cases: [WafRequest, string | undefined, number[]][] = [
    // The literal in a header the rule does not read.
    [request('/', [['X-Other', 'sqlmap']]), undefined, []],
    // Only after the rule's URL decoding; in a second value of the key.
    [request('/', [['User-Agent', 'x%73qlmap/1.7']]), undefined, [1]],
    // ARGS hold "%3CSCRIPT": the rule's chain makes it "<script".
    [request('/?q=%253CSCRIPT'), undefined, [2]],
    // Values the body adds in phase 2, after phase 1 worked the reach out.
    [request('/', form, 'POST'), 'a=%3Cscript%3E', [2]],
    [request('/', form, 'POST'), 'x=UNION++SELECT', [4]],
    [request('/', form, 'POST'), 'CMD=ls', [5]],
    [request('/', [['Cookie', 'theme=dark; evil_x=1']]), undefined, [3]],
    [request('/?q=summer+dresses', [['Cookie', 'theme=dark']]), undefined, []],
    // A code unit above 0xFF: the prefilter lets every rule through.
    [request('/', [['User-Agent', '\u0100sqlmap']]), undefined, [1]],
    [request("/?q=1'%20OR%201=1--"), undefined, [6, 7]],
    [request("/?safe=1'%20OR%201=1--"), undefined, [6]],
    [request('/', [['X-Code', 'a\u0001b']]), undefined, [8]],
    [request('/?n=1234567&o=12'), undefined, [9]],
    // "%41" no, "A" yes (the chain's end, "a", would not).
    [request('/?m=%2541'), undefined, [10]],
    [request('/?m=%2542'), undefined, []],
  ];
  const shared = rules(text);
  for (const round of [1, 2]) {
    for (const [req, body, expected] of cases) {
      // On a rule set of its own (every chain turns live during the transaction) and on one that ran the others.
      assert.deepEqual(ids(run(rules(text), req, body)), expected, `${req.target} ${body ?? ''} (own rule set)`);
      const tx = run(shared, req, body);
      assert.deepEqual(ids(tx), expected, `${req.target} ${body ?? ''} (round ${round})`);
      // Captures come back with a kept result.
      if (expected.includes(9)) assert.equal(tx.collection('TX').first('digits'), '1234567');
    }
  }
});

test('TIME variables tell the time the transaction began; unset flags read as their defaults', () => {
  const set = rules([
    'SecRuleEngine On',
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.stamp=%{TIME_YEAR}-%{TIME_MON}-%{TIME_DAY} %{TIME} %{TIME_WDAY} %{TIME_EPOCH}"',
    'SecRule MULTIPART_STRICT_ERROR "@eq 0" "id:2,phase:1,pass,log"',
    'SecRule HIGHEST_SEVERITY "@eq 255" "id:3,phase:1,pass,log"',
  ].join('\n'));
  const now = new Date(2026, 0, 5, 7, 8, 9);
  const tx = new Transaction(set, request('/'), { now });
  tx.processRequestHeaders();
  const epoch = Math.floor(now.getTime() / 1000);
  assert.equal(tx.collection('TX').first('stamp'), `2026-01-05 07:08:09 1 ${epoch}`);
  assert.deepEqual(ids(tx), [2, 3]);
});

test('multiMatch runs the operator on the value and after every transformation that changes it', () => {
  const set = rules([
    'SecRuleEngine On',
    'SecRule ARGS:a "@rx a" "id:1,phase:2,pass,log,t:urlDecode,t:lowercase,multiMatch,setvar:tx.n=+1"',
    'SecRule ARGS:b "@streq A" "id:2,phase:2,pass,log,t:urlDecode,t:lowercase,multiMatch"',
    'SecRule ARGS:b "@streq A" "id:3,phase:2,pass,log,t:urlDecode,t:lowercase"',
  ].join('\n'));
  const count = (query: string) => Number(run(set, request(`/?${query}`)).collection('TX').first('n') ?? 0);
  // ARGS hold the query's values decoded once: "%2561" is "%61" there.
  assert.equal(count('a=%252561'), 0); // "%2561" → "%61" → "%61": never an "a"
  assert.equal(count('a=%2561'), 1); // "%61" no, "a" yes, lower case unchanged: not tested again
  assert.equal(count('a=%2541'), 1); // "%41" no, "A" no, "a" yes
  assert.equal(count('a=a%2541'), 3); // "a%41", "aA", "aa"
  assert.equal(count('a=A'), 1); // "A" no, URL decoding changes nothing (not tested again), "a" yes
  // The intermediate "A" matches only with multiMatch.
  assert.deepEqual(ids(run(set, request('/?b=%2541'))), [2]);
});

test('what rules worked out about values is kept across transactions and answers as if worked out anew', () => {
  const set = rules([
    'SecRuleEngine On',
    'SecRequestBodyAccess On',
    'SecRule ARGS "@detectSQLi" "id:1,phase:2,pass,log,t:urlDecodeUni,setvar:tx.sqli=+1"',
    'SecRule ARGS "@rx (?i)(union)\\s+select" "id:2,phase:2,pass,log,capture,setvar:tx.cap=%{tx.1}"',
    'SecRule ARGS "@rx (?i)union\\s+select" "id:3,phase:2,pass,log,t:lowercase"',
    'SecRule REQUEST_HEADERS:User-Agent "@pm curl wget" "id:4,phase:1,pass,log"',
    // The same operator without and with capture: the captures come with the second's kept result only.
    'SecRule ARGS "@rx (sel)(ect)?" "id:5,phase:2,pass,log,t:lowercase"',
    'SecRule ARGS "@rx (sel)(ect)?" "id:6,phase:2,pass,log,t:lowercase,capture,setvar:tx.groups=%{tx.0}/%{tx.1}/%{tx.2}"',
    'SecRule ARGS "@detectSQLi" "id:7,phase:2,pass,log,capture,setvar:tx.fingerprint=%{tx.0}"',
  ].join('\n'));
  const attack = request("/?q=1'%20UNION%20SELECT%20password%20FROM%20users--", [['User-Agent', 'curl/8.0']]);
  const benign = request('/?q=summer+dresses&s=self', [['User-Agent', 'Mozilla/5.0']]);
  const seen = (tx: Transaction) => {
    const txs = tx.collection('TX');
    return { ids: ids(tx), sqli: txs.first('sqli'), cap: txs.first('cap'), groups: txs.first('groups'), fingerprint: txs.first('fingerprint') };
  };
  const first = seen(run(set, attack));
  assert.deepEqual(first, { ids: [4, 1, 2, 3, 5, 6, 7], sqli: '1', cap: 'UNION', groups: 'select/sel/ect', fingerprint: detectSqli("1' UNION SELECT password FROM users--").fingerprint });
  const quiet = { ids: [5, 6], sqli: undefined, cap: undefined, groups: 'sel/sel/', fingerprint: undefined };
  assert.deepEqual(seen(run(set, benign)), quiet);
  // Again, from what was kept; then with everything forgotten.
  assert.deepEqual(seen(run(set, attack)), first);
  assert.deepEqual(seen(run(set, benign)), quiet);
  set.values.forget();
  assert.deepEqual(seen(run(set, attack)), first);
  assert.deepEqual(seen(run(set, benign)), quiet);
});
