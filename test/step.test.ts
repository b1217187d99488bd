// One step's contract: skipped when done, refused (with the reason, nothing run) when what it would change is
// someone else's, run otherwise; `refuse` is asked only for a step that is not done, and before it runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oncePerRun } from '../tasks/lib/run/once-per-run.ts';
import { RunState } from '../tasks/lib/run/run-state.ts';
import { step } from '../tasks/lib/run/step.ts';
import type { Ctx, TaskCommand } from '../tasks/lib/run/types.ts';
import { fakeRunner, runCommands } from './helpers.ts';

/** Runs one step built from `world` (what done and refuse answer); returns what was asked, in order. */
async function runStep(world: { done: string | false; refuse: string | false }) {
  const asked: string[] = [];
  const command: TaskCommand = {
    kind: 'tasks',
    name: 'one',
    summary: 'one step',
    tasks: () => [
      step('Change a thing', {
        done: async () => {
          asked.push('done');
          return world.done;
        },
        refuse: async () => {
          asked.push('refuse');
          return world.refuse;
        },
        run: async () => void asked.push('run'),
      }),
    ],
  };
  const { code, err, log } = await runCommands([command], ['one'], { runner: fakeRunner().runner });
  return { code, err, log, asked };
}

describe('a step', () => {
  it('that is done skips, and is not asked whether it may change anything', async () => {
    const r = await runStep({ done: 'in place', refuse: 'not ours' });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.asked, ['done']);
    assert.match(r.log, /^# skip: in place$/m);
  });

  it('that is not done but would change what is not ours stops the run with the reason, running nothing', async () => {
    const r = await runStep({ done: false, refuse: 'namespace x was not made by fun-with-istio: refusing to change it' });
    assert.equal(r.code, 1);
    assert.deepEqual(r.asked, ['done', 'refuse']);
    assert.match(r.err, /^error: Change a thing: namespace x was not made by fun-with-istio: refusing to change it/m);
  });

  it('that is not done and may change what it finds runs', async () => {
    const r = await runStep({ done: false, refuse: false });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.asked, ['done', 'refuse', 'run']);
  });
});

describe('oncePerRun', () => {
  it('asks once per run and per argument, however many ask; another run asks again', async () => {
    let asked = 0;
    const owner = oncePerRun(async (_ctx: Ctx, name: string) => `${name} #${++asked}`);
    const aRun = { run: new RunState(new AbortController()) } as Ctx;
    assert.deepEqual(await Promise.all([owner(aRun, 'a'), owner(aRun, 'a'), owner(aRun, 'b')]), ['a #1', 'a #1', 'b #2']);
    const nextRun = { run: new RunState(new AbortController()) } as Ctx;
    assert.equal(await owner(nextRun, 'a'), 'a #3');
    // Two facts with the same arguments are two questions.
    const other = oncePerRun(async (_ctx: Ctx, name: string) => `other ${name}`);
    assert.equal(await other(aRun, 'a'), 'other a');
  });
});
