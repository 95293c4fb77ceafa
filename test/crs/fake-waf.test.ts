// The CRS runner end to end against a fake "WAF" (test/crs/fake-waf.ts) that writes the audit
// log itself: markers, log windows, verdicts, overrides and retry_once through real sockets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSuite } from '../../scripts/crs/load-tests.ts';
import { parseOverrides } from '../../scripts/crs/overrides.ts';
import { runTests, RunnerError, type TestResult } from '../../scripts/crs/runner.ts';
import { startFakeWaf } from './fake-waf.ts';

const TESTS = `---
meta:
  author: test
rule_id: 942100
tests:
  - test_id: 1
    desc: fires, as expected
    stages:
      - input:
          dest_addr: 127.0.0.1
          port: 80
          uri: /get?x=attack
          headers: { Host: localhost }
        output:
          log:
            expect_ids: [942100]
            match_regex: '\\[id "942100"\\].*\\[msg "SQL Injection Attack Detected via libinjection"\\]'
  - test_id: 2
    desc: does not fire, but was expected to
    stages:
      - input:
          uri: /get?x=fine
          headers: { Host: localhost }
        output:
          log:
            expect_ids: [942100]
  - test_id: 3
    desc: two stages; the second one fires although it should not
    stages:
      - input:
          uri: /one
          headers: { Host: localhost }
        output:
          log:
            no_expect_ids: [942100]
      - input:
          method: POST
          uri: /two
          headers: { Host: localhost }
          data: x=attack&y=evil
        output:
          log:
            no_match_regex: '\\[id "\\d+"\\]'
  - test_id: 4
    desc: the server hangs up; expect_error
    stages:
      - input:
          uri: /hangup
          headers: { Host: localhost }
        output:
          expect_error: true
  - test_id: 5
    desc: a raw request, an engine message, the status and the response
    stages:
      - input:
          encoded_request: "${Buffer.from('GET /get?x=attack HTTP/1.1\r\nHost: localhost\r\nX-Fake-Message: Multipart parsing error: Multipart: Invalid part header (contains invalid character)\r\nConnection: close\r\n\r\n').toString('base64')}"
        output:
          status: 200
          response_contains: "ok GET /get\\\\?x=attack"
          log:
            match_regex: 'Multipart parsing error: Multipart: Invalid part header \\(contains invalid character\\)|\\[id "922130"\\]'
            expect_ids: [942100]
  - test_id: 6
    desc: overridden to expect a 400
    stages:
      - input:
          uri: /get
          headers: { Host: localhost }
        output:
          log:
            expect_ids: [942100]
  - test_id: 7
    desc: retried once, fails both times
    stages:
      - input:
          uri: /get
          headers: { Host: localhost }
        output:
          retry_once: true
          log:
            expect_ids: [942100]
`;

const OVERRIDES = `version: v1
meta: { engine: x, platform: y }
test_overrides:
  - rule_id: 942100
    test_ids: [6]
    reason: the fake answers 200, not 400
    output:
      status: 400
`;

async function withSuite(flushMs: number | undefined, run: (dir: string, port: number, audit: string, requests: () => number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crs-fake-'));
  const audit = join(dir, 'audit.jsonl');
  writeFileSync(join(dir, '942100.yaml'), TESTS);
  const waf = await startFakeWaf(audit, flushMs === undefined ? {} : { flushMs });
  try {
    await run(dir, waf.port, audit, () => waf.requests);
  } finally {
    await waf.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const flushMs of [undefined, 150]) {
  test(`a few tests against a fake WAF (${flushMs === undefined ? 'audit log written at once' : `audit log flushed every ${flushMs} ms`})`, async () => {
    await withSuite(flushMs, async (dir, port, auditLog, requests) => {
      const tests = loadSuite(dir).files.flatMap((f) => f.tests);
      const seen: string[] = [];
      const results = await runTests(tests, { host: '127.0.0.1', port, auditLog }, {
        timeoutMs: 2000,
        markerTimeoutMs: 3000,
        overrides: parseOverrides(OVERRIDES, 'o.yaml'),
        onResult: (r) => seen.push(r.id),
      });
      const byId = new Map<string, TestResult>(results.map((r) => [r.id, r]));
      assert.deepEqual(seen, ['942100-1', '942100-2', '942100-3', '942100-4', '942100-5', '942100-6', '942100-7']);
      assert.deepEqual(
        results.map((r) => [r.id, r.passed]),
        [
          ['942100-1', true],
          ['942100-2', false],
          ['942100-3', false],
          ['942100-4', true],
          ['942100-5', true],
          ['942100-6', false],
          ['942100-7', false],
        ],
      );
      assert.match(byId.get('942100-2')!.reason!, /expected rule ids \[942100\] in the log, missing 942100 \(log had: none\)/);
      // Only the second stage failed; its log is its own (the first stage's entry is not in it).
      const three = byId.get('942100-3')!;
      assert.deepEqual(three.stages.map((s) => [s.passed, s.ids]), [[true, []], [false, [932100, 942100]]]);
      assert.match(three.reason!, /^stage 2\/2: expected no log line matching/);
      assert.deepEqual(byId.get('942100-6')!.overrides, ['the fake answers 200, not 400']);
      assert.match(byId.get('942100-6')!.reason!, /expected status 400, got 200/);
      assert.equal(byId.get('942100-7')!.stages[0]!.retried, true);
      // 1, 2, 5 and 7 expect rule ids; 6 lost its expect_ids to the override.
      assert.deepEqual(results.filter((r) => r.mustFire).map((r) => r.testId), [1, 2, 5, 7]);
      // The preflight marker, then per stage run (8 stages, one run twice) the request and one
      // marker: each stage's end marker is the next one's start marker.
      assert.equal(requests(), 1 + 9 * 2);
    });
  });
}

test('a target whose audit log shows nothing stops the runner with an error', async () => {
  await withSuite(undefined, async (dir, port) => {
    const tests = loadSuite(dir).files.flatMap((f) => f.tests);
    await assert.rejects(
      runTests(tests, { host: '127.0.0.1', port, auditLog: join(dir, 'elsewhere.jsonl') }, { timeoutMs: 1000, markerTimeoutMs: 500, preflightMs: 300 }),
      (err: unknown) => err instanceof RunnerError && /no entry with "marker"/.test(err.message),
    );
  });
});

test('a target that goes away during the run stops the runner with an error, promptly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crs-fake-'));
  const audit = join(dir, 'audit.jsonl');
  writeFileSync(join(dir, '942100.yaml'), TESTS);
  const waf = await startFakeWaf(audit);
  let closed = false;
  try {
    const tests = loadSuite(dir).files.flatMap((f) => f.tests);
    const started = performance.now();
    await assert.rejects(
      runTests(tests, { host: '127.0.0.1', port: waf.port, auditLog: audit }, {
        timeoutMs: 1000,
        markerTimeoutMs: 5000,
        targetGone: () => (closed ? 'the fake WAF was closed' : undefined),
        onResult: () => {
          if (!closed) {
            closed = true;
            void waf.close();
          }
        },
      }),
      (err: unknown) => err instanceof RunnerError && err.message === 'the fake WAF was closed',
    );
    assert.ok(performance.now() - started < 4000);
  } finally {
    if (!closed) await waf.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
