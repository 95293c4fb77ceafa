import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BalancePolicy } from '../../src/config/types.ts';
import { UpstreamGroup } from '../../src/proxy/upstream/group.ts';
import type { Peer } from '../../src/proxy/upstream/peer.ts';
import { FakeClock, origins, request, seededRandom, upstreamConfig } from './fixtures.ts';

async function withGroup(
  servers: (string | [string, number])[],
  balance: BalancePolicy,
  body: (group: UpstreamGroup, clock: FakeClock) => void | Promise<void>,
  hashKey = 'client_ip',
): Promise<void> {
  const clock = new FakeClock();
  const group = new UpstreamGroup(upstreamConfig(servers, { balance, hashKey }), { now: clock.now, random: seededRandom(7) });
  try {
    await body(group, clock);
  } finally {
    await group.close();
  }
}

/** Pick `n` times as a proxy would (started, then finished at once); returns picks in order. */
function sequence(group: UpstreamGroup, n: number): Peer[] {
  const out: Peer[] = [];
  for (let i = 0; i < n; i++) {
    const peer = group.pick(request());
    assert.ok(peer);
    group.started(peer);
    group.finished(peer, 'ok', 5);
    out.push(peer);
  }
  return out;
}

function counts(picks: Peer[]): number[] {
  const c = [0, 0, 0, 0, 0, 0];
  for (const p of picks) c[p.index]++;
  return c.slice(0, Math.max(...picks.map((p) => p.index)) + 1);
}

describe('round-robin', () => {
  test('cycles through the peers in order', () =>
    withGroup(origins(3), 'round-robin', (group) => {
      const picks = sequence(group, 300);
      assert.deepEqual(picks.slice(0, 6).map((p) => p.index), [0, 1, 2, 0, 1, 2]);
      assert.deepEqual(counts(picks), [100, 100, 100]);
    }));

  test('skips excluded peers; undefined when all are excluded', () =>
    withGroup(origins(3), 'round-robin', (group) => {
      const [a, b, c] = group.peers;
      for (let i = 0; i < 20; i++) assert.notEqual(group.pick(request(), new Set([a])), a);
      assert.equal(group.pick(request(), new Set([a, c])), b);
      assert.equal(group.pick(request(), new Set([a, b, c])), undefined);
    }));
});

describe('weighted (smooth)', () => {
  test('5:1:1 over 700 picks gives 500/100/100, interleaved as nginx does', () =>
    withGroup([['http://a:1', 5], ['http://b:1', 1], ['http://c:1', 1]], 'weighted', (group) => {
      const picks = sequence(group, 700);
      assert.deepEqual(counts(picks), [500, 100, 100]);
      assert.deepEqual(picks.slice(0, 7).map((p) => p.index), [0, 0, 1, 0, 2, 0, 0]);
      // Smoothness: the heavy peer never gets more than 5 of any 7 consecutive picks, and after
      // every pick each peer's count is within one of its exact share (a burst — a a a a a b c —
      // would be 1.43 ahead after five picks).
      const idx = picks.map((p) => p.index);
      for (let i = 0; i + 7 <= idx.length; i++) {
        const w = idx.slice(i, i + 7);
        assert.equal(w.filter((x) => x === 0).length, 5, `window at ${i}: ${w.join('')}`);
      }
      const seen = [0, 0, 0];
      idx.forEach((x, k) => {
        seen[x]++;
        [5, 1, 1].forEach((weight, peer) => {
          const lag = seen[peer] - ((k + 1) * weight) / 7;
          assert.ok(Math.abs(lag) < 1, `peer ${peer} is ${lag.toFixed(2)} off its share after ${k + 1} picks`);
        });
      });
    }));

  test('excluded peers drop out of the rotation and shares hold among the rest', () =>
    withGroup([['http://a:1', 5], ['http://b:1', 1], ['http://c:1', 1]], 'weighted', (group) => {
      const [a, b, c] = group.peers;
      const picks: Peer[] = [];
      for (let i = 0; i < 60; i++) picks.push(group.pick(request(), new Set([a]))!);
      assert.equal(picks.filter((p) => p === b).length, 30);
      assert.equal(picks.filter((p) => p === c).length, 30);
      assert.equal(group.pick(request(), new Set([a, b, c])), undefined);
    }));
});

describe('least-connections', () => {
  test('prefers the peer with fewest requests in flight', () =>
    withGroup(origins(3), 'least-connections', (group) => {
      const [a, b, c] = group.peers;
      group.started(a);
      group.started(a);
      group.started(c);
      assert.equal(group.pick(request()), b);
      group.started(b);
      group.started(b);
      assert.equal(group.pick(request()), c);
      group.finished(a, 'ok', 1);
      group.finished(a, 'ok', 1);
      assert.equal(group.pick(request()), a);
    }));

  test('relative to weight', () =>
    withGroup([['http://a:1', 3], ['http://b:1', 1]], 'least-connections', (group) => {
      const [a, b] = group.peers;
      group.started(a);
      group.started(a);
      group.started(b);
      assert.equal(group.pick(request()), a, '2 in flight of weight 3 is less loaded than 1 of weight 1');
      group.started(a);
      group.started(a);
      assert.equal(group.pick(request()), b, '4/3 > 1/1');
    }));

  test('ties spread round-robin (by weight) instead of piling on the first peer', () =>
    withGroup(origins(3), 'least-connections', (group) => {
      assert.deepEqual(counts(sequence(group, 300)), [100, 100, 100]);
    }).then(() =>
      withGroup([['http://a:1', 2], ['http://b:1', 1]], 'least-connections', (group) => {
        assert.deepEqual(counts(sequence(group, 300)), [200, 100]);
      }),
    ));

  test('exclude', () =>
    withGroup(origins(3), 'least-connections', (group) => {
      const [a, b, c] = group.peers;
      group.started(c);
      assert.equal(group.pick(request(), new Set([a])), b);
      assert.equal(group.pick(request(), new Set([a, b])), c);
      assert.equal(group.pick(request(), new Set([a, b, c])), undefined);
    }));
});

describe('consistent-hash', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `198.51.${(i >> 8) & 255}.${i & 255}-${i}`);

  function mapping(servers: string[], eject?: (group: UpstreamGroup) => void): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    return withGroup(servers, 'consistent-hash', (group) => {
      eject?.(group);
      for (const k of keys) out.set(k, group.pick(request({ clientAddress: k }))!.origin);
    }).then(() => out);
  }

  test('a key always maps to the same peer, and keys spread over all peers', async () => {
    const servers = origins(5);
    const m1 = await mapping(servers);
    const m2 = await mapping(servers);
    assert.deepEqual(m1, m2);
    const per = new Map<string, number>();
    for (const o of m1.values()) per.set(o, (per.get(o) ?? 0) + 1);
    assert.equal(per.size, 5);
    for (const [o, n] of per) assert.ok(n > 1200 && n < 2800, `${o} got ${n} of 10000 keys`);
  });

  test('removing one of 5 servers moves only its keys (~1/5)', async () => {
    const servers = origins(5);
    const before = await mapping(servers);
    const after = await mapping(servers.filter((_, i) => i !== 2));
    let moved = 0;
    for (const k of keys) {
      if (before.get(k) === after.get(k)) continue;
      moved++;
      assert.equal(before.get(k), servers[2], 'only keys of the removed server move');
    }
    assert.ok(moved > 1200 && moved < 2800, `moved ${moved} of 10000`);
  });

  test('adding a sixth server moves ~1/6 of keys, all to the new server', async () => {
    const servers = origins(6);
    const before = await mapping(servers.slice(0, 5));
    const after = await mapping(servers);
    let moved = 0;
    for (const k of keys) {
      if (before.get(k) === after.get(k)) continue;
      moved++;
      assert.equal(after.get(k), servers[5]);
    }
    assert.ok(moved > 1000 && moved < 2400, `moved ${moved} of 10000`);
  });

  test('an ejected peer\'s keys walk to the next peer on the ring; the others stay', async () => {
    const servers = origins(5);
    const before = await mapping(servers);
    const after = await mapping(servers, (group) => {
      const victim = group.peers[1];
      for (let i = 0; i < 3; i++) {
        group.started(victim);
        group.finished(victim, 'connect-error', 1);
      }
    });
    for (const k of keys) {
      if (before.get(k) === servers[1]) assert.notEqual(after.get(k), servers[1]);
      else assert.equal(after.get(k), before.get(k));
    }
  });

  test('exclude walks on to the next peer, the same one for the same key', () =>
    withGroup(origins(5), 'consistent-hash', (group) => {
      const req = request({ clientAddress: '203.0.113.9' });
      const first = group.pick(req)!;
      const second = group.pick(req, new Set([first]))!;
      assert.notEqual(second, first);
      assert.equal(group.pick(req, new Set([first])), second);
      const third = group.pick(req, new Set([first, second]))!;
      assert.ok(third !== first && third !== second);
      assert.equal(group.pick(req, new Set(group.peers)), undefined);
    }));

  test('header and cookie keys; a missing key spreads round-robin', async () => {
    await withGroup(origins(4), 'consistent-hash', (group) => {
      const byUser = (u: string | string[]) => group.pick(request({ headers: { 'x-user': u }, clientAddress: String(Math.random()) }));
      assert.equal(byUser('alice'), byUser('alice'));
      assert.equal(byUser(['a', 'b']), byUser(['a', 'b']));
      const seen = new Set(Array.from({ length: 40 }, (_, i) => byUser(`user${i}`)));
      assert.ok(seen.size >= 3, 'different users land on different peers');
      const noKey = Array.from({ length: 8 }, () => group.pick(request())!.index);
      assert.deepEqual(noKey, [0, 1, 2, 3, 0, 1, 2, 3]);
    }, 'header:X-User');

    await withGroup(origins(4), 'consistent-hash', (group) => {
      const bySid = (cookie: string) => group.pick(request({ headers: { cookie } }));
      assert.equal(bySid('a=1; sid=abc; b=2'), bySid('sid=abc'));
      assert.equal(bySid('xsid=1; sid=abc'), bySid('sid=abc;'));
      const seen = new Set(Array.from({ length: 40 }, (_, i) => bySid(`theme=dark; sid=s${i}`)));
      assert.ok(seen.size >= 3);
      // Cookies without sid: no key, so round-robin over the peers.
      const spread = new Set(Array.from({ length: 4 }, () => bySid('theme=dark; sidx=1')));
      assert.equal(spread.size, 4);
    }, 'cookie:sid');
  });
});

describe('peak-ewma', () => {
  test('prefers the fast peer once latencies are recorded', () =>
    withGroup(origins(3), 'peak-ewma', (group, clock) => {
      const [fast, slow1, slow2] = group.peers;
      for (let i = 0; i < 5; i++) {
        for (const [peer, ms] of [[fast, 5], [slow1, 80], [slow2, 120]] as const) {
          group.started(peer);
          group.finished(peer, 'ok', ms);
        }
        clock.advance(100);
      }
      const c = [0, 0, 0];
      for (let i = 0; i < 3000; i++) c[group.pick(request())!.index]++;
      // Two random choices out of three: the fast peer wins every draw it is in (2/3), slow1
      // wins the draws without it (1/3); slow2 never wins.
      assert.ok(c[0] > 1850 && c[0] < 2150, `fast got ${c[0]}`);
      assert.ok(c[1] > 850 && c[1] < 1150, `slow1 got ${c[1]}`);
      assert.equal(c[2], 0);
    }));

  test('load counts: a fast peer with many requests in flight loses to an idle slower one', () =>
    withGroup(origins(2), 'peak-ewma', (group) => {
      const [fast, slow] = group.peers;
      group.started(fast);
      group.finished(fast, 'ok', 2);
      group.started(slow);
      group.finished(slow, 'ok', 10);
      assert.equal(group.pick(request()), fast);
      for (let i = 0; i < 10; i++) group.started(fast);
      assert.equal(group.pick(request()), slow);
    }));

  test('a new peer is tried before a measured slow one; a peak counts at once', () =>
    withGroup(origins(2), 'peak-ewma', (group) => {
      const [a, b] = group.peers;
      group.started(a);
      group.finished(a, 'ok', 100);
      assert.equal(group.pick(request()), b, 'unmeasured (optimistic) beats 100 ms');
      group.started(b);
      group.finished(b, 'ok', 1);
      group.started(b);
      group.finished(b, 'ok', 500);
      assert.equal(group.pick(request()), a, 'one 500 ms answer makes b the slower at once');
      assert.ok(group.snapshot()[1].ewmaMs >= 499);
    }));

  test('a slow peak decays over ~10 s without samples', () =>
    withGroup(origins(2), 'peak-ewma', (group, clock) => {
      const [a, b] = group.peers;
      group.started(a);
      group.finished(a, 'ok', 10);
      group.started(b);
      group.finished(b, 'ok', 40);
      const before = group.snapshot()[1].ewmaMs;
      clock.advance(10_000);
      const after = group.snapshot()[1].ewmaMs;
      assert.ok(Math.abs(after / before - Math.exp(-1)) < 0.01, `${before} -> ${after}`);
    }));

  test('failures count as slow even when they are fast (connection refused)', () =>
    withGroup(origins(2), 'peak-ewma', (group) => {
      const [a, b] = group.peers;
      group.started(b);
      group.finished(b, 'ok', 50);
      group.started(a);
      group.finished(a, 'connect-error', 1);
      assert.equal(group.pick(request()), b);
    }));

  test('exclude', () =>
    withGroup(origins(3), 'peak-ewma', (group) => {
      const [a, b, c] = group.peers;
      for (let i = 0; i < 50; i++) assert.equal(group.pick(request(), new Set([a, b])), c);
      for (let i = 0; i < 50; i++) assert.notEqual(group.pick(request(), new Set([a])), a);
      assert.equal(group.pick(request(), new Set([a, b, c])), undefined);
    }));
});
