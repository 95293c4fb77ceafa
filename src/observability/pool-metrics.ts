// Prometheus series of thread pools (src/pool/), labelled `pool`: read from each pool's stats at
// collection time, so running a task costs the pool nothing beyond its own counters.
import type { Registry } from 'prom-client';
import type { PoolStats } from '../pool/stats.ts';
import { pushHistogramValues, register, type MetricJSON, type MetricValue } from './metrics.ts';

/** A pool, as far as its metrics go. */
export interface PoolStatsSource {
  stats(): PoolStats;
}

type Reading = (stats: PoolStats) => number;

const VALUES: ReadonlyArray<readonly [name: string, type: 'counter' | 'gauge', help: string, read: Reading]> = [
  ['frontline_pool_threads', 'gauge', 'Live threads of a pool (starting and retiring ones included).', (s) => s.threads],
  ['frontline_pool_queue_depth', 'gauge', 'Tasks waiting for a thread of a pool.', (s) => s.queued],
  ['frontline_pool_running', 'gauge', 'Tasks running on a thread of a pool, or inline.', (s) => s.running],
  ['frontline_pool_tasks_completed_total', 'counter', 'Tasks whose handler returned or threw, on a thread or inline.', (s) => s.completed],
  ['frontline_pool_fallbacks_total', 'counter', 'Tasks run inline on the event loop because the queue was full.', (s) => s.fallbacks],
  ['frontline_pool_rejected_total', 'counter', 'Tasks refused because the queue was full (overflow policy reject).', (s) => s.rejected],
  ['frontline_pool_crashes_total', 'counter', 'Threads that died under a task (exception, exit, out of memory).', (s) => s.crashed],
  ['frontline_pool_timeouts_total', 'counter', 'Tasks that ran past the task timeout (their thread replaced).', (s) => s.timedOut],
];

const HISTOGRAMS: ReadonlyArray<readonly [name: string, help: string, key: 'waitSeconds' | 'runSeconds']> = [
  ['frontline_pool_wait_seconds', 'Time a task waited for a thread of a pool.', 'waitSeconds'],
  ['frontline_pool_run_seconds', 'Time a task ran: on a thread from hand-off to answer, or inline.', 'runSeconds'],
];

const poolsByRegistry = new WeakMap<Registry, Set<PoolStatsSource>>();

/** Exposes a pool's metrics on a registry (WorkerMetrics.registry); returns how to stop. */
export function registerPoolMetrics(registry: Registry, pool: PoolStatsSource): () => void {
  let pools = poolsByRegistry.get(registry);
  if (pools === undefined) {
    pools = new Set();
    poolsByRegistry.set(registry, pools);
    registerFamilies(registry, pools);
  }
  pools.add(pool);
  const registered = pools;
  return () => {
    registered.delete(pool);
  };
}

function registerFamilies(registry: Registry, pools: ReadonlySet<PoolStatsSource>): void {
  for (const [name, type, help, read] of VALUES) {
    register(registry, {
      name,
      async get(): Promise<MetricJSON> {
        const values: MetricValue[] = [];
        for (const pool of pools) {
          const stats = pool.stats();
          values.push({ labels: { pool: stats.pool }, value: read(stats) });
        }
        return { name, help, type, aggregator: 'sum', values };
      },
    });
  }
  for (const [name, help, key] of HISTOGRAMS) {
    register(registry, {
      name,
      async get(): Promise<MetricJSON> {
        const values: MetricValue[] = [];
        for (const pool of pools) {
          const stats = pool.stats();
          pushHistogramValues(values, name, { pool: stats.pool }, stats[key]);
        }
        return { name, help, type: 'histogram', aggregator: 'sum', values };
      },
    });
  }
}
