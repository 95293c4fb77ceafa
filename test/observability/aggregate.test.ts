import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregateMetrics } from '../../src/observability/aggregate.ts';
import { WorkerMetrics } from '../../src/observability/metrics.ts';
import { finished, route } from './fixtures.ts';

const home = route(undefined, '/', 'web');


/** What a worker sends the primary: its metrics through IPC's JSON serialisation. */
async function overIpc(metrics: WorkerMetrics): Promise<unknown[]> {
  return JSON.parse(JSON.stringify(await metrics.metricsJSON())) as unknown[];
}

test('two workers: counters and histograms summed, per-worker series kept apart', async () => {
  const one = new WorkerMetrics(1);
  const two = new WorkerMetrics(2);
  try {
    for (let i = 0; i < 3; i++) {
      one.requestStarted();
      one.requestFinished(finished(home, 200, { totalMs: 1 }));
    }
    two.requestStarted();
    two.requestFinished(finished(home, 200, { totalMs: 300 }));
    two.requestStarted();
    two.requestFinished(finished(home, 502, { totalMs: 2 }));
    one.connectionOpened();
    two.connectionOpened();
    two.connectionOpened();
    one.setUpstreamSnapshot(() => [
      { upstream: 'web', origin: 'http://a', healthy: true, pool: { connected: 2, free: 1, pending: 0, running: 1 } },
    ]);
    two.setUpstreamSnapshot(() => [
      { upstream: 'web', origin: 'http://a', healthy: false, pool: { connected: 3, free: 3, pending: 0, running: 0 } },
    ]);

    const { contentType, text } = await aggregateMetrics([await overIpc(one), await overIpc(two)], {
      workers: 2,
      configVersion: 7,
    });
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const line = (re: string): void => assert.match(text, new RegExp('^' + re + '$', 'm'));
    line('frontline_requests_total\\{route="\\*/",status="200"\\} 4');
    line('frontline_requests_total\\{route="\\*/",status="502"\\} 1');
    line('frontline_request_duration_seconds_bucket\\{route="\\*/",le="0.001"\\} 3');
    line('frontline_request_duration_seconds_bucket\\{route="\\*/",le="0.0025"\\} 4');
    line('frontline_request_duration_seconds_bucket\\{route="\\*/",le="\\+Inf"\\} 5');
    line('frontline_request_duration_seconds_count\\{route="\\*/"\\} 5');
    line('frontline_request_duration_seconds_sum\\{route="\\*/"\\} 0.305');
    line('frontline_worker_requests_total\\{worker="1"\\} 3');
    line('frontline_worker_requests_total\\{worker="2"\\} 2');
    line('frontline_worker_connections_open\\{worker="1"\\} 1');
    line('frontline_worker_connections_open\\{worker="2"\\} 2');
    line('frontline_upstream_pool_connections\\{upstream="web",origin="http://a",state="connected"\\} 5');
    // Healthy only where every worker sees it so.
    line('frontline_upstream_healthy\\{upstream="web",origin="http://a"\\} 0');
    assert.match(text, /^frontline_event_loop_blocked_seconds_count\{worker="1"\} \d+$/m);
    assert.match(text, /^frontline_event_loop_blocked_seconds_count\{worker="2"\} \d+$/m);
    line('frontline_workers 2');
    line('frontline_config_version 7');
    assert.equal(text.match(/^# TYPE frontline_requests_total counter$/gm)?.length, 1);
  } finally {
    one.close();
    two.close();
  }
});

test('no workers yet: an empty exposition, not an error', async () => {
  const { text } = await aggregateMetrics([]);
  assert.equal(text.trim(), '');
});
