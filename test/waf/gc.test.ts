// A finished transaction must die in the next scavenge. An old-space object holding it (V8
// pretenures a function literal assigned straight to a property, and makes an object literal's
// accessor pair in old space) keeps every transaction alive, and promoted, until the next full GC:
// that once cost a third of the WAF's CPU per request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseDirectives } from '../../src/waf/seclang/directives.ts';
import { WafRuleSet } from '../../src/waf/ruleset.ts';
import { Transaction, type WafRequest } from '../../src/waf/transaction.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;

const oldSpaceUsed = () => getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;

test('finished transactions do not survive scavenges', () => {
  const set = WafRuleSet.fromDirectives(
    parseDirectives('SecRuleEngine On\nSecRule ARGS|REQUEST_HEADERS "@rx attack" "id:1,phase:2,t:lowercase,t:urlDecodeUni,pass,capture,setvar:tx.x=%{tx.0}"', 'gc.conf'),
  );
  // 50 arguments of 200 bytes: each transaction makes ~30 KB of values, memos and collections.
  const args = Array.from({ length: 50 }, (_, i) => `a${i}=${'v'.repeat(200)}%41${i}`).join('&');
  const request: WafRequest = { id: 'r', method: 'GET', target: `/p?${args}`, protocol: 'HTTP/1.1', headers: [['Host', 'example.com']], remoteAddr: '192.0.2.10', remotePort: 1, serverAddr: '192.0.2.1', serverPort: 80 };
  const run = () => {
    const tx = new Transaction(set, request);
    tx.processRequestHeaders();
    tx.processRequestBody(undefined);
  };
  for (let i = 0; i < 20; i++) run();
  gc();
  const before = oldSpaceUsed();
  for (let i = 0; i < 100; i++) run();
  // Two scavenges promote what survives both (kept alive, 100 transactions promote ~3 MB).
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  const grown = oldSpaceUsed() - before;
  assert.ok(grown < 1024 * 1024, `the old space grew by ${Math.round(grown / 1024)} KB over 100 finished transactions`);
});
