// The task chapters' routing restore on a small API server: what a task takes a snapshot of before its first change, what it
// puts back at its end (its own additions deleted, a user's objects back as they were, someone else's new ones
// left), what --keep-routing keeps, and a run after one that stopped midway. Each world is wrong in one way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyFile, endState, noteBefore, restoreBefore, type Scope } from '../tasks/lib/istio/routing.ts';
import { ourLabels } from '../tasks/lib/kube/kube.ts';
import type { K8sObject } from '../tasks/lib/kube/manifests.ts';
import { step } from '../tasks/lib/run/step.ts';
import type { TaskCommand } from '../tasks/lib/run/types.ts';
import { FakeApi } from './fake-api.ts';
import { fakeRunner, joined, runCommands } from './helpers.ts';

const scope: Scope = { kind: 'virtualservice', namespace: 'shop', what: 'the routing', snapshotIn: 'shop' };
const snapshotKey = 'configmap/shop/fun-with-istio-virtualservice-before';

const vs = (name: string, subset: string, labels: Record<string, string> = {}): K8sObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'shop', labels },
  spec: { hosts: [name], http: [{ route: [{ destination: { host: name, subset } }] }] },
});
const ours = ourLabels();

/** A task like request-routing: all to v1, then reviews to v2, then back: its files carry the tool's label. */
const firstFile = () => ({ docs: [vs('reviews', 'v1', ours), vs('ratings', 'v1', ours)], label: 'all-v1' });
const secondFile = () => ({ docs: [vs('reviews', 'v2', ours)], label: 'reviews-v2' });
const end = endState(scope, [firstFile, secondFile]);
const task: TaskCommand = {
  kind: 'tasks',
  name: 'task',
  summary: 'a routing task',
  flags: ['keep-routing'],
  tasks: () => [
    noteBefore(scope),
    applyFile('Apply all-v1', firstFile, end),
    applyFile('Apply reviews-v2', secondFile, end),
    // What a task checks between its changes runs commands too (a port-forward, an exec): reads are asked anew.
    step('Check what users see', { run: async (ctx) => void (await ctx.sh.kubectl(['exec', 'deployment/curl'])) }),
    restoreBefore(scope),
  ],
};

/** Runs the task against `api`; `stopAfter` fails the run after that many changes (as Ctrl-C or a crash would). */
async function runTask(api: FakeApi, o: { flags?: string[]; stopAfter?: number; during?: (cmd: string) => void } = {}) {
  let changes = 0;
  const fake = fakeRunner((argv, _input, query) => {
    o.during?.(argv.join(' '));
    const change = query?.op === 'send' || query?.op === 'delete';
    if (change && o.stopAfter !== undefined && changes++ >= o.stopAfter) return { code: 1, stderr: 'error: stopped here\n' };
    return api.answer(query);
  });
  const { code, err, log } = await runCommands([task], ['task', ...(o.flags ?? [])], { runner: fake.runner });
  const applied = fake.calls.filter((c) => c.argv.includes('apply')).map((c) => c.input);
  return { code, err, log, applied, changes: joined(fake.calls).filter((c) => / (apply|create|delete) /.test(c)) };
}
const routing = (api: FakeApi) => Object.fromEntries(api.list('virtualservice', 'shop').map((o) => [o.metadata?.name, o]));

describe('a routing task puts back what it found', () => {
  it('on a namespace with no routing: what it added goes, and so does its snapshot', async () => {
    const api = new FakeApi();
    const r = await runTask(api);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(routing(api), {});
    assert.ok(!api.objects.has(snapshotKey), 'the snapshot is gone');
    assert.match(r.log, /^# shown: no virtualservice in shop$/m);
    assert.match(r.log, /^# shown: removed reviews, removed ratings$/m);
    assert.ok(
      r.changes.includes('kubectl --context lab -n shop delete virtualservice/reviews virtualservice/ratings --ignore-not-found'),
      r.changes.join('\n'),
    );
  });

  it("a user's object it changed comes back with their spec and labels; one it did not touch is not applied again", async () => {
    const api = new FakeApi();
    api.put(vs('reviews', 'v3', { team: 'a' }));
    api.put(vs('details', 'v1', { team: 'b' }));
    const r = await runTask(api);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(routing(api), { reviews: vs('reviews', 'v3', { team: 'a' }), details: vs('details', 'v1', { team: 'b' }) });
    assert.match(r.log, /^# shown: reviews, details$/m);
    assert.match(r.log, /^# shown: removed ratings, restored reviews$/m);
    const restore = r.applied.at(-1) ?? '';
    assert.match(restore, /name: reviews/, 'reviews is put back');
    assert.doesNotMatch(restore, /name: details/, 'details, never changed, is not applied again');
    assert.ok(
      r.changes.includes('kubectl --context lab -n shop delete virtualservice ratings --ignore-not-found'),
      `ratings, which the task added, goes: ${r.changes.join('\n')}`,
    );
  });

  it('an object someone else added while it ran stays theirs', async () => {
    const api = new FakeApi();
    const r = await runTask(api, { during: (cmd) => cmd.includes(' exec ') && api.put(vs('productpage', 'v1', { team: 'c' })) });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(Object.keys(routing(api)), ['productpage']);
  });

  it('a user object the tool only labelled as its own is not the same: it is put back unlabelled', async () => {
    const api = new FakeApi();
    api.put(vs('ratings', 'v1', {})); // the spec the task's file has, but the user's
    const r = await runTask(api);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(routing(api).ratings?.metadata?.labels, {});
  });

  it('--keep-routing keeps its end; a re-run skips every step on the way there', async () => {
    const api = new FakeApi();
    const kept = await runTask(api, { flags: ['--keep-routing'] });
    assert.equal(kept.code, 0, kept.err);
    assert.deepEqual(routing(api), { reviews: vs('reviews', 'v2', ours), ratings: vs('ratings', 'v1', ours) });
    assert.ok(!api.objects.has(snapshotKey), 'the snapshot goes in any case');
    const again = await runTask(api, { flags: ['--keep-routing'] });
    assert.deepEqual(again.changes, []);
    assert.match(again.log, /^# skip: the task's end state is in place \(kept\)$/m);
    assert.match(again.log, /^# skip: kept \(--keep-routing\)$/m);
  });

  it('a run after a kept one finds the routing as it was (the kept end) and leaves it', async () => {
    const api = new FakeApi();
    await runTask(api, { flags: ['--keep-routing'] });
    const again = await runTask(api);
    assert.equal(again.code, 0, again.err);
    assert.match(again.log, /^# skip: the routing is as it was$/m);
    assert.deepEqual(routing(api), { reviews: vs('reviews', 'v2', ours), ratings: vs('ratings', 'v1', ours) });
  });

  it('a run after one that stopped midway puts back what was there before the stopped run', async () => {
    const api = new FakeApi();
    api.put(vs('reviews', 'v3', { team: 'a' }));
    const stopped = await runTask(api, { stopAfter: 2 }); // the snapshot and the first file went in
    assert.equal(stopped.code, 1);
    assert.deepEqual(routing(api).reviews?.spec, vs('reviews', 'v1').spec, 'the stopped run left its routing');
    const next = await runTask(api);
    assert.equal(next.code, 0, next.err);
    assert.match(next.log, /^# the routing to put back: reviews \(as before a run that stopped midway\)$/m);
    assert.ok(
      !next.changes.some((c) => / create /.test(c)) && !next.applied.some((i) => i.includes('kind: ConfigMap')),
      'the snapshot of the stopped run is kept as it is, not written again',
    );
    assert.deepEqual(routing(api), { reviews: vs('reviews', 'v3', { team: 'a' }) });
  });

  it("the tool's snapshot that cannot be read is none: what is there now is taken, and the snapshot replaced", async () => {
    const api = new FakeApi();
    api.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fun-with-istio-virtualservice-before', namespace: 'shop', labels: ours },
      data: { objects: 'not json' },
    });
    api.put(vs('reviews', 'v3', { team: 'a' }));
    const r = await runTask(api);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(routing(api), { reviews: vs('reviews', 'v3', { team: 'a' }) });
    assert.ok(
      r.applied.some((i) => i.includes('kind: ConfigMap') && i.includes('"subset":"v3"')),
      'the unreadable snapshot was replaced by what was there',
    );
    assert.ok(!api.objects.has(snapshotKey), 'the snapshot is gone');
  });

  it("a user's ConfigMap under the snapshot's name is neither read, overwritten nor deleted: the task stops, saying so", async () => {
    const api = new FakeApi();
    const theirs = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fun-with-istio-virtualservice-before', namespace: 'shop' },
      data: { objects: '[]' },
    };
    api.put(theirs);
    const r = await runTask(api);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Apply all-v1: configmap fun-with-istio-virtualservice-before in shop is not fun-with-istio's, but the task keeps its snapshot under that name: rename it, then re-run/,
    );
    assert.deepEqual(api.objects.get(snapshotKey), theirs);
    assert.deepEqual(routing(api), {}, 'nothing was applied');
  });

  it("a user's ConfigMap under the snapshot's name survives a run that changes nothing", async () => {
    const api = new FakeApi();
    await runTask(api, { flags: ['--keep-routing'] });
    const theirs = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fun-with-istio-virtualservice-before', namespace: 'shop' },
    };
    api.put(theirs);
    const r = await runTask(api, { flags: ['--keep-routing'] });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(api.objects.get(snapshotKey), theirs);
  });

  it("the tool's own object from before the task (another task's kept end) gets its former spec back", async () => {
    const api = new FakeApi();
    api.put(vs('reviews', 'v3', ours));
    const r = await runTask(api);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(routing(api), { reviews: vs('reviews', 'v3', ours) });
  });

  it('--keep-routing again after a kept object went missing applies it again', async () => {
    const api = new FakeApi();
    await runTask(api, { flags: ['--keep-routing'] });
    api.objects.delete('virtualservice/shop/ratings');
    const again = await runTask(api, { flags: ['--keep-routing'] });
    assert.equal(again.code, 0, again.err);
    assert.deepEqual(routing(api), { reviews: vs('reviews', 'v2', ours), ratings: vs('ratings', 'v1', ours) });
  });

  it("someone else's change during a run that changed nothing: not called 'as it was', theirs kept, nothing deleted", async () => {
    const api = new FakeApi();
    await runTask(api, { flags: ['--keep-routing'] });
    const theirsNamedLikeNotes = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fun-with-istio-virtualservice-before', namespace: 'shop' },
    };
    api.put(theirsNamedLikeNotes);
    const r = await runTask(api, {
      during: (cmd) => cmd.includes(' exec ') && api.put(vs('productpage', 'v1', { team: 'c' })),
    });
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.log, /^# skip: the routing is as it was$/m);
    assert.deepEqual(r.changes, [], 'nothing of the tool changed, nothing to put back');
    assert.deepEqual(Object.keys(routing(api)).sort(), ['productpage', 'ratings', 'reviews']);
    assert.deepEqual(api.objects.get(snapshotKey), theirsNamedLikeNotes);
  });

  it("a user's object deleted while the task ran is put back", async () => {
    const api = new FakeApi();
    api.put(vs('details', 'v1', { team: 'b' }));
    const r = await runTask(api, {
      during: (cmd) => cmd.includes(' exec ') && api.objects.delete('virtualservice/shop/details'),
    });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(routing(api), { details: vs('details', 'v1', { team: 'b' }) });
  });

  it('one of two kept objects changed by someone else during a run that changed nothing: it is put back', async () => {
    const api = new FakeApi();
    await runTask(api, { flags: ['--keep-routing'] });
    const r = await runTask(api, { during: (cmd) => cmd.includes(' exec ') && api.put(vs('ratings', 'v2', ours)) });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(routing(api).ratings, vs('ratings', 'v1', ours), 'ratings is as it was when the run began');
  });

  it('a file already in place is a skip that names its objects', async () => {
    const api = new FakeApi();
    for (const o of firstFile().docs) api.put(o);
    const r = await runTask(api);
    assert.match(r.log, /^# skip: VirtualService\/reviews, VirtualService\/ratings in place$/m);
  });
});
