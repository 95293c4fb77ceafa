import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Pool } from '../../src/pool/pool.ts';
import { withSpooledBody } from '../../src/pool/spool.ts';
import type { HashInput, HashOutput } from '../fixtures/pool/hash.ts';

/** Each test ends within this even if the pool hangs, instead of holding up the run. */
const BOUNDED = { timeout: 10_000 };

const dir = mkdtempSync(join(tmpdir(), 'frontline-spool-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a spooled body reaches the thread as a path and is removed once the task settles', BOUNDED, async () => {
  const pool = await Pool.create<HashInput, HashOutput, string>({
    name: 'spool',
    module: new URL('../fixtures/pool/hash.ts', import.meta.url),
    initData: 'salt',
    threads: 1,
    queueLimit: 1,
    overflow: 'reject',
  });
  try {
    const chunks = [new Uint8Array(100_000).fill(1), new Uint8Array(50_000).fill(2)];
    let spooled = '';
    const result = await withSpooledBody(
      (async function* () {
        yield* chunks;
      })(),
      (path) => {
        spooled = path;
        assert.equal(statSync(path).mode & 0o777, 0o600);
        return pool.run({ path });
      },
      dir,
    );
    assert.equal(result.digest, createHash('sha256').update('salt').update(chunks[0]).update(chunks[1]).digest('hex'));
    assert.ok(spooled.startsWith(dir));
    assert.equal(existsSync(spooled), false);

    // Removed when the task fails too.
    await assert.rejects(
      withSpooledBody(new Uint8Array(10), (path) => pool.run({ path: join(path, 'not-a-directory') }), dir),
      /ENOTDIR/,
    );
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await pool.close();
  }
});
