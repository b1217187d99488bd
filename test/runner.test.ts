// The runner's stages, each on its own: the command line parsed against a command's own flags, and confirmation.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../tasks/lib/base/errors.ts';
import { confirmed, parseInvocation, run } from '../tasks/lib/cli/runner.ts';
import { inNamespace, namespaceRef, verbArgs } from '../tasks/lib/kube/kube.ts';
import type { ActionCommand, Ctx, TaskCommand } from '../tasks/lib/run/types.ts';
import { runCli, tmpDir } from './helpers.ts';

const chapter: TaskCommand = {
  kind: 'tasks',
  name: 'teardown',
  summary: 's',
  flags: ['keep-cluster'],
  tasks: () => [],
  confirm: () => 'Sure?',
};
const action: ActionCommand = { kind: 'action', name: 'check', summary: 's', args: 'FILE', action: async () => 0 };
const commands = [chapter, action];

describe('parseInvocation', () => {
  it('no command is usage with exit 2; help is usage with exit 0', () => {
    assert.deepEqual(parseInvocation(commands, []), { kind: 'usage', code: 2 });
    assert.deepEqual(parseInvocation(commands, ['help']), { kind: 'usage', code: 0 });
  });

  it('sets the options a command line asks for', () => {
    const r = parseInvocation(commands, ['teardown', '-y', '--dry-run', '--keep-cluster']);
    assert.equal(r.kind, 'run');
    assert.deepEqual(r.kind === 'run' && r.options, {
      dryRun: true,
      yes: true,
      verbose: false,
      keepSample: false,
      keepRouting: false,
      keepCluster: true,
      strict: false,
      open: false,
    });
  });

  it('--help wins over everything else', () => {
    assert.equal(parseInvocation(commands, ['teardown', '--keep-cluster', '--help']).kind, 'help');
  });

  it('refuses an unknown command, a flag the command does not take, and arguments it does not take', () => {
    assert.throws(
      () => parseInvocation(commands, ['tear']),
      (e) => e instanceof UsageError && /unknown command 'tear'/.test(e.message),
    );
    assert.throws(() => parseInvocation(commands, ['check', '--keep-cluster']), /--keep-cluster is not an option of check/);
    assert.throws(() => parseInvocation(commands, ['teardown', 'now']), /teardown takes no arguments \(got now\)/);
    assert.throws(
      () => parseInvocation(commands, ['teardown', '--force']),
      /unknown option --force; see `npm run teardown -- --help`/,
    );
  });

  it('a mistyped option gets a "did you mean" among the options of that command', () => {
    assert.throws(
      () => parseInvocation(commands, ['teardown', '--keep-clster']),
      (e) =>
        e instanceof UsageError &&
        e.message === 'unknown option --keep-clster (did you mean --keep-cluster?); see `npm run teardown -- --help`',
    );
    assert.throws(
      () => parseInvocation(commands, ['teardown', '--frobnicate']),
      (e) => e instanceof UsageError && e.message === 'unknown option --frobnicate; see `npm run teardown -- --help`',
    );
  });

  it("an action's arguments are checked before anything runs: no log is written for a usage error", async () => {
    for (const argv of [['dashboard', 'graphana'], ['dashboard'], ['kube-inject', 'nope.yaml'], ['kube-inject']]) {
      const cache = tmpDir('fwi-cache-');
      const r = await runCli(argv, { env: { CACHE_DIR: cache } });
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
      assert.equal(existsSync(path.join(cache, 'logs')), false, `${argv.join(' ')} wrote a log`);
    }
  });

  it('passes an action its arguments', () => {
    const r = parseInvocation(commands, ['check', 'a.yaml', 'b.yaml']);
    assert.deepEqual(r.kind === 'run' && r.args, ['a.yaml', 'b.yaml']);
  });
});

describe('confirmed', () => {
  const ctx = (options: Partial<Ctx['options']>) => ({ options: { dryRun: false, yes: false, ...options } }) as Ctx;
  const never = async () => assert.fail('must not ask');

  it('does not ask with --yes or in a dry run', async () => {
    assert.equal(await confirmed(chapter, ctx({ yes: true }), { ask: never }, () => {}), true);
    assert.equal(await confirmed(chapter, ctx({ dryRun: true }), { ask: never }, () => {}), true);
  });

  it('asks, and a no does nothing', async () => {
    let said = '';
    assert.equal(await confirmed(chapter, ctx({}), { ask: async () => false }, (t) => (said += t)), false);
    assert.equal(said, 'nothing done\n');
  });
});

describe('Ctrl-C, a closed terminal, SIGTERM', () => {
  it('are listened for from the start of a run (while it is set up and asks), and no longer once it ends', async () => {
    const counts = () => ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));
    const before = counts();
    let asking: number[] = [];
    const code = await run(commands, ['teardown'], {
      env: { HOME: tmpDir('fwi-home-'), CACHE_DIR: tmpDir('fwi-cache-'), CLUSTER: 'existing', KUBE_CONTEXT: 'lab', PATH: '' },
      envFile: '/nonexistent/.env',
      renderer: 'silent',
      out: () => {},
      err: () => {},
      ask: async () => {
        asking = counts();
        return false;
      },
    });
    assert.equal(code, 0);
    assert.deepEqual(
      asking,
      before.map((n) => n + 1),
    );
    assert.deepEqual(counts(), before);
  });
});

describe('verbArgs', () => {
  it('addresses one object as kind name, several as kind/name, namespace first', () => {
    assert.deepEqual(verbArgs('get', namespaceRef('a'), ['-o', 'name']), ['get', 'namespace', 'a', '-o', 'name']);
    assert.deepEqual(verbArgs(['rollout', 'status'], inNamespace('n', 'deployment', 'd')), [
      '-n',
      'n',
      'rollout',
      'status',
      'deployment',
      'd',
    ]);
    assert.deepEqual(verbArgs('wait', [inNamespace('n', 'deployment', 'a'), inNamespace('n', 'deployment', 'b')]), [
      '-n',
      'n',
      'wait',
      'deployment/a',
      'deployment/b',
    ]);
  });

  it('refuses objects in different namespaces in one command', () => {
    assert.throws(() => verbArgs('get', [inNamespace('a', 'pod', 'x'), inNamespace('b', 'pod', 'y')]), /one namespace/);
  });
});
