import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { WorkerMetrics } from '../../src/observability/metrics.ts';
import { finished, route } from './fixtures.ts';

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}



async function values(metrics: WorkerMetrics, name: string): Promise<Value[]> {
  const all = (await metrics.metricsJSON()) as Array<{ name: string; values: Value[] }>;
  const metric = all.find((m) => m.name === name);
  assert.ok(metric, `metric ${name}`);
  return metric.values;
}

function find(vs: Value[], labels: Record<string, string | number>, metricName?: string): number | undefined {
  return vs.find(
    (v) =>
      (metricName === undefined || v.metricName === metricName) &&
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )?.value;
}

test('requests, durations and errors are counted by route, status and upstream', async () => {
  const metrics = new WorkerMetrics(4);
  try {
    const api = route('api.example.com', '/v1/', 'api');
    const any = route(undefined, '/', 'web');
    metrics.requestStarted();
    metrics.requestFinished(finished(api, 200, { totalMs: 3, ttfbMs: 2, upstreamFirstByteMs: 1.5, upstreamConnectMs: 0 }));
    metrics.requestFinished(finished(api, 200, { totalMs: 40, ttfbMs: 30, upstreamFirstByteMs: 20 }));
    // The same route after a reload: a new object with the same label.
    metrics.requestFinished(finished(route('api.example.com', '/v1/', 'api'), 503, { totalMs: 0.2 }));
    metrics.requestFinished(finished(any, 404, { totalMs: 0.1, ttfbMs: 0.1 }));
    metrics.requestFinished(finished(undefined, 400, {}));
    metrics.upstreamError('api', 'connect');
    metrics.upstreamError('api', 'connect');
    metrics.upstreamError('api', 'timeout');

    const requests = await values(metrics, 'frontline_requests_total');
    assert.equal(find(requests, { route: 'api.example.com/v1/', status: '200' }), 2);
    assert.equal(find(requests, { route: 'api.example.com/v1/', status: '503' }), 1);
    assert.equal(find(requests, { route: '*/', status: '404' }), 1);
    assert.equal(find(requests, { route: 'none', status: '400' }), 1);
    assert.equal(requests.length, 4);

    const duration = await values(metrics, 'frontline_request_duration_seconds');
    const bucket = 'frontline_request_duration_seconds_bucket';
    assert.equal(find(duration, { route: 'api.example.com/v1/', le: 0.0005 }, bucket), 1);
    assert.equal(find(duration, { route: 'api.example.com/v1/', le: 0.005 }, bucket), 2);
    assert.equal(find(duration, { route: 'api.example.com/v1/', le: 0.05 }, bucket), 3);
    assert.equal(find(duration, { route: 'api.example.com/v1/', le: '+Inf' }, bucket), 3);
    assert.equal(find(duration, { route: 'api.example.com/v1/' }, 'frontline_request_duration_seconds_count'), 3);
    const sum = find(duration, { route: 'api.example.com/v1/' }, 'frontline_request_duration_seconds_sum');
    assert.ok(sum !== undefined && Math.abs(sum - 0.0432) < 1e-9);
    // Not timed: ended when it was counted (how long that took depends on the machine's load).
    assert.equal(find(duration, { route: 'none' }, 'frontline_request_duration_seconds_count'), 1);

    const ttfb = await values(metrics, 'frontline_ttfb_seconds');
    assert.equal(find(ttfb, { route: 'api.example.com/v1/' }, 'frontline_ttfb_seconds_count'), 2);
    assert.equal(find(ttfb, { route: '*/' }, 'frontline_ttfb_seconds_count'), 1);
    assert.equal(find(ttfb, { route: 'none' }, 'frontline_ttfb_seconds_count'), 0);

    const upstream = await values(metrics, 'frontline_upstream_response_seconds');
    assert.equal(find(upstream, { upstream: 'api' }, 'frontline_upstream_response_seconds_count'), 2);
    assert.equal(find(upstream, { upstream: 'api', le: 0.0025 }, 'frontline_upstream_response_seconds_bucket'), 1);
    assert.equal(find(upstream, { upstream: 'web' }, 'frontline_upstream_response_seconds_count'), 0);

    const errors = await values(metrics, 'frontline_upstream_errors_total');
    assert.equal(find(errors, { upstream: 'api', kind: 'connect' }), 2);
    assert.equal(find(errors, { upstream: 'api', kind: 'timeout' }), 1);

    assert.equal(find(await values(metrics, 'frontline_worker_requests_total'), { worker: '4' }), 1);
  } finally {
    metrics.close();
  }
});

test('connections per worker, and the pools and health the proxy reports', async () => {
  const metrics = new WorkerMetrics(2);
  try {
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionClosed();
    assert.equal(find(await values(metrics, 'frontline_worker_connections_accepted_total'), { worker: '2' }), 3);
    assert.equal(find(await values(metrics, 'frontline_worker_connections_open'), { worker: '2' }), 2);

    let origins = [
      { upstream: 'api', origin: 'http://10.0.0.1:80', healthy: true, pool: { connected: 4, free: 1, pending: 0, running: 3 } },
      { upstream: 'api', origin: 'http://10.0.0.2:80', healthy: false, pool: { connected: 0, free: 0, pending: 2, running: 0 } },
    ];
    metrics.setUpstreamSnapshot(() => origins);
    const pool = await values(metrics, 'frontline_upstream_pool_connections');
    assert.equal(find(pool, { upstream: 'api', origin: 'http://10.0.0.1:80', state: 'running' }), 3);
    assert.equal(find(pool, { upstream: 'api', origin: 'http://10.0.0.2:80', state: 'pending' }), 2);
    assert.equal(pool.length, 8);
    const healthy = await values(metrics, 'frontline_upstream_healthy');
    assert.equal(find(healthy, { upstream: 'api', origin: 'http://10.0.0.1:80' }), 1);
    assert.equal(find(healthy, { upstream: 'api', origin: 'http://10.0.0.2:80' }), 0);
    // An origin gone from the configuration is gone from the metrics.
    origins = origins.slice(0, 1);
    assert.equal((await values(metrics, 'frontline_upstream_healthy')).length, 1);

    const text = await metrics.registry.metrics();
    assert.match(text, /^frontline_worker_connections_open\{worker="2"\} 2$/m);
    assert.match(text, /^frontline_upstream_healthy\{upstream="api",origin="http:\/\/10\.0\.0\.1:80"\} 1$/m);
  } finally {
    metrics.close();
  }
});

test('event_loop_blocked: a 160 ms busy loop is one observation in the (0.1, 0.25] bucket', async () => {
  const metrics = new WorkerMetrics(1);
  try {
    await sleep(50);
    // 160 ms leaves room on both sides of the bucket for a loaded machine's scheduling delays.
    const end = performance.now() + 160;
    while (performance.now() < end);
    await sleep(50);
    const blocked = await values(metrics, 'frontline_event_loop_blocked_seconds');
    const bucket = (le: number | string): number =>
      find(blocked, { worker: '1', le }, 'frontline_event_loop_blocked_seconds_bucket') ?? NaN;
    assert.equal(bucket(0.25) - bucket(0.1), 1, JSON.stringify(blocked));
    assert.equal(bucket('+Inf') - bucket(0.25), 0);
    // The quiet samples around it were taken too.
    assert.ok(bucket(0.1) >= 5, `${bucket(0.1)} samples`);
  } finally {
    metrics.close();
  }
});
