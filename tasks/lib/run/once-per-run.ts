import type { Ctx } from './types.ts';

/**
 * Something a run asks or does once, however many steps need it: the accessor it returns is its name and key (per
 * run, and per argument). Two kinds of answers, one rule each: what the shell reads (`read: true`) is the cluster
 * now, stale as soon as another command runs; what this keeps is the cluster as the run found it, never asked
 * again (e.g. who owns a namespace that a later step deletes). Use it only for that.
 */
export function oncePerRun<A extends unknown[], T>(ask: (ctx: Ctx, ...args: A) => Promise<T>) {
  const fact = (ctx: Ctx, ...args: A): Promise<T> => ctx.run.memo(fact, JSON.stringify(args), () => ask(ctx, ...args));
  return fact;
}
