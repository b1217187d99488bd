// A step refuses only what someone else made: what the tool made and left half-done is finished, not refused; and a
// guard holds wherever its steps are used, not only where an earlier step happens to guard the same object.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { installSteps } from '../tasks/install-istio.ts';
import type { TaskCommand } from '../tasks/lib/run/types.ts';
import { asks, fakeRunner, jsonpathOf, listJson, objectJson, runCli, runCommands, tmpDir, versionAnswer } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const env = (extra: Record<string, string> = {}) => ({
  CACHE_DIR: tmpDir('fwi-cache-'),
  ISTIO_HOME: release,
  CLUSTER: 'existing',
  KUBE_CONTEXT: 'lab',
  ...extra,
});

describe('a step refuses only what someone else made', () => {
  it("the tool's own addon whose Service is not yet a NodePort (a run stopped midway) is applied again", async () => {
    const fake = fakeRunner((_argv, _input, query) => {
      if (asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' }))
        return { stdout: listJson(objectJson('Deployment', 'grafana', { managed: true })) };
      if (asks(query, 'list', { kind: 'service', namespace: 'istio-system' }))
        return { stdout: listJson(objectJson('Service', 'grafana', { managed: true, spec: { type: 'ClusterIP' } })) };
      if (jsonpathOf(query) === '{.status.readyReplicas}') return { stdout: '1' };
      return versionAnswer(query);
    });
    const r = await runCli(['addons'], { env: env({ ADDONS: 'grafana', TRACING: 'off' }), runner: fake.runner });
    assert.doesNotMatch(r.err, /refusing/);
    const applied = fake.calls.filter((c) => c.argv.includes('apply') && c.input.includes('name: grafana'));
    assert.ok(applied.length > 0, 'grafana was applied again');
  });

  it('the install steps refuse an Istio in an istio-system the tool did not make, wherever they are used', async () => {
    // The install steps alone, without the namespace step that refuses the same Istio first in install-istio and all.
    const installOnly: TaskCommand = { kind: 'tasks', name: 'install-only', summary: 'x', tasks: () => installSteps() };
    const fake = fakeRunner((_argv, _input, query) => {
      const image = { template: { spec: { containers: [{ image: 'docker.io/istio/pilot:1.30.0' }] } } };
      if (asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' }))
        return { stdout: listJson(objectJson('Deployment', 'istiod', { spec: image })) };
      if (asks(query, 'get', { kind: 'namespace', name: 'istio-system' }))
        return { stdout: objectJson('Namespace', 'istio-system') };
      return versionAnswer(query);
    });
    const { code, err } = await runCommands([installOnly], ['install-only'], { runner: fake.runner, env: env() });
    assert.equal(code, 1, err);
    assert.match(err, /Istio 1\.30\.0 in context lab was not installed by fun-with-istio: refusing to change it/);
    assert.ok(!fake.calls.some((c) => c.argv.includes('install')), 'istioctl install never ran');
  });
});
