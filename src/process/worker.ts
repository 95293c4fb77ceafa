// A worker process (the cluster worker's entry): receives its id and configuration from the
// primary, runs the proxy, answers the primary's questions, and exits when told to stop or when
// something goes wrong that it cannot recover from (the primary starts a replacement).
import cluster from 'node:cluster';
import type { Config } from '../config/types.ts';
import { createLogger, type Logger } from '../observability/log.ts';
import type { WorkerRuntime } from '../proxy/runtime.ts';
import { startWorkerRuntime } from '../proxy/server.ts';
import { isToWorker, type FromWorker, type ToWorker } from './protocol.ts';

/** The longest a last exchange with the primary may take before the worker exits anyway. */
const LAST_WORDS_MS = 1_000;

let log: Logger = createLogger('info', { role: 'worker' });
let runtime: WorkerRuntime | undefined;
let stopping = false;
let dying = false;

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Exits once the primary has `last`, or after LAST_WORDS_MS if the IPC hangs. */
function exit(code: number, last: FromWorker): void {
  setTimeout(() => process.exit(code), LAST_WORDS_MS);
  void send(last).then(() => process.exit(code));
}

process.on('uncaughtException', (err, origin) => {
  if (dying) return;
  dying = true;
  log.fatal({ err, origin }, `uncaught exception; exiting so that the primary starts a new worker: ${err.message}`);
  exit(1, { type: 'fatal', message: `${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}: ${err.message}` });
});

// The primary decides when workers stop and reload: a Ctrl-C or a hangup reaches the whole
// process group, and must not take the workers down behind its back (nor a USR2 meant for the
// primary, whose default action would end a worker).
for (const signal of ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) process.on(signal, () => {});

process.on('message', (m: unknown) => {
  if (isToWorker(m)) void handle(m);
});

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'start':
      return start(m.workerId, m.config);
    case 'stats':
      return send(runtime ? { type: 'stats', requestId: m.requestId, stats: runtime.stats() } : notStarted(m.requestId));
    case 'metrics': {
      if (!runtime) return send(notStarted(m.requestId));
      let reply: FromWorker;
      try {
        reply = { type: 'metrics', requestId: m.requestId, metrics: await runtime.metrics() };
      } catch (err) {
        reply = { type: 'request-failed', requestId: m.requestId, message: (err as Error).message };
      }
      return send(reply);
    }
    case 'shutdown':
      return shutdown(m.graceful);
    case 'reopen-logs':
      return runtime?.reopenLogs();
  }
}

function notStarted(requestId: number): FromWorker {
  return { type: 'request-failed', requestId, message: 'the worker has not started yet' };
}

async function start(workerId: number, config: Config): Promise<void> {
  log = createLogger(config.logging.level, { role: 'worker', worker: workerId });
  try {
    runtime = await startWorkerRuntime(config, workerId);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error({ err }, `cannot start: ${message}`);
    return exit(1, { type: 'startup-error', message });
  }
  await send({ type: 'ready' });
}

async function shutdown(graceful: boolean): Promise<void> {
  if (stopping) {
    // A fast stop after a graceful one: exiting closes every connection at once.
    if (!graceful) process.exit(0);
    return;
  }
  stopping = true;
  if (!runtime) process.exit(0);
  let code = 0;
  try {
    await runtime.shutdown(graceful);
  } catch (err) {
    log.error({ err }, 'error while stopping');
    code = 1;
  }
  try {
    await send({ type: 'final-metrics', metrics: await runtime.metrics() });
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not hand the final metrics to the primary');
  }
  // With round-robin, the primary may have handed us connections after our listeners closed;
  // cluster sends them back, but only if we are still here to read them. A worker-initiated
  // disconnect is acknowledged after the primary's last hand-off, so leave after it.
  setTimeout(() => process.exit(code), LAST_WORDS_MS);
  cluster.worker?.once('disconnect', () => process.exit(code));
  cluster.worker?.disconnect();
}

await send({ type: 'booted' });
