import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerMetrics } from '../../src/observability/metrics.ts';
import { registerPoolMetrics } from '../../src/observability/pool-metrics.ts';
import { Pool } from '../../src/pool/pool.ts';
import type { WaitInput, WaitOutput } from '../fixtures/pool/wait.ts';

/** Each test ends within this even if the pool hangs, instead of holding up the run. */
const BOUNDED = { timeout: 10_000 };

test("a pool's metrics appear on the worker's registry, labelled with the pool's name", BOUNDED, async () => {
  const metrics = new WorkerMetrics(1);
  const pool = await Pool.create<WaitInput, WaitOutput, string>({
    name: 'waf',
    module: new URL('../fixtures/pool/wait.ts', import.meta.url),
    initData: 'v1',
    threads: 1,
    queueLimit: 1,
    overflow: 'fallback',
  });
  const unregister = registerPoolMetrics(metrics.registry, pool);
  // A second pool on the same registry shares the families.
  const other = await Pool.create<WaitInput, WaitOutput, string>({
    name: 'images',
    module: new URL('../fixtures/pool/wait.ts', import.meta.url),
    initData: 'v1',
    threads: 0,
    queueLimit: 0,
    overflow: 'fallback',
  });
  registerPoolMetrics(metrics.registry, other);
  try {
    const tasks = [pool.run({ sleepMs: 300 }), pool.run({}), pool.run({}), other.run({})];
    let text = await metrics.registry.metrics();
    assert.match(text, /^frontline_pool_queue_depth\{pool="waf"\} 1$/m);
    // The thread's task, and the fallback waiting for the end of this turn of the event loop.
    assert.match(text, /^frontline_pool_running\{pool="waf"\} 2$/m);
    assert.match(text, /^frontline_pool_threads\{pool="waf"\} 1$/m);
    await Promise.all(tasks);

    text = await metrics.registry.metrics();
    assert.match(text, /^frontline_pool_tasks_completed_total\{pool="waf"\} 3$/m);
    assert.match(text, /^frontline_pool_tasks_completed_total\{pool="images"\} 1$/m);
    assert.match(text, /^frontline_pool_fallbacks_total\{pool="waf"\} 1$/m);
    assert.match(text, /^frontline_pool_fallbacks_total\{pool="images"\} 0$/m);
    assert.match(text, /^frontline_pool_rejected_total\{pool="waf"\} 0$/m);
    assert.match(text, /^frontline_pool_crashes_total\{pool="waf"\} 0$/m);
    assert.match(text, /^frontline_pool_timeouts_total\{pool="waf"\} 0$/m);
    assert.match(text, /^frontline_pool_queue_depth\{pool="waf"\} 0$/m);
    assert.match(text, /^frontline_pool_wait_seconds_count\{pool="waf"\} 3$/m);
    assert.match(text, /^frontline_pool_wait_seconds_bucket\{pool="waf",le="\+Inf"\} 3$/m);
    assert.match(text, /^frontline_pool_run_seconds_count\{pool="waf"\} 3$/m);
    // The task that slept 300 ms is above the 250 ms bound, the two others below.
    assert.match(text, /^frontline_pool_run_seconds_bucket\{pool="waf",le="0.25"\} 2$/m);
    assert.match(text, /^frontline_pool_run_seconds_bucket\{pool="waf",le="2.5"\} 3$/m);

    unregister();
    text = await metrics.registry.metrics();
    assert.doesNotMatch(text, /pool="waf"/);
    assert.match(text, /pool="images"/);
  } finally {
    metrics.close();
    await Promise.all([pool.close(), other.close()]);
  }
});
