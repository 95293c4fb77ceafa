// A large body is cheaper to hand to a thread as a file path than as a structured clone (which
// copies it once more and holds both copies on the heap). The caller decides what is large.
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type SpoolBody = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Writes the body to a new temp file (readable by this user only), calls `use` with its path
 * (typically to run a pool task that reads it), and removes the file once that has settled,
 * whether it resolved or rejected.
 */
export async function withSpooledBody<T>(body: SpoolBody, use: (path: string) => Promise<T>, dir: string = tmpdir()): Promise<T> {
  const path = join(dir, `frontline-spool-${randomUUID()}`);
  try {
    await writeFile(path, body, { flag: 'wx', mode: 0o600 });
    return await use(path);
  } finally {
    await rm(path, { force: true });
  }
}
