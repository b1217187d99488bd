import { AsyncLocalStorage } from 'node:async_hooks';
import { isAbortError, StepError } from '../base/errors.ts';
import type { Ctx, Task, TaskHandle } from './types.ts';

export interface StepDefinition {
  /** Returns why the step is already done (it then skips), or nothing to run it. */
  done?: (ctx: Ctx) => Promise<string | false | undefined>;
  /**
   * Returns why the step must not make its change (what it would change is someone else's): asked when it is not
   * done, before it runs; the run stops there with that reason. The tool's ownership policy, in one place per step.
   */
  refuse?: (ctx: Ctx) => Promise<string | false | undefined>;
  run: (ctx: Ctx, task: TaskHandle) => Promise<void>;
  /** Whether the step applies at all (e.g. only with CLUSTER=minikube); a disabled step is not shown. */
  enabled?: (ctx: Ctx) => boolean;
}

/** The title of the step whose work is running now (what a command in the log belongs to). */
const running = new AsyncLocalStorage<string>();
export const currentStep = (): string | undefined => running.getStore();

/**
 * One named task that does one thing and says so when it was already done (it then changes nothing). When a
 * sibling fails it stops and shows as cancelled, not failed; a failing step waits for its siblings to stop first.
 */
export function step(title: string, def: StepDefinition): Task {
  return {
    title,
    // listr2 asks again just before the step starts: after a failure, the steps not yet started are not drawn.
    enabled: (ctx) => !ctx.run.cancelledBy && (def.enabled?.(ctx) ?? true),
    // Keep what a step found (versions, URLs, pod states) on screen after it finishes.
    rendererOptions: { persistentOutput: true, outputBar: 5 },
    task: async (ctx, task) => {
      const cancel = (by: string) => {
        ctx.sh.note(`cancelled: ${by} failed`);
        task.skip(`cancelled: ${by} failed`);
      };
      // A failure between listr2's last look and now: stay unstarted (drawn dim, without a message).
      if (ctx.run.cancelledBy) return task.skip();
      ctx.sh.note(title);
      const work = ctx.run.track(running.run(title, () => perform(ctx, task, def)));
      try {
        await work;
        // What the step left on screen goes in the log too.
        const shown = typeof task.output === 'string' ? task.output.trim() : '';
        if (shown) ctx.log.write(shown.replace(/^/gm, '# shown: '));
      } catch (e) {
        const by = ctx.run.cancelledBy;
        if (by && isAbortError(e)) return cancel(by);
        if (e instanceof StepError && !stepOf(e)) Object.assign(e, { step: task.title ?? title });
        await ctx.run.fail(task.title ?? title, work);
        throw e;
      }
    },
  };
}

async function perform(ctx: Ctx, task: TaskHandle, def: StepDefinition): Promise<void> {
  const done = await def.done?.(ctx);
  if (!done) {
    const refused = await def.refuse?.(ctx);
    if (refused) throw new StepError(refused);
    return def.run(ctx, task);
  }
  ctx.sh.note(`skip: ${done}`);
  // Done before reads as done, not as a warning.
  task.title = `${task.title} (already done: ${done})`;
}

/** What a group may say before its steps run: why all of them are done (then one line says so, not each step). */
interface GroupOptions {
  done?: StepDefinition['done'];
}

/** A titled group of steps run one after another. */
export const group = (title: string, steps: Task[], o: GroupOptions = {}): Task => stepGroup(title, steps, false, o);

/** A titled group of steps run together (a dry run lists them in turn). */
export const together = (title: string, steps: Task[]): Task => stepGroup(title, steps, true, {});

/**
 * A group is done only when its steps are: one whose step failed is failed (✖), one whose steps another failure
 * cancelled is cancelled, never drawn as done.
 */
function stepGroup(title: string, steps: Task[], concurrent: boolean, o: GroupOptions): Task {
  return {
    title,
    enabled: (ctx) => !ctx.run.cancelledBy,
    task: async (ctx, task) => {
      const done = await o.done?.(ctx);
      if (done) {
        ctx.sh.note(`skip: ${done}`);
        task.title = `${task.title} (already done: ${done})`;
        return;
      }
      if (concurrent && ctx.options.dryRun) ctx.sh.note(`run together, listed in turn: ${steps.map((s) => s.title).join('; ')}`);
      await task.newListr(steps, { concurrent: concurrent && !ctx.options.dryRun, exitOnError: true }).run(ctx);
      if (ctx.run.cancelledBy) task.skip(`cancelled: ${ctx.run.cancelledBy} failed`);
    },
  };
}

export function stepOf(e: unknown): string | undefined {
  return (e as { step?: string }).step;
}
