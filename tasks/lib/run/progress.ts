import type { Ctx, TaskHandle } from './types.ts';

/**
 * Shows `text` as a step's progress and logs it when it changes, so the log says what a long step was doing
 * (waiting for a route to reach the proxies, counting pages).
 */
export function progress(ctx: Ctx, task: TaskHandle, text: string): void {
  if (text !== task.output) ctx.log.write(text.replace(/^/gm, '# progress: '));
  task.output = text;
}
