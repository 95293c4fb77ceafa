// A pool thread: loads the task module once with its init data, says it is ready, then answers
// one task at a time. Failing to load ends the thread with the error, which the pool reports.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { REPLY_ERROR, REPLY_READY, REPLY_RESULT, type ThreadData, type ThreadReply } from './protocol.ts';
import { loadTaskHandler } from './task-module.ts';

if (parentPort === null) throw new Error('src/pool/thread.ts runs only as a pool thread');
const port: MessagePort = parentPort;
const { moduleUrl, initData } = workerData as ThreadData;
const handler = await loadTaskHandler<unknown, unknown, unknown>(moduleUrl, initData);

// postMessage clones synchronously, so one reply array serves every message.
const reply: ThreadReply = [REPLY_READY, undefined];

function send(kind: ThreadReply[0], value: unknown): void {
  reply[0] = kind;
  reply[1] = value;
  try {
    port.postMessage(reply);
  } catch (err) {
    // The result could not be cloned (a function, say): the task fails, the thread lives on.
    reply[0] = REPLY_ERROR;
    reply[1] = err;
    port.postMessage(reply);
  }
  reply[1] = undefined;
}

const resolved = (value: unknown): void => send(REPLY_RESULT, value);
const rejected = (err: unknown): void => send(REPLY_ERROR, err);

port.on('message', (input: unknown) => {
  let output: unknown;
  try {
    output = handler(input);
  } catch (err) {
    rejected(err);
    return;
  }
  // Synchronous handlers answer without a trip through the microtask queue.
  if (output instanceof Promise) output.then(resolved, rejected);
  else resolved(output);
});

send(REPLY_READY, undefined);
