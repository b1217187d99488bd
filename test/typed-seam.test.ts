// The seam under the shell: kube/ says what each command asks, and the dry-run model and the tests answer that,
// never the command line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunLog } from '../tasks/lib/base/log.ts';
import { Shell } from '../tasks/lib/exec/shell.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import { deleteObjects, exists, getObject, inNamespace, listObjects, onObjects } from '../tasks/lib/kube/kube.ts';
import type { Commands } from '../tasks/lib/run/commands.ts';
import type { Ctx } from '../tasks/lib/run/types.ts';
import { FakeApi } from './fake-api.ts';
import { fakeRunner } from './helpers.ts';

const config = {
  context: 'lab',
  istioctl: 'istioctl',
  kubeconfig: undefined,
  cluster: { kind: 'existing' as const, context: 'lab' },
  kubernetesVersion: 'v1.36.3',
  istioVersion: '1.31.1',
  addons: [],
  waitTimeout: '5s',
};
const ctxOn = (sh: Commands) => ({ sh, config }) as unknown as Ctx;
const dryRun = () => {
  const printed: string[] = [];
  const sh = new Shell({ config, log: new RunLog(undefined), dryRun: new DryRunCluster(config), print: (l) => printed.push(l) });
  return { ctx: ctxOn(sh), printed };
};
const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'traffic', namespace: 'demo' } };
const jobRef = inNamespace('demo', 'job', 'traffic');

describe('the typed seam', () => {
  it('the dry-run model answers what a command asks, not its line: the same line asking nothing gets nothing', () => {
    const model = new DryRunCluster(config);
    const argv = ['kubectl', '--context', 'lab', 'version', '-o', 'json', '--request-timeout=5s'];
    assert.deepEqual(model.answer({ argv }), {});
    const asked = model.answer({ argv: [], query: { op: 'version', tool: 'kubectl', of: 'server' } });
    assert.deepEqual(JSON.parse(asked.stdout ?? ''), { serverVersion: { gitVersion: 'v1.36.3' } });
  });

  it("in a dry run, an object sent exists and is the tool's; deleted by name, it is gone; the lines stay exact", async () => {
    const { ctx, printed } = dryRun();
    assert.equal(await exists(ctx, jobRef), false);
    await onObjects(ctx, 'create', [job]);
    assert.equal((await getObject(ctx, jobRef))?.metadata?.labels?.['app.kubernetes.io/managed-by'], 'fun-with-istio');
    assert.deepEqual(
      (await listObjects(ctx, inNamespace('demo', 'job'))).map((o) => o.metadata?.name),
      ['traffic'],
    );
    await deleteObjects(ctx, jobRef, { wait: true });
    assert.equal(await exists(ctx, jobRef), false, 'deleted by name: the model forgets it');
    assert.deepEqual(printed, [
      '$ kubectl --context lab -n demo get job traffic -o json --ignore-not-found',
      '$ kubectl --context lab create -f - # stdin: Job/traffic',
      '$ kubectl --context lab -n demo get job traffic -o json --ignore-not-found',
      '$ kubectl --context lab -n demo get job -o json',
      '$ kubectl --context lab -n demo delete job traffic --ignore-not-found --wait=true',
      '$ kubectl --context lab -n demo get job traffic -o json --ignore-not-found',
    ]);
  });

  it('a test scripts a cluster by object: the runner gets the query, and the fake API server keeps what is sent', async () => {
    const api = new FakeApi();
    const fake = fakeRunner((_argv, _input, query) => api.answer(query));
    const ctx = ctxOn(new Shell({ config, log: new RunLog(undefined), runner: fake.runner }));
    await onObjects(ctx, 'apply', [job]);
    assert.deepEqual(api.list('job', 'demo'), [job]);
    assert.equal((await getObject(ctx, jobRef))?.metadata?.name, 'traffic');
    await deleteObjects(ctx, jobRef);
    assert.deepEqual(api.list('job', 'demo'), []);
    assert.deepEqual(
      fake.calls.map((c) => c.query?.op),
      ['send', 'get', 'delete'],
    );
  });

  it("the fake API server's list honours a label selector, and a required object that is missing is an error", () => {
    const api = new FakeApi();
    api.put({ kind: 'Pod', metadata: { name: 'a', namespace: 'n', labels: { app: 'sleep' } } });
    api.put({ kind: 'Pod', metadata: { name: 'b', namespace: 'n', labels: { app: 'other' } } });
    const items = (selector?: string) =>
      (
        JSON.parse(api.answer({ op: 'list', ref: { kind: 'pod', namespace: 'n' }, selector })?.stdout ?? '') as {
          items: { metadata: { name: string } }[];
        }
      ).items.map((p) => p.metadata.name);
    assert.deepEqual(items('app=sleep'), ['a']);
    assert.deepEqual(items(), ['a', 'b']);
    assert.equal(api.answer({ op: 'get', ref: { kind: 'pod', name: 'c', namespace: 'n' }, required: true })?.code, 1);
    assert.equal(api.answer({ op: 'get', ref: { kind: 'pod', name: 'c', namespace: 'n' } })?.stdout, '');
  });
});
