// A task module is what a pool runs: its default export receives the init data once per thread
// (and once on the event loop when tasks may run inline) and returns the handler that answers
// tasks. Whatever the init function builds (a compiled rule set, say) lives as long as the thread.

export type TaskHandler<Input, Output> = (input: Input) => Output | Promise<Output>;

/** The default export of a task module. */
export type TaskInit<InitData, Input, Output> = (
  initData: InitData,
) => TaskHandler<Input, Output> | Promise<TaskHandler<Input, Output>>;

/**
 * The module `name` beside `base` (a module's import.meta.url), with base's own extension:
 * `.ts` when running from src/, `.js` from dist/ (scripts/build.ts), where a literal `./x.ts`
 * URL would name a file that is not there.
 */
export function siblingModule(base: string, name: string): URL {
  const extension = base.slice(base.lastIndexOf('.'));
  return new URL(`./${name}${extension}`, base);
}

/** Imports a task module and runs its init function: on a pool thread, or on the event loop. */
export async function loadTaskHandler<InitData, Input, Output>(
  moduleUrl: string,
  initData: InitData,
): Promise<TaskHandler<Input, Output>> {
  const module = (await import(moduleUrl)) as { default?: unknown };
  if (typeof module.default !== 'function') {
    throw new TypeError(`task module ${moduleUrl} has no default export function (initData) => handler`);
  }
  const init = module.default as TaskInit<InitData, Input, Output>;
  const handler = await init(initData);
  if (typeof handler !== 'function') {
    throw new TypeError(`the init function of task module ${moduleUrl} did not return a handler function`);
  }
  return handler;
}
