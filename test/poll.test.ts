import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeSeen, observe, untilSettled } from '../tasks/lib/run/poll.ts';
import { progress } from '../tasks/lib/run/progress.ts';
import type { Ctx, TaskHandle } from '../tasks/lib/run/types.ts';
import { virtualClock } from './helpers.ts';

/** A context with just what the poll reads: the wait's length, the clock and the run's signal. */
function pollCtx(o: { waitTimeout?: string; signal?: AbortSignal; dryRun?: boolean } = {}) {
  const clock = virtualClock(0);
  const ctx = {
    config: { waitTimeout: o.waitTimeout ?? '10s' },
    options: { dryRun: o.dryRun ?? false },
    clock,
    signal: o.signal ?? new AbortController().signal,
    log: { write: (l: string) => logged.push(l) },
  } as unknown as Ctx;
  const logged: string[] = [];
  return { ctx, clock, logged };
}

/** An ask that answers 1, 2, 3, ... and counts its calls. */
function counter() {
  let n = 0;
  return { ask: async () => ++n, asked: () => n };
}

describe('untilSettled', () => {
  it('returns the first settled answer without waiting after it', async () => {
    const { ctx, clock } = pollCtx();
    const c = counter();
    assert.equal(await untilSettled(ctx, c.ask, (n) => n === 3), 3);
    assert.equal(c.asked(), 3, 'asked until settled, not once more');
    assert.deepEqual(clock.slept, [1000, 1000], 'one wait between asks, a second each by default');
  });

  it('gives up when WAIT_TIMEOUT has passed and returns the last answer for the caller to judge', async () => {
    const { ctx, clock } = pollCtx({ waitTimeout: '5s' });
    const c = counter();
    const last = await untilSettled(ctx, c.ask, () => false);
    // Asked at 0, 1, ..., 5 s (not yet past the deadline) and at 6 s (past it).
    assert.equal(last, 7);
    assert.equal(
      clock.slept.reduce((a, b) => a + b, 0),
      6000,
      'waited just past the deadline',
    );
  });

  it('asks once more at the deadline itself, and not after it has passed', async () => {
    const { ctx } = pollCtx();
    const c = counter();
    await untilSettled(ctx, c.ask, () => false, { deadline: 2000, everyMs: 1000 });
    assert.equal(c.asked(), 4, 'at 0, 1000, 2000 (the deadline: still in time) and 3000 (past it)');
  });

  it('an explicit deadline and interval win over WAIT_TIMEOUT and the default second', async () => {
    const { ctx, clock } = pollCtx({ waitTimeout: '1h' });
    await untilSettled(ctx, counter().ask, () => false, { deadline: 9000, everyMs: 3000 });
    assert.deepEqual(clock.slept, [3000, 3000, 3000, 3000]);
  });

  it('shows what it waits for from each unsettled answer, never the settled one; logs it when it changes', async () => {
    const { ctx, logged } = pollCtx();
    const task = { output: '' };
    const says = (n: number) => `waiting for 4 (${n < 3 ? 'low' : 'nearly'})`;
    await untilSettled(ctx, counter().ask, (n) => n === 4, { waiting: { task: task as TaskHandle, says } });
    assert.equal(task.output, 'waiting for 4 (nearly)', 'the last unsettled answer, not the settled one');
    assert.deepEqual(logged, ['# progress: waiting for 4 (low)', '# progress: waiting for 4 (nearly)']);
  });

  it('a progress of several lines is logged a line each, so every line reads as progress', async () => {
    const { ctx, logged } = pollCtx();
    const task = { output: '' };
    progress(ctx, task as TaskHandle, 'jason: black stars\nanonymous: counting');
    assert.equal(task.output, 'jason: black stars\nanonymous: counting');
    assert.deepEqual(logged, ['# progress: jason: black stars\n# progress: anonymous: counting']);
  });

  it('stops waiting when the run is cancelled (Ctrl-C), with an AbortError', async () => {
    const controller = new AbortController();
    const { ctx } = pollCtx({ signal: controller.signal });
    const ask = async () => {
      controller.abort();
      return 0;
    };
    await assert.rejects(
      untilSettled(ctx, ask, () => false),
      { name: 'AbortError' },
    );
  });
});

describe('observe and judgeSeen: what a step saw is judged, and a dry run saw nothing', () => {
  it('observe asks until the answer settles, then judges that answer', async () => {
    const { ctx } = pollCtx();
    const c = counter();
    const judged: number[] = [];
    await observe(
      ctx,
      c.ask,
      (n) => n === 3,
      (n) => void judged.push(n),
    );
    assert.deepEqual(judged, [3]);
  });

  it('observe judges the last answer when the wait ends unsettled, and the judge failing fails it', async () => {
    const { ctx } = pollCtx({ waitTimeout: '2s' });
    const c = counter();
    await assert.rejects(
      observe(
        ctx,
        c.ask,
        () => false,
        (n) => assert.fail(`saw ${n}`),
      ),
      /saw 4/,
    );
  });

  it('in a dry run observe asks once (the listing shows the question) and judges nothing', async () => {
    const { ctx, clock } = pollCtx({ dryRun: true });
    const c = counter();
    await observe(
      ctx,
      c.ask,
      () => false,
      () => assert.fail('a dry run judged'),
    );
    assert.equal(c.asked(), 1);
    assert.deepEqual(clock.slept, []);
  });

  it('judgeSeen returns the verdict for real, and nothing in a dry run', async () => {
    assert.equal(await judgeSeen(pollCtx().ctx, 2, (n) => n * 10), 20);
    assert.equal(await judgeSeen(pollCtx({ dryRun: true }).ctx, 2, () => assert.fail('a dry run judged')), undefined);
  });
});
