// What a pool counts, kept as plain numbers the pool bumps directly; read as a snapshot by
// whatever exports metrics (src/observability/pool-metrics.ts for Prometheus).

/** Seconds, from a hand-off to a thread (tens of µs) to a task worth timing out. */
export const POOL_DURATION_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export class DurationHistogram {
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative; those above the last bound only in count. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[] = POOL_DURATION_BUCKETS) {
    this.bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}

export interface PoolStats {
  readonly pool: string;
  /** Live threads, starting ones and those finishing their last task after a reinit included. */
  readonly threads: number;
  /** Tasks waiting for a thread. */
  readonly queued: number;
  /** Tasks on a thread or running inline (an async handler) now. */
  readonly running: number;
  /** Tasks whose handler returned or threw, on a thread or inline. */
  readonly completed: number;
  /** Tasks run inline on the event loop because the queue was full (policy `fallback`). */
  readonly fallbacks: number;
  /** Tasks refused with PoolOverloadedError because the queue was full (policy `reject`). */
  readonly rejected: number;
  /** Threads that died under a task (the task rejected with PoolThreadCrashedError). */
  readonly crashed: number;
  /** Tasks that ran past the timeout (their thread terminated and replaced). */
  readonly timedOut: number;
  /** From run() until a thread took the task; tasks that ran inline are not observed. */
  readonly waitSeconds: DurationHistogram;
  /** From hand-off until the answer was back (thread), or the handler's own time (inline). */
  readonly runSeconds: DurationHistogram;
}
