// The dry-run listing of every command, byte for byte, against a committed copy: a refactor must not change
// what the tool runs. Regenerate on purpose with `UPDATE_GOLDEN=1 node --import tsx --test test/dry-run-golden.test.ts`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../Taskfile.ts';
import type { Command } from '../tasks/lib/run/types.ts';
import { fakeRunner, runCli } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..');
const dir = path.join(import.meta.dirname, 'fixtures', 'dry-run');
const release = path.join(import.meta.dirname, 'fixtures', 'release');
const minikube = { CACHE_DIR: '/nonexistent/cache' };
const existing = { CACHE_DIR: '/nonexistent/cache', CLUSTER: 'existing', KUBE_CONTEXT: 'lab', ISTIO_HOME: release };

const ambient = { ISTIO_MODE: 'ambient' };
const modeOf = (c: Command) => (c.track?.mode === 'ambient' ? ambient : {});

const cases: [name: string, argv: string[], env: Record<string, string>][] = [];
// Every command that runs something, on both kinds of cluster; then the flags that change a listing.
const listed = commands.filter((c) => !c.local && !(c.kind === 'action' && c.args));
for (const [kind, env] of [
  ['minikube', minikube],
  ['existing', existing],
] as const) {
  // A chapter of the ambient track runs in its mode; `all` and install-istio are listed in both (and teardown of an ambient cluster).
  for (const c of listed) cases.push([`${kind}-${c.name}`, [c.name, '--dry-run'], { ...env, ...modeOf(c) }]);
  for (const name of ['all', 'install-istio', 'teardown'])
    cases.push([`${kind}-${name}-ambient`, [name, '--dry-run'], { ...env, ...ambient }]);
  cases.push([`${kind}-teardown-keep-cluster`, ['teardown', '--dry-run', '--keep-cluster'], env]);
  cases.push([`${kind}-injection-keep-sample`, ['injection', '--dry-run', '--keep-sample'], env]);
  cases.push([`${kind}-kube-inject`, ['kube-inject', '--dry-run', path.join(root, 'manifests', 'sleep.yaml')], env]);
}

describe('dry-run listings are unchanged', () => {
  for (const [name, argv, env] of cases) {
    it(name, async () => {
      const r = await runCli(argv, { env, runner: fakeRunner(() => assert.fail('a dry run spawned a command')).runner });
      assert.equal(r.code, 0, r.err);
      const text = r.out.split(root).join('<root>');
      const file = path.join(dir, `${name}.txt`);
      if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
      // A missing listing is a failure, never written here: refreshing is always on purpose (UPDATE_GOLDEN=1).
      assert.ok(existsSync(file), `${file} is missing: UPDATE_GOLDEN=1 writes it, on purpose`);
      assert.equal(text, readFileSync(file, 'utf8'));
    });
  }
});

describe('no question twice', () => {
  it('teardown asks each read-only question once', async () => {
    const r = await runCli(['teardown', '--dry-run', '--keep-cluster'], {
      env: existing,
      runner: fakeRunner(() => assert.fail('spawned')).runner,
    });
    const reads = r.out.split('\n').filter((l) => / get /.test(l));
    assert.deepEqual(
      reads.filter((l, i) => reads.indexOf(l) !== i),
      [],
    );
  });
});
