import type { Ctx } from './types.ts';

/**
 * Work one step starts and a later step finishes (images pulled ahead): the handle this returns is its key, as
 * `oncePerRun`'s accessor is. Its commands run under the run's signal, so a failure elsewhere or Ctrl-C stops them
 * with the run, and a failing run waits for them before it ends.
 */
export function backgroundWork<T>() {
  const handle = {
    start: (ctx: Ctx, work: Promise<T>): void => ctx.run.startInBackground(handle, work),
    /** The work, if a step of this run started it. */
    started: (ctx: Ctx): Promise<T> | undefined => ctx.run.inBackground<T>(handle),
  };
  return handle;
}
