import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ActiveHealthConfig } from '../../src/config/types.ts';
import { UpstreamGroup } from '../../src/proxy/upstream/group.ts';
import { request, upstreamConfig, waitFor } from './fixtures.ts';

async function listen(handler: RequestListener, port = 0): Promise<Server> {
  const server = createServer(handler);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const active: ActiveHealthConfig = {
  path: '/health',
  intervalMs: 50,
  timeoutMs: 300,
  healthyAfter: 2,
  unhealthyAfter: 2,
  expectStatus: [200, 399],
};

test('active checks eject a 500 and a closed port, keep the 200, and re-admit both when they recover', async (t) => {
  const probes: string[] = [];
  const ok = await listen((req, res) => {
    probes.push(`${req.method} ${req.url} ${req.headers['user-agent']}`);
    res.end('ok');
  });
  let brokenStatus = 500;
  const broken = await listen((_req, res) => {
    res.statusCode = brokenStatus;
    res.end();
  });
  const gone = await listen(() => {});
  const gonePort = (gone.address() as AddressInfo).port;
  const goneUrl = url(gone);
  gone.close();
  await once(gone, 'close');

  const changes: string[] = [];
  const group = new UpstreamGroup(
    upstreamConfig([url(ok), url(broken), goneUrl], { health: { passive: { maxFails: 3, ejectForMs: 1000, maxEjectForMs: 8000 }, active } }),
    { onHealthChange: (peer, healthy, reason) => changes.push(`${peer.origin} ${healthy} ${reason}`) },
  );
  let revived: Server | undefined;
  t.after(async () => {
    await group.close();
    ok.close();
    broken.close();
    revived?.close();
  });
  const [okPeer, brokenPeer, gonePeer] = group.peers;
  const healthy = () => group.snapshot().map((s) => s.healthy);

  await waitFor(() => !brokenPeer.healthy && !gonePeer.healthy, 1500, 'the 500 and the closed port to be ejected');
  assert.deepEqual(healthy(), [true, false, false]);
  assert.ok(changes.includes(`${brokenPeer.origin} false active check failed 2 times in a row: HTTP 500`), changes.join('\n'));
  assert.ok(changes.includes(`${gonePeer.origin} false active check failed 2 times in a row: ECONNREFUSED`), changes.join('\n'));
  assert.ok(!changes.some((c) => c.startsWith(okPeer.origin)));
  assert.equal(probes[0], 'GET /health frontline-health-check');
  for (let i = 0; i < 10; i++) assert.equal(group.pick(request()), okPeer);
  assert.equal(group.snapshot()[1].activeDown, true);

  brokenStatus = 204;
  try {
    revived = await listen((_req, res) => res.end('back'), gonePort);
  } catch {
    t.diagnostic(`port ${gonePort} was taken meanwhile; only the 500 peer's recovery is checked`);
  }
  await waitFor(() => brokenPeer.healthy && (revived === undefined || gonePeer.healthy), 1500, 'recovered peers to be re-admitted');
  assert.ok(changes.includes(`${brokenPeer.origin} true active check passed 2 times in a row: HTTP 204`), changes.join('\n'));
  const picked = new Set(Array.from({ length: 6 }, () => group.pick(request())));
  assert.ok(picked.has(brokenPeer));
  if (revived) assert.ok(picked.has(gonePeer));
});

test('a probe that gets no answer within timeoutMs fails', async (t) => {
  const hang = await listen(() => {});
  const reasons: string[] = [];
  const group = new UpstreamGroup(upstreamConfig([url(hang)], { health: { passive: { maxFails: 3, ejectForMs: 1000, maxEjectForMs: 8000 }, active: { ...active, timeoutMs: 100 } } }), {
    onHealthChange: (_peer, healthy, reason) => reasons.push(`${healthy} ${reason}`),
  });
  t.after(async () => {
    await group.close();
    hang.closeAllConnections();
    hang.close();
  });
  await waitFor(() => !group.peers[0].healthy, 1500, 'the silent origin to be ejected');
  assert.deepEqual(reasons, ['false active check failed 2 times in a row: timeout after 100 ms']);
  // The only peer is down, yet requests still have somewhere to go.
  assert.equal(group.pick(request()), group.peers[0]);
});

test('close() stops the probes', async (t) => {
  let probes = 0;
  const origin = await listen((_req, res) => {
    probes++;
    res.end();
  });
  t.after(() => origin.close());
  const group = new UpstreamGroup(upstreamConfig([url(origin)], { health: { passive: { maxFails: 3, ejectForMs: 1000, maxEjectForMs: 8000 }, active } }));
  await waitFor(() => probes >= 2, 1000, 'two probes');
  await group.close();
  const after = probes;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.ok(probes <= after + 1, `probes went on after close: ${after} -> ${probes}`);
});
