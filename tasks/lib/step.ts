import { StepError } from './errors.ts';
import type { Ctx, Task, TaskHandle } from './types.ts';

export interface StepDefinition {
  /** Returns why the step is already done (it then skips), or nothing to run it. */
  done?: (ctx: Ctx) => Promise<string | false | undefined>;
  run: (ctx: Ctx, task: TaskHandle) => Promise<void>;
  /** Whether the step applies at all (e.g. only with CLUSTER=minikube); a disabled step is not shown. */
  enabled?: (ctx: Ctx) => boolean;
}

/** One named task that does one thing and skips itself when already done. */
export function step(title: string, def: StepDefinition): Task {
  return {
    title,
    enabled: def.enabled,
    // Keep what a step found (versions, URLs, pod states) on screen after it finishes.
    rendererOptions: { persistentOutput: true, outputBar: 5 },
    task: async (ctx, task) => {
      ctx.sh.note(title);
      try {
        const done = await def.done?.(ctx);
        if (done) {
          ctx.sh.note(`skip: ${done}`);
          task.skip(done);
          return;
        }
        await def.run(ctx, task);
      } catch (e) {
        if (e instanceof StepError && !stepOf(e)) Object.assign(e, { step: task.title ?? title });
        throw e;
      }
    },
  };
}

/** A titled group of steps run one after another (or together when `concurrent`). */
export function group(title: string, steps: Task[], concurrent = false): Task {
  return {
    title,
    task: (ctx, task) => task.newListr(steps, { concurrent: concurrent && !ctx.options.dryRun, exitOnError: true }),
  };
}

export function stepOf(e: unknown): string | undefined {
  return (e as { step?: string }).step;
}
