// Messages between a pool and its threads. To a thread: the task input itself, nothing around it
// (a thread runs one task at a time, so no id is needed). From a thread: [kind, value].

export const REPLY_RESULT = 0;
export const REPLY_ERROR = 1;
export const REPLY_READY = 2;

export type ThreadReply = [kind: typeof REPLY_RESULT | typeof REPLY_ERROR | typeof REPLY_READY, value: unknown];

/** What a thread is started with (its workerData). */
export interface ThreadData {
  moduleUrl: string;
  initData: unknown;
}
