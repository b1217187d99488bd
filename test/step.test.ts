// One step's contract: skipped when done, refused (with the reason, nothing run) when what it would change is
// someone else's, run otherwise; `refuse` is asked only for a step that is not done, and before it runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunLog } from '../tasks/lib/base/log.ts';
import { Shell } from '../tasks/lib/exec/shell.ts';
import { oncePerRun } from '../tasks/lib/run/once-per-run.ts';
import { RunState } from '../tasks/lib/run/run-state.ts';
import { group, step } from '../tasks/lib/run/step.ts';
import type { Ctx, TaskCommand, TaskHandle } from '../tasks/lib/run/types.ts';
import { fakeRunner, nodesJson, runCommands } from './helpers.ts';

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

describe('a group', () => {
  it('that says it is done skips with one line, and none of its steps is asked', async () => {
    const asked: string[] = [];
    const inner = (name: string) =>
      step(name, {
        done: async () => {
          asked.push(name);
          return false;
        },
        run: async () => void asked.push(`run ${name}`),
      });
    const command = (done: string | false): TaskCommand => ({
      kind: 'tasks',
      name: 'demo',
      summary: 's',
      tasks: () => [group('The demo', [inner('a'), inner('b')], { done: async () => done })],
    });
    const before = await runCommands([command('the demo ran before')], ['demo'], { runner: fakeRunner().runner });
    assert.equal(before.code, 0, before.err);
    assert.deepEqual(asked, []);
    assert.deepEqual(
      before.log.split('\n').filter((l) => l.startsWith('# skip: ')),
      ['# skip: the demo ran before'],
    );
    const fresh = await runCommands([command(false)], ['demo'], { runner: fakeRunner().runner });
    assert.equal(fresh.code, 0, fresh.err);
    assert.deepEqual(asked, ['a', 'run a', 'b', 'run b']);
  });
});

describe('a check that cannot look', () => {
  it('on nodes that run no containers it is skipped, saying why, never drawn as checked; elsewhere it looks', async () => {
    const { cannotLookHere, notHere } = await import('../tasks/lib/kube/data-plane.ts');
    const nodes = (runtime: string) =>
      fakeRunner((_argv, _input, query) => (query?.op === 'list' ? { stdout: nodesJson(runtime) } : undefined)).runner;
    const look = async (runtime: string) => {
      const skipped: string[] = [];
      const task = { title: 'Check the pages', skip: (why: string) => void skipped.push(why) } as unknown as TaskHandle;
      const sh = new Shell({
        config: { context: 'lab', istioctl: 'istioctl', kubeconfig: undefined, cluster: { kind: 'existing', context: 'lab' } },
        log: new RunLog(undefined),
        runner: nodes(runtime),
      });
      const cannot = await cannotLookHere({ sh } as unknown as Ctx, task);
      return { cannot, skipped, title: task.title };
    };
    assert.deepEqual(await look('kwok://v0.8.0'), { cannot: true, skipped: [notHere], title: 'Check the pages' });
    assert.deepEqual(await look('containerd://2.1.4'), { cannot: false, skipped: [], title: 'Check the pages' });
  });
});
