// frontline's request path in one process, without a primary: what one worker runs, started from
// a configuration file. For profilers that follow one process (valgrind --tool=callgrind, perf):
//
//   node bench/proxy/single-worker.ts CONFIG.yaml
//
// It prints "ready" on stdout once every listener listens, stops on TERM/INT, and collects its
// garbage on USR2 when started with --expose-gc.
import { loadConfigFile } from '../../src/config/load.ts';
import { startWorkerRuntime } from '../../src/proxy/server.ts';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/proxy/single-worker.ts CONFIG.yaml');
  process.exit(2);
}
const runtime = await startWorkerRuntime(loadConfigFile(file), 0);
console.log('ready');
const stop = () => void runtime.shutdown(false).then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// A measuring harness asks for a full garbage collection before a window (node --expose-gc).
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
