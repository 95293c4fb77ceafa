import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { UpstreamGroup } from '../../src/proxy/upstream/group.ts';
import { Upstreams } from '../../src/proxy/upstream/index.ts';
import type { Peer } from '../../src/proxy/upstream/peer.ts';
import { FakeClock, origins, request, send, upstreamConfig, waitFor } from './fixtures.ts';

interface Change {
  origin: string;
  healthy: boolean;
  reason: string;
}

async function withGroup(
  n: number,
  body: (group: UpstreamGroup, clock: FakeClock, changes: Change[]) => void | Promise<void>,
): Promise<void> {
  const clock = new FakeClock();
  const changes: Change[] = [];
  const group = new UpstreamGroup(upstreamConfig(origins(n)), {
    now: clock.now,
    onHealthChange: (peer, healthy, reason) => changes.push({ origin: peer.origin, healthy, reason }),
  });
  try {
    await body(group, clock, changes);
  } finally {
    await group.close();
  }
}

function fail(group: UpstreamGroup, peer: Peer, times: number, outcome: 'connect-error' | 'error' | 'timeout' = 'connect-error'): void {
  for (let i = 0; i < times; i++) {
    group.started(peer);
    group.finished(peer, outcome, 1, 'ECONNREFUSED');
  }
}

function succeed(group: UpstreamGroup, peer: Peer): void {
  group.started(peer);
  group.finished(peer, 'ok', 1);
}

/** Which peers `pick` returns over a few rounds. */
function reachable(group: UpstreamGroup, exclude?: ReadonlySet<Peer>): Set<Peer> {
  const seen = new Set<Peer>();
  for (let i = 0; i < 3 * group.peers.length; i++) {
    const p = group.pick(request(), exclude);
    if (p) seen.add(p);
  }
  return seen;
}

describe('passive health', () => {
  test('maxFails consecutive failures eject; a success in between resets the count', () =>
    withGroup(3, (group, _clock, changes) => {
      const [a, b, c] = group.peers;
      fail(group, a, 2);
      succeed(group, a);
      fail(group, a, 2);
      assert.equal(changes.length, 0);
      assert.equal(group.snapshot()[0].fails, 2);
      fail(group, a, 1, 'timeout');
      assert.equal(changes.length, 1);
      assert.deepEqual(changes[0], {
        origin: a.origin,
        healthy: false,
        reason: '3 consecutive failures, last: timeout ECONNREFUSED; for 1000 ms',
      });
      assert.deepEqual(reachable(group), new Set([b, c]));
      const snap = group.snapshot()[0];
      assert.equal(snap.healthy, false);
      assert.equal(snap.ejectedUntil, 2000);
    }));

  test('5xx is not a failure: the proxy reports it as ok', () =>
    withGroup(2, (group) => {
      for (let i = 0; i < 10; i++) succeed(group, group.peers[0]);
      assert.equal(group.snapshot()[0].healthy, true);
    }));

  test('re-admission on trial after the ejection time; failures double it up to the maximum; success resets', () =>
    withGroup(3, (group, clock, changes) => {
      const [a, b, c] = group.peers;
      fail(group, a, 3);
      clock.advance(999);
      assert.ok(!reachable(group).has(a), 'still ejected just before the time is up');
      clock.advance(1);
      assert.ok(reachable(group).has(a), 'back once the time is up');
      assert.deepEqual(changes.at(-1), { origin: a.origin, healthy: true, reason: 'ejection time over; on trial' });

      // Half-open: while the trial request is in flight, nothing else goes to the peer.
      group.started(a);
      assert.deepEqual(reachable(group), new Set([b, c]));
      group.finished(a, 'error', 1);
      assert.match(changes.at(-1)!.reason, /^trial request failed: error; for 2000 ms$/);
      assert.equal(group.snapshot()[0].ejectedUntil, clock.t + 2000);

      // Each failed trial doubles: 2000, 4000, 8000, then capped at 8000.
      for (const expected of [4000, 8000, 8000]) {
        clock.advance(group.snapshot()[0].ejectedUntil - clock.t);
        assert.ok(reachable(group).has(a));
        fail(group, a, 1);
        assert.equal(group.snapshot()[0].ejectedUntil - clock.t, expected);
      }

      // A successful trial returns the peer to full rotation and resets the ejection time.
      clock.advance(8000);
      succeed(group, a);
      assert.deepEqual(reachable(group), new Set([a, b, c]));
      fail(group, a, 2);
      assert.equal(group.snapshot()[0].healthy, true, 'needs maxFails again, not one failure');
      fail(group, a, 1);
      assert.equal(group.snapshot()[0].ejectedUntil - clock.t, 1000);
    }));

  test('failures of requests already in flight at ejection do not extend it', () =>
    withGroup(2, (group, _clock, changes) => {
      const [a] = group.peers;
      for (let i = 0; i < 20; i++) group.started(a);
      for (let i = 0; i < 20; i++) group.finished(a, 'connect-error', 1);
      assert.equal(changes.length, 1);
      assert.equal(group.snapshot()[0].ejectedUntil, 2000);
      assert.equal(group.snapshot()[0].inflight, 0);
    }));

  test('requests still in flight when the ejection ends cannot block the trial', () =>
    withGroup(2, (group, clock) => {
      const [a, b] = group.peers;
      for (let i = 0; i < 5; i++) group.started(a);
      fail(group, a, 3);
      clock.advance(1000);
      assert.equal(group.pick(request(), new Set([b])), a);
      group.started(a);
      group.finished(a, 'ok', 1);
      assert.ok(reachable(group).has(a), 'the trial result counted, though older requests are still in flight');
    }));

  test('all peers ejected: still picks the one whose ejection ends soonest', () =>
    withGroup(3, (group, clock) => {
      const [a, b, c] = group.peers;
      fail(group, b, 3); // until 2000
      clock.advance(100);
      fail(group, c, 3); // until 2100
      clock.advance(100);
      fail(group, a, 3); // until 2200
      for (let i = 0; i < 5; i++) assert.equal(group.pick(request()), b);
      assert.equal(group.pick(request(), new Set([b])), c);
      assert.equal(group.pick(request(), new Set([b, c])), a);
      assert.equal(group.pick(request(), new Set([a, b, c])), undefined);
    }));

  test('a request that succeeds on an ejected peer re-admits it', () =>
    withGroup(1, (group, _clock, changes) => {
      const [a] = group.peers;
      fail(group, a, 3);
      assert.equal(group.pick(request()), a, 'the only peer is still tried');
      succeed(group, a);
      assert.equal(group.snapshot()[0].healthy, true);
      assert.deepEqual(changes.at(-1), { origin: a.origin, healthy: true, reason: 'a request succeeded while it was ejected' });
    }));

  test('exclude with an ejected peer: falls back to it rather than fail the retry', () =>
    withGroup(2, (group) => {
      const [a, b] = group.peers;
      fail(group, b, 3);
      assert.equal(group.pick(request(), new Set([a])), b);
      assert.ok(!reachable(group).has(b));
    }));
});

describe('Upstreams', () => {
  test('groups by name, snapshots, health callback with names, real pooled connections', async () => {
    const origin = createServer((_req, res) => res.end('hi'));
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const changes: string[] = [];
    const upstreams = new Upstreams(
      new Map([
        ['app', upstreamConfig([url])],
        ['api', { ...upstreamConfig(origins(2)), name: 'api', balance: 'least-connections' as const }],
      ]),
      { onHealthChange: (upstream, o, healthy, reason) => changes.push(`${upstream} ${o} ${healthy} ${reason}`) },
    );
    try {
      assert.throws(() => upstreams.get('nope'), /no upstream named "nope"/);
      const app = upstreams.get('app');
      const api = upstreams.get('api');
      const peer = app.pick(request())!;
      app.started(peer);
      const res = await send(peer.pool);
      assert.equal(res.body.toString(), 'hi');
      app.finished(peer, 'ok', 3);

      const snap = upstreams.snapshot();
      assert.deepEqual(
        snap.map((s) => [s.upstream, s.origin]),
        [['app', url], ['api', api.peers[0].origin], ['api', api.peers[1].origin]],
      );
      assert.equal(snap[0].pool.connected, 1, 'the connection stays open for the next request');
      await waitFor(() => app.snapshot()[0].pool.free === 1, 1000, 'the connection to go back to the pool');
      assert.equal(snap[0].inflight, 0);
      assert.equal(snap[0].healthy, true);

      fail(api, api.peers[1], 3);
      assert.deepEqual(changes, [`api ${api.peers[1].origin} false 3 consecutive failures, last: connect-error ECONNREFUSED; for 1000 ms`]);
    } finally {
      await upstreams.close();
      origin.close();
    }
  });
});
