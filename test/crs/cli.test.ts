// `npm run conformance:crs` as a command: options, the files it generates for frontline, and
// its exit status. Runs against a tiny CRS-shaped directory, so it is quick. Until frontline has
// a WAF, frontline refuses the waf: section and the command must say so and exit with 2; once it
// has one, the run must end with the two summary lines and exit with 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/conformance-crs.ts');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [SCRIPT, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolveRun({ code, stdout, stderr });
    });
  });
}

function tinyCrs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crs-cli-'));
  mkdirSync(join(dir, 'rules'));
  mkdirSync(join(dir, 'tests/regression/tests/REQUEST-1'), { recursive: true });
  writeFileSync(join(dir, 'crs-setup.conf.example'), 'SecAction "id:900990,phase:1,pass,t:none,nolog,setvar:tx.crs_setup_version=4290"\n');
  writeFileSync(join(dir, 'rules/REQUEST-1-TEST.conf'), 'SecRule ARGS "@contains attack" "id:100001,phase:2,pass,log,msg:\'attack\'"\n');
  writeFileSync(
    join(dir, 'tests/regression/tests/REQUEST-1/100001.yaml'),
    'rule_id: 100001\ntests:\n  - stages:\n      - input: { uri: "/?a=attack", headers: { Host: localhost } }\n        output: { log: { expect_ids: [100001] } }\n',
  );
  return dir;
}

test('bad options exit with 2 and a reason', async () => {
  const r = await run(['--test', 'nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--test nope: expected RULE-TEST/);
  const missing = await run(['--crs', '/nonexistent/crs']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /does not exist/);
});

test('it configures frontline with the waf: section, and reports a frontline that cannot run it', async () => {
  const crs = tinyCrs();
  const r = await run(['--crs', crs, '--keep', '--timeout', '2000']);
  const kept = /kept (\S+)/.exec(r.stderr)?.[1];
  try {
    assert.ok(kept !== undefined && existsSync(kept), r.stderr);
    const config = parse(readFileSync(join(kept, 'frontline.yaml'), 'utf8')) as { waf: { files: string[]; audit_log: string }; workers: number };
    assert.equal(config.workers, 1);
    assert.deepEqual(config.waf.files, [join(kept, 'frontline-crs-setup.conf'), join(crs, 'crs-setup.conf.example'), join(crs, 'rules', '*.conf')]);
    assert.equal(config.waf.audit_log, join(kept, 'audit.jsonl'));
    const setup = readFileSync(join(kept, 'frontline-crs-setup.conf'), 'utf8');
    for (const line of ['SecRuleEngine DetectionOnly', 'SecAuditEngine On', 'setvar:tx.blocking_paranoia_level=4', 'setvar:tx.arg_length=400', 'setvar:tx.total_arg_length=6400', 'setvar:tx.max_file_size=64100', 'setvar:tx.combined_file_sizes=65535']) {
      assert.ok(setup.includes(line), line);
    }
    if (r.code === 2) {
      // The runner could not run (today: frontline does not know the waf: section yet).
      assert.match(r.stderr, /^conformance:crs: /m);
      if (r.stderr.includes('unknown key "waf"')) assert.match(r.stderr, /frontline did not start[\s\S]*has no WAF yet/);
    } else {
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines.at(-2)!, /^must-fire: \d+ of 1 passed$/);
      assert.match(lines.at(-1)!, /^\d+ passed, \d+ failed$/);
    }
  } finally {
    rmSync(crs, { recursive: true, force: true });
    if (kept !== undefined) rmSync(kept, { recursive: true, force: true });
  }
});
