// Which code a worker process runs: dist/ (types stripped ahead of time, see scripts/build.ts)
// when it is at least as new as every source file, else src/ itself. A stale dist/ must never
// run: an edited source would silently not take effect.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SRC = join(ROOT, 'src');
export const DIST = join(ROOT, 'dist');
export const BUILD_STAMP = join(DIST, '.build-stamp');

/** The newest modification time (ms) among the source files, data files included. */
export function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(SRC);
  return newest;
}

/** The worker entry module, and why src/ is used when it is. */
export function workerEntry(): { path: string; fromSource?: string } {
  const source = join(SRC, 'process', 'worker.ts');
  if (!existsSync(BUILD_STAMP)) return { path: source, fromSource: 'dist/ is not built (npm run build)' };
  const built = Number(readFileSync(BUILD_STAMP, 'utf8'));
  if (!(built >= newestSource())) return { path: source, fromSource: 'dist/ is older than the sources (npm run build)' };
  return { path: join(DIST, 'process', 'worker.js') };
}
