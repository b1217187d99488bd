// What the steps of one run share: which are working now, and which step's failure is cancelling the others.
// A failing step waits until its siblings have stopped before it fails the run, so the task tree is final
// (siblings shown as cancelled, not failed) before the error line is printed under it.
export class RunState {
  private readonly working = new Set<Promise<unknown>>();
  private readonly controller: AbortController;
  /** The title of the step whose failure cancels the rest; unset for Ctrl-C. */
  cancelledBy: string | undefined;

  constructor(controller: AbortController) {
    this.controller = controller;
  }

  private readonly answers = new Map<object, Map<string, Promise<unknown>>>();

  /** The answer of `fact` for `args` in this run, asked the first time (see once-per-run.ts). */
  memo<T>(fact: object, args: string, ask: () => Promise<T>): Promise<T> {
    const byArgs = this.answers.get(fact) ?? new Map<string, Promise<unknown>>();
    this.answers.set(fact, byArgs);
    if (!byArgs.has(args)) byArgs.set(args, ask());
    return byArgs.get(args) as Promise<T>;
  }

  private readonly background = new Map<object, Promise<unknown>>();

  /** Work one step starts and a later step finishes, by its handle (see background.ts). */
  startInBackground<T>(handle: object, work: Promise<T>): void {
    work.catch(() => {}); // judged by the step that finishes it
    this.background.set(handle, work);
  }

  /** The background work of that handle, if a step started it. */
  inBackground<T>(handle: object): Promise<T> | undefined {
    return this.background.get(handle) as Promise<T> | undefined;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.working.add(work);
    const forget = () => this.working.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** `step` failed: cancel the others (unless the run is already stopping) and wait until they have stopped. */
  async fail(step: string, own: Promise<unknown>): Promise<void> {
    if (!this.controller.signal.aborted) {
      this.cancelledBy = step;
      this.controller.abort();
    }
    // Background work was stopped by the same signal: wait for it too, so the log ends after it does.
    await Promise.allSettled([...this.working, ...this.background.values()].filter((w) => w !== own));
  }
}
