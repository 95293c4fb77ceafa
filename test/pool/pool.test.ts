import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { threadId } from 'node:worker_threads';
import {
  PoolClosedError,
  PoolInitError,
  PoolOverloadedError,
  PoolTaskTimeoutError,
  PoolThreadCrashedError,
} from '../../src/pool/errors.ts';
import { Pool, type PoolOptions } from '../../src/pool/pool.ts';
import type { CrashInit, CrashInput } from '../fixtures/pool/crash.ts';
import type { HashInput, HashOutput } from '../fixtures/pool/hash.ts';
import type { WaitInput, WaitOutput } from '../fixtures/pool/wait.ts';

/** Each test ends within this even if the pool hangs, instead of holding up the run. */
const BOUNDED = { timeout: 10_000 };

const HASH = new URL('../fixtures/pool/hash.ts', import.meta.url);
const WAIT = new URL('../fixtures/pool/wait.ts', import.meta.url);
const CRASH = new URL('../fixtures/pool/crash.ts', import.meta.url);

function sha256(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    assert.ok(performance.now() < deadline, `not so after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Creates a pool, runs body with it, and closes it whatever happens. */
async function withPool<I, O, D>(
  options: Partial<PoolOptions<D>> & Pick<PoolOptions<D>, 'module' | 'initData'>,
  body: (pool: Pool<I, O>) => Promise<void>,
): Promise<void> {
  const pool = await Pool.create<I, O, D>({ name: 'test', threads: 1, queueLimit: 8, overflow: 'reject', ...options });
  try {
    await body(pool);
  } finally {
    await pool.close();
  }
}

test('tasks run on the threads and their results come back', BOUNDED, async () => {
  await withPool<HashInput, HashOutput, string>({ module: HASH, initData: 'salt', threads: 2, queueLimit: 32 }, async (pool) => {
    const texts = Array.from({ length: 20 }, (_, i) => `text ${i}`);
    const results = await Promise.all(texts.map((text) => pool.run({ text })));
    results.forEach((result, i) => {
      assert.deepEqual(result, { digest: sha256('salt', texts[i]), salt: 'salt', inThread: true });
    });
    const stats = pool.stats();
    assert.equal(stats.completed, 20);
    assert.equal(stats.threads, 2);
    assert.equal(stats.waitSeconds.count, 20);
    assert.equal(stats.runSeconds.count, 20);
  });
});

test('with 0 threads every task runs inline', BOUNDED, async () => {
  await withPool<HashInput, HashOutput, string>({ module: HASH, initData: 'salt', threads: 0 }, async (pool) => {
    assert.deepEqual(await pool.run({ text: 'a' }), { digest: sha256('salt', 'a'), salt: 'salt', inThread: false });
    assert.equal(pool.stats().completed, 1);
    assert.equal(pool.stats().fallbacks, 0);
    // Tasks of one turn of the event loop wait for its end, then run back to back, in order.
    const order: string[] = [];
    const tasks = ['b', 'c', 'd'].map((text) => pool.run({ text }).then((out) => {
      order.push(text);
      return out;
    }));
    assert.equal(pool.stats().running, 3);
    assert.equal(pool.stats().completed, 1);
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    assert.equal(pool.stats().completed, 1, 'not before the turn ends');
    const outputs = await Promise.all(tasks);
    assert.deepEqual(outputs.map((out) => out.digest), ['b', 'c', 'd'].map((text) => sha256('salt', text)));
    assert.deepEqual(order, ['b', 'c', 'd']);
    assert.equal(pool.stats().running, 0);
    assert.equal(pool.stats().completed, 4);
    assert.equal(pool.stats().waitSeconds.count, 4);
  });
});

test('a full queue sends the task inline under the fallback policy, and counts it', BOUNDED, async () => {
  await withPool<WaitInput, WaitOutput, string>(
    { module: WAIT, initData: 'v1', threads: 1, queueLimit: 1, overflow: 'fallback' },
    async (pool) => {
      const running = pool.run({ sleepMs: 200 });
      const queued = pool.run({});
      assert.equal(pool.stats().queued, 1);
      const overflow = await pool.run({});
      assert.deepEqual(overflow, { state: 'v1', inThread: false, threadId });
      assert.equal((await running).inThread, true);
      assert.equal((await queued).inThread, true);
      const stats = pool.stats();
      assert.equal(stats.fallbacks, 1);
      assert.equal(stats.completed, 3);
      assert.equal(stats.rejected, 0);
      // The queued task waited for the running one; the inline one only for the end of its turn of the event loop.
      assert.equal(stats.waitSeconds.count, 3);
      assert.ok(stats.waitSeconds.sum >= 0.15, `waited ${stats.waitSeconds.sum} s`);
    },
  );
});

test('a full queue refuses the task under the reject policy', BOUNDED, async () => {
  await withPool<WaitInput, WaitOutput, string>(
    { module: WAIT, initData: 'v1', threads: 1, queueLimit: 1, overflow: 'reject' },
    async (pool) => {
      const running = pool.run({ sleepMs: 100 });
      const queued = pool.run({});
      await assert.rejects(pool.run({}), PoolOverloadedError);
      assert.equal((await running).inThread, true);
      assert.equal((await queued).inThread, true);
      assert.equal(pool.stats().rejected, 1);
      assert.equal(pool.stats().fallbacks, 0);
    },
  );
});

test('a handler that throws rejects its task and the thread lives on', BOUNDED, async () => {
  await withPool<CrashInput, number, CrashInit>({ module: CRASH, initData: {} }, async (pool) => {
    const before = await pool.run('ok');
    await assert.rejects(pool.run('throw'), { name: 'RangeError', message: 'asked to throw' });
    assert.equal(await pool.run('ok'), before);
    assert.equal(pool.stats().crashed, 0);
  });
});

for (const [how, exitCode] of [
  ['exit', 7],
  ['uncaught', 1],
] as const) {
  test(`a thread that dies (${how}) is replaced; its task rejects, the queued one runs`, BOUNDED, async () => {
    await withPool<CrashInput, number, CrashInit>({ module: CRASH, initData: {} }, async (pool) => {
      const first = await pool.run('ok');
      const crashed = pool.run(how);
      const queued = pool.run('ok');
      await assert.rejects(crashed, (err) => err instanceof PoolThreadCrashedError && err.exitCode === exitCode);
      const replacement = await queued;
      assert.notEqual(replacement, first);
      assert.equal(await pool.run('ok'), replacement);
      assert.equal(pool.stats().crashed, 1);
      assert.equal(pool.stats().threads, 1);
    });
  });
}

test('a thread out of memory is replaced', BOUNDED, async () => {
  await withPool<CrashInput, number, CrashInit>(
    { module: CRASH, initData: {}, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } },
    async (pool) => {
      await assert.rejects(
        pool.run('oom'),
        (err) => err instanceof PoolThreadCrashedError && (err.cause as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY',
      );
      assert.equal(typeof (await pool.run('ok')), 'number');
    },
  );
});

test('a task past the timeout rejects and its thread is replaced', BOUNDED, async () => {
  await withPool<WaitInput, WaitOutput, string>({ module: WAIT, initData: 'v1', taskTimeoutMs: 150 }, async (pool) => {
    const quick = await pool.run({ sleepMs: 10 });
    const timedOut = async (): Promise<void> => {
      const start = performance.now();
      await assert.rejects(pool.run({ spinMs: 10_000 }), PoolTaskTimeoutError);
      const elapsed = performance.now() - start;
      assert.ok(elapsed > 100 && elapsed < 3000, `timed out after ${elapsed} ms`);
    };
    await timedOut();
    const after = await pool.run({});
    assert.notEqual(after.threadId, quick.threadId);
    // The deadline is re-armed for each task: one within it is not cut short, a later one is.
    assert.equal((await pool.run({ sleepMs: 100 })).threadId, after.threadId);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await pool.run({ sleepMs: 100 })).threadId, after.threadId);
    await timedOut();
    assert.equal(pool.stats().timedOut, 2);
    assert.equal(pool.stats().crashed, 0);
  });
});

test('reinit rolls the threads to new state without losing queued or running tasks', BOUNDED, async () => {
  await withPool<WaitInput, WaitOutput, string>({ module: WAIT, initData: 'v1', threads: 2, overflow: 'fallback' }, async (pool) => {
    const running = [pool.run({ sleepMs: 400 }), pool.run({ sleepMs: 400 })];
    const queued = [pool.run({}), pool.run({})];
    await pool.reinit('v2');
    const fresh = await Promise.all([pool.run({}), pool.run({}), pool.run({})]);
    for (const result of fresh) assert.deepEqual([result.state, result.inThread], ['v2', true]);
    // Started before the reinit: finished by the old threads.
    for (const result of await Promise.all(running)) assert.equal(result.state, 'v1');
    for (const result of await Promise.all(queued)) assert.equal(result.inThread, true);
    assert.equal(pool.stats().completed, 7);
    // The old threads leave once their tasks are done.
    await until(() => pool.stats().threads === 2);
  });
});

test('a reinit that does not initialise rejects and the old state stays in service', BOUNDED, async () => {
  await withPool<WaitInput, WaitOutput, string>({ module: WAIT, initData: 'v1', threads: 2, overflow: 'fallback' }, async (pool) => {
    const running = pool.run({ sleepMs: 100 });
    await assert.rejects(pool.reinit('broken'), PoolInitError);
    assert.equal((await running).state, 'v1');
    assert.equal((await pool.run({})).state, 'v1');
    // The new threads that did start are ended.
    await until(() => pool.stats().threads === 2);
  });
});

test('reinit of an inline pool rebuilds the inline handler', BOUNDED, async () => {
  await withPool<WaitInput, WaitOutput, string>({ module: WAIT, initData: 'v1', threads: 0 }, async (pool) => {
    await pool.reinit('v2');
    assert.equal((await pool.run({})).state, 'v2');
  });
});

test('a pool whose module does not initialise is not created', BOUNDED, async () => {
  // Under fallback the module is loaded inline too, and fails there first.
  for (const overflow of ['reject', 'fallback'] as const) {
    await assert.rejects(
      Pool.create({ name: 'broken', module: WAIT, initData: 'broken', threads: 1, queueLimit: 1, overflow }),
      PoolInitError,
    );
    await assert.rejects(
      Pool.create({ name: 'missing', module: new URL('./nope.ts', WAIT), initData: '', threads: 1, queueLimit: 1, overflow }),
      PoolInitError,
    );
  }
});

test('when a replacement thread cannot start, waiting and new tasks take the overflow path', BOUNDED, async () => {
  const starts = new Int32Array(new SharedArrayBuffer(4));
  // One start for the thread, one for the inline handler; the replacement is refused.
  await withPool<CrashInput, number, CrashInit>(
    { module: CRASH, initData: { starts, maxStarts: 2 }, overflow: 'fallback' },
    async (pool) => {
      const crashed = pool.run('exit');
      const queued = pool.run('ok');
      await assert.rejects(crashed, PoolThreadCrashedError);
      assert.equal(await queued, threadId);
      // Not queued for a thread that may never come: run inline at once.
      const next = pool.run('ok');
      assert.equal(pool.stats().queued, 0);
      assert.equal(await next, threadId);
      assert.equal(pool.stats().fallbacks, 2);
    },
  );
});

test('an ArrayBuffer in the transfer list is moved, not copied', BOUNDED, async () => {
  await withPool<HashInput, HashOutput, string>({ module: HASH, initData: 'salt' }, async (pool) => {
    const bytes = new Uint8Array(64 * 1024).map((_, i) => i * 7);
    const expected = sha256('salt', bytes);
    const buffer = bytes.buffer;
    const result = await pool.run({ bytes: buffer }, [buffer]);
    assert.equal(result.digest, expected);
    assert.equal(buffer.byteLength, 0, 'detached here');
  });
});

test('an input that cannot be cloned rejects its task; the pool goes on', BOUNDED, async () => {
  await withPool<HashInput, HashOutput, string>({ module: HASH, initData: 'salt' }, async (pool) => {
    const input = { text: 'x', callback: () => {} } as HashInput;
    await assert.rejects(pool.run(input), { name: 'DataCloneError' });
    assert.equal((await pool.run({ text: 'x' })).digest, sha256('salt', 'x'));
  });
});

test('close() lets queued and running tasks finish, then refuses new ones', BOUNDED, async () => {
  const pool = await Pool.create<WaitInput, WaitOutput, string>({
    name: 'test',
    module: WAIT,
    initData: 'v1',
    threads: 1,
    queueLimit: 4,
    overflow: 'reject',
  });
  const tasks = [pool.run({ sleepMs: 100 }), pool.run({ sleepMs: 10 }), pool.run({})];
  const closed = pool.close();
  await assert.rejects(pool.run({}), PoolClosedError);
  await closed;
  assert.equal((await Promise.all(tasks)).length, 3);
  const stats = pool.stats();
  assert.equal(stats.completed, 3);
  assert.equal(stats.threads, 0);
  assert.equal(stats.queued, 0);
});
