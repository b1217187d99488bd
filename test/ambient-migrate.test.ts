// ambient-migrate through a scripted cluster: the sidecar track's Bookinfo moved to ambient mode in place (istio.io's
// migration guide), a namespace that is neither track's refused, and a moved one left as it is. The real istiod's view
// of the same run is in test/e2e/ambient-migrate.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, pins } from '../tasks/config.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import { asks, fakeRunner, jsonpathOf, nodesJson, type Reply, runCli, tmpDir } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const env = {
  CACHE_DIR: tmpDir('fwi-migrate-'),
  ISTIO_HOME: release,
  CLUSTER: 'existing',
  KUBE_CONTEXT: 'lab',
  ISTIO_MODE: 'ambient',
};
const { cluster, addons } = loadConfig({ env, envFile: '/nonexistent/.env' });
const modelConfig = { kubernetesVersion: pins.kubernetes, istioVersion: pins.istio, cluster, addons, mode: 'ambient' as const };
const apps = ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'];

/** A cluster where the sidecar track ran (`labels`: the namespace's track labels as `<injection>/<enrolment>`). */
function world(o: { labels: string; ambientIstiod?: boolean }) {
  const model = new DryRunCluster(modelConfig, 'fresh');
  let restarted = false;
  let ambientIstiod = o.ambientIstiod ?? false;
  const pods = () =>
    JSON.stringify({
      items: apps.map((name) => ({
        metadata: { name: `${name}-${restarted ? 'new' : 'old'}` },
        spec: { containers: [{ name: 'app' }, ...(restarted || o.ambientIstiod ? [] : [{ name: 'istio-proxy' }])] },
        status: {
          containerStatuses: [
            { name: 'app', ready: true },
            ...(restarted || o.ambientIstiod ? [] : [{ name: 'istio-proxy', ready: true }]),
          ],
        },
      })),
    });
  const fake = fakeRunner((argv, input, query): Reply | undefined => {
    const cmd = argv.join(' ');
    if (cmd.includes('istioctl') && argv.includes('install')) ambientIstiod = true;
    if (cmd.includes('rollout restart')) restarted = true;
    if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson('kwok://v0.8.0') };
    if (jsonpathOf(query).includes('istio-injection}/')) return { stdout: o.labels };
    if (jsonpathOf(query).includes('PILOT_ENABLE_AMBIENT')) return { stdout: ambientIstiod ? 'true' : '' };
    if (asks(query, 'get', { kind: 'namespace', name: 'bookinfo' }) && o.labels === '/ambient')
      return {
        stdout: JSON.stringify({
          kind: 'Namespace',
          metadata: { name: 'bookinfo', labels: { 'istio.io/dataplane-mode': 'ambient' } },
        }),
      };
    if (asks(query, 'list', { kind: 'pods', namespace: 'bookinfo' })) return { stdout: pods() };
    if (asks(query, 'list', { kind: 'deployment', namespace: 'bookinfo' }))
      return {
        stdout: JSON.stringify({
          items: [...apps, 'curl'].map((name) => ({
            kind: 'Deployment',
            metadata: { name, labels: { app: name.replace(/-v\d$/, '') } },
            status: { conditions: [{ type: 'Available', status: 'True' }] },
          })),
        }),
      };
    // Gateway API CRDs someone installed before: left as they are.
    if (asks(query, 'get', { kind: 'customresourcedefinition', name: 'gateways.gateway.networking.k8s.io' }))
      return {
        stdout: JSON.stringify({ kind: 'CustomResourceDefinition', metadata: { name: 'gateways.gateway.networking.k8s.io' } }),
      };
    const a = model.answer({ argv, input, query });
    return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
  });
  return fake;
}
const run = async (o: Parameters<typeof world>[0]) => {
  const fake = world(o);
  const r = await runCli(['ambient-migrate'], { env, runner: fake.runner });
  return { ...r, calls: fake.calls.map((c) => c.argv.join(' ')) };
};

describe('ambient-migrate', () => {
  it('adds the ambient components with the ingress gateway kept, moves the namespace, restarts the pods', async () => {
    const r = await run({ labels: 'enabled/' });
    assert.equal(r.code, 0, r.err);
    const install = r.calls.find((c) => c.includes(' install ')) ?? assert.fail('no istioctl install');
    assert.match(install, / install --set profile=ambient /);
    assert.match(
      install,
      /--set components\.ingressGateways\[0\]\.name=istio-ingressgateway --set components\.ingressGateways\[0\]\.enabled=true/,
    );
    assert.ok(
      r.calls.some((c) => c.endsWith('label namespace bookinfo istio.io/dataplane-mode=ambient istio-injection- --overwrite')),
      'moved',
    );
    const restart = r.calls.find((c) => c.includes('rollout restart')) ?? assert.fail('no restart');
    assert.match(restart, /-n bookinfo rollout restart deployment -l app in \(details,productpage,ratings,reviews\)$/);
    const waited = r.calls.filter((c) => c.includes('rollout status deployment')).map((c) => c.split(' ')[8]);
    assert.deepEqual(waited, apps, 'each of Bookinfo’s Deployments, not the client beside it');
    const order = ['install --set profile=ambient', 'label namespace bookinfo', 'rollout restart'].map((s) =>
      r.calls.findIndex((c) => c.includes(s)),
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'components first, then the namespace, then the pods',
    );
  });

  it('a Bookinfo that is neither track’s is refused before anything changes, saying what to run', async () => {
    const r = await run({ labels: '/' });
    assert.equal(r.code, 1);
    assert.match(r.err, /namespace bookinfo has no istio-injection=enabled: not the sidecar track's Bookinfo/);
    assert.match(r.err, /run `ISTIO_MODE=sidecar npm run bookinfo` first/);
    assert.ok(!r.calls.some((c) => / (apply|label|install|rollout restart) /.test(c)), r.calls.join('\n'));
  });

  it('a Bookinfo that has moved is left as it is', async () => {
    const r = await run({ labels: '/ambient', ambientIstiod: true });
    assert.equal(r.code, 0, r.err);
    assert.ok(
      !r.calls.some((c) => / (label|install|rollout restart) /.test(c)),
      r.calls.filter((c) => !c.includes(' get ')).join('\n'),
    );
  });
});
