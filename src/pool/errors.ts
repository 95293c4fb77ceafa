// The ways a pool task can fail other than by its handler throwing: each its own class, so a
// caller (the WAF deciding to fail open or closed, say) can tell overload from a broken thread.

/** The queue was full and the pool's overflow policy is `reject`. */
export class PoolOverloadedError extends Error {
  readonly pool: string;
  constructor(pool: string, queueLimit: number) {
    super(`pool ${pool}: all threads busy and ${queueLimit} tasks queued`);
    this.name = 'PoolOverloadedError';
    this.pool = pool;
  }
}

/** The thread running the task died: an uncaught exception, process.exit() or out of memory. */
export class PoolThreadCrashedError extends Error {
  readonly pool: string;
  readonly exitCode: number;
  constructor(pool: string, exitCode: number, cause: unknown) {
    super(`pool ${pool}: the thread running the task died (exit code ${exitCode})`, { cause });
    this.name = 'PoolThreadCrashedError';
    this.pool = pool;
    this.exitCode = exitCode;
  }
}

/** The task ran longer than the pool's task timeout; its thread was terminated and replaced. */
export class PoolTaskTimeoutError extends Error {
  readonly pool: string;
  readonly timeoutMs: number;
  constructor(pool: string, timeoutMs: number) {
    super(`pool ${pool}: task did not finish within ${timeoutMs} ms`);
    this.name = 'PoolTaskTimeoutError';
    this.pool = pool;
    this.timeoutMs = timeoutMs;
  }
}

/** The task module failed to load or its init function threw (at start or on reinit). */
export class PoolInitError extends Error {
  readonly pool: string;
  constructor(pool: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`pool ${pool}: the task module did not initialise: ${reason}`, { cause });
    this.name = 'PoolInitError';
    this.pool = pool;
  }
}

/** run() after close(). */
export class PoolClosedError extends Error {
  readonly pool: string;
  constructor(pool: string) {
    super(`pool ${pool} is closed`);
    this.name = 'PoolClosedError';
    this.pool = pool;
  }
}
