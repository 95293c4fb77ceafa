// What a worker process runs: the listeners, the request path and its plugins, for one
// configuration. The process layer (src/process/) starts it, asks it for counters and metrics,
// and stops it; it knows nothing else about the proxy.
export interface WorkerStats {
  workerId: number;
  pid: number;
  /** Connections accepted since the worker started. */
  connectionsAccepted: number;
  /** Connections open now. */
  connectionsOpen: number;
  /** Requests received since the worker started. */
  requests: number;
  /** Requests in flight now. */
  requestsActive: number;
}

export interface WorkerRuntime {
  stats(): WorkerStats;
  /** Opens the access log file again by its path (log rotation; nginx's USR1). */
  reopenLogs(): void;
  /** Prometheus metrics of this worker in prom-client's JSON form, for the primary to aggregate. */
  metrics(): Promise<unknown[]>;
  /**
   * Stops the worker. Graceful: stop accepting, let in-flight requests finish (up to
   * config.timeouts.gracefulStopMs), answer further keep-alive requests with `Connection: close`,
   * then close everything. Fast: close listeners and connections now.
   */
  shutdown(graceful: boolean): Promise<void>;
}
