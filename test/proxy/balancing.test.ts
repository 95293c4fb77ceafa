// Balancing, retries and passive ejection through a real frontline process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, request, startFrontline, startOrigin, type Frontline, type Origin } from '../helpers/servers.ts';

describe('upstream balancing and health', () => {
  let fl: Frontline;
  let a: Origin;
  let b: Origin;
  let deadPort: number;
  const hits = { a: 0, b: 0 };

  before(async () => {
    a = await startOrigin((_req, res) => {
      hits.a++;
      res.end('a');
    });
    b = await startOrigin((_req, res) => {
      hits.b++;
      res.end('b');
    });
    deadPort = await freePort();
    fl = await startFrontline({
      upstreams: {
        pair: { servers: [{ url: a.url }, { url: b.url }], balance: 'round-robin' },
        weighted: { servers: [{ url: a.url, weight: 3 }, { url: b.url, weight: 1 }], balance: 'weighted' },
        flaky: {
          servers: [{ url: a.url }, { url: `http://127.0.0.1:${deadPort}` }],
          retries: 1,
          health: { passive: { max_fails: 2, eject_for: '30s' } },
        },
      },
      routes: [
        { path: '/rr', upstream: 'pair' },
        { path: '/w', upstream: 'weighted' },
        { path: '/flaky', upstream: 'flaky' },
      ],
    });
  });

  after(async () => {
    await fl?.stop();
    await Promise.all([a?.close(), b?.close()]);
  });

  const url = (p: string) => `http://127.0.0.1:${fl.port}${p}`;

  it('spreads requests round-robin', async () => {
    hits.a = hits.b = 0;
    for (let i = 0; i < 10; i++) assert.equal((await request(url('/rr'))).status, 200);
    assert.deepEqual(hits, { a: 5, b: 5 });
  });

  it('honours weights', async () => {
    hits.a = hits.b = 0;
    for (let i = 0; i < 20; i++) await request(url('/w'));
    assert.deepEqual(hits, { a: 15, b: 5 });
  });

  it('retries an idempotent request on another server and ejects the dead one', async () => {
    hits.a = 0;
    for (let i = 0; i < 10; i++) {
      const res = await request(url('/flaky'));
      assert.equal(res.status, 200, 'a GET survives one dead server');
      assert.equal(res.body.toString(), 'a');
    }
    assert.equal(hits.a, 10);
    const dead = `127.0.0.1:${deadPort}`;
    const retries = fl.logs.filter((l) => String(l.msg).includes('retrying') && String(l.msg).includes(dead)).length;
    assert.ok(retries >= 2 && retries <= 3, `retried ${retries} times before the ejection`);
    assert.ok(fl.logs.some((l) => String(l.msg).includes('ejected') && String(l.msg).includes(dead)));
  });
});
