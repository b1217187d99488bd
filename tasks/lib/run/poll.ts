// Asking again until an answer settles: for what only shows a moment after the change that causes it (a route
// pushed to the proxies, a metric scraped), where there is no event to wait on.
import { durationSeconds } from '../../config.ts';
import { progress } from './progress.ts';
import type { Ctx, TaskHandle } from './types.ts';

export interface Poll<T> {
  /** When to give up (by default WAIT_TIMEOUT from now): the last answer is returned for the caller to judge. */
  deadline?: number;
  everyMs?: number;
  /** What is awaited, said from each unsettled answer before waiting: shown as the step's progress, and logged. */
  waiting?: { task: TaskHandle; says: (answer: T) => string };
}

/** Asks until `settled` holds or the deadline passes; returns the last answer. */
export async function untilSettled<T>(
  ctx: Ctx,
  ask: () => Promise<T>,
  settled: (answer: T) => boolean,
  o: Poll<T> = {},
): Promise<T> {
  const deadline = o.deadline ?? ctx.clock.now() + durationSeconds(ctx.config.waitTimeout) * 1000;
  for (;;) {
    const answer = await ask();
    if (settled(answer) || ctx.clock.now() > deadline) return answer;
    if (o.waiting) progress(ctx, o.waiting.task, o.waiting.says(answer));
    await ctx.clock.sleep(o.everyMs ?? 1000, ctx.signal);
  }
}

/**
 * Judges what a step saw. A dry run saw nothing (no client ran, no request was sent, nothing was deployed), so it
 * judges nothing: the judge itself never asks whether this is a dry run.
 */
export async function judgeSeen<T, R>(ctx: Ctx, seen: T, judge: (seen: T) => R | Promise<R>): Promise<R | undefined> {
  return ctx.options.dryRun ? undefined : await judge(seen);
}

/**
 * Looks at what users would see: asks until the answer settles (or the wait ends), then judges the last answer. A
 * dry run asks once, so its listing shows the question, and judges nothing.
 */
export async function observe<T>(
  ctx: Ctx,
  ask: () => Promise<T>,
  settled: (answer: T) => boolean,
  judge: (answer: T) => void | Promise<void>,
  o: Poll<T> = {},
): Promise<void> {
  const answer = await untilSettled(ctx, ask, (a) => ctx.options.dryRun || settled(a), o);
  await judgeSeen(ctx, answer, judge);
}
