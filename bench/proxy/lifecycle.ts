// How a benchmark script runs: its main, then everything it started is stopped and its temp dir
// removed (or kept, with --keep) — also on exit and on SIGINT/SIGTERM/SIGHUP, so an interrupted
// run leaves no process behind.
import { rmSync } from 'node:fs';
import { killAllNow, stopAll } from './procs.ts';
import { killWrk } from './wrk.ts';

export interface BenchRun {
  /** The temp dir to remove at the end ('' until made). */
  tempDir: string;
  keepTempDir: boolean;
  /** Set once cleanup began: loops stop starting new work. */
  readonly stopping: boolean;
}

export function runBenchmark(name: string, main: (run: BenchRun) => Promise<void>): void {
  let cleaning: Promise<void> | undefined;
  const run: BenchRun = {
    tempDir: '',
    keepTempDir: false,
    get stopping() {
      return cleaning !== undefined;
    },
  };
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      killWrk();
      await stopAll();
      if (run.tempDir && !run.keepTempDir) rmSync(run.tempDir, { recursive: true, force: true });
      else if (run.tempDir) console.error(`temp dir kept: ${run.tempDir}`);
    })());
  process.on('exit', () => {
    killWrk();
    killAllNow();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping everything started`);
      void cleanup().then(() => process.exit(130));
    });
  }
  main(run)
    .catch((e: Error) => {
      console.error(`${name}: ${e.message}`);
      process.exitCode = 1;
    })
    .finally(() => cleanup());
}
