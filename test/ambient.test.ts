// The ambient track's chapters through a scripted cluster: istio.io's ambient getting started as ambient-bookinfo runs
// it, and every check shown failing in a world wrong in exactly its way (ztunnel not ready, no Gateway API, the
// sidecar track's namespace, a pod recreated on joining, a pod the CNI agent never redirected). The real istiod's
// view of the same objects is in test/e2e.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, pins } from '../tasks/config.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import { asks, cacheWithCa, fakeRunner, jsonpathOf, nodesJson, type Reply, runCli, tmpDir } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const page = readFileSync(path.join(import.meta.dirname, 'fixtures', 'bookinfo', 'reviews-v1.html'), 'utf8');
const server = createServer((_req, res) => res.end(page));
let port = 0;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

const env = {
  CACHE_DIR: tmpDir('fwi-ambient-'),
  ISTIO_HOME: release,
  CLUSTER: 'existing',
  KUBE_CONTEXT: 'lab',
  ISTIO_MODE: 'ambient',
};
const { cluster, addons } = loadConfig({ env, envFile: '/nonexistent/.env' });
const modelConfig = { kubernetesVersion: pins.kubernetes, istioVersion: pins.istio, cluster, addons };
const apps = ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'];

/** How the world is wrong, each in one way; the default is a cluster where istio.io's steps work. */
interface World {
  ztunnel?: string;
  gatewayApi?: string;
  injectionLabel?: boolean;
  /** Pods that come back with a new UID (recreated) once the namespace is labelled. */
  recreated?: string[];
  /** Pods the CNI agent never marks as redirected. */
  unredirected?: string[];
  runtime?: string;
}

function ambientCluster(w: World = {}) {
  const model = new DryRunCluster(modelConfig, 'fresh');
  let labelled = false;
  const pods = () =>
    JSON.stringify({
      items: apps.map((name) => ({
        metadata: {
          name: `${name}-abc`,
          uid: labelled && w.recreated?.includes(name) ? `new-${name}` : `uid-${name}`,
          annotations: labelled && !w.unredirected?.includes(name) ? { 'ambient.istio.io/redirection': 'enabled' } : {},
        },
        spec: { containers: [{ name: 'app' }] },
        status: { containerStatuses: [{ name: 'app', ready: true }] },
      })),
    });
  return fakeRunner((argv, input, query): Reply | undefined => {
    const cmd = argv.join(' ');
    if (cmd.includes(' label namespace bookinfo istio.io/dataplane-mode=ambient')) labelled = true;
    if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson(w.runtime ?? 'containerd://2.1.4') };
    if (jsonpathOf(query).startsWith('{.status.numberReady}')) return { stdout: w.ztunnel ?? '1 1' };
    if (jsonpathOf(query).includes('bundle-version')) return { stdout: w.gatewayApi ?? 'v1.6.0' };
    if (w.injectionLabel && asks(query, 'get', { kind: 'namespace', name: 'bookinfo' }))
      return {
        stdout: JSON.stringify({ kind: 'Namespace', metadata: { name: 'bookinfo', labels: { 'istio-injection': 'enabled' } } }),
      };
    if (asks(query, 'list', { kind: 'pods', namespace: 'bookinfo' })) return { stdout: pods() };
    if (argv.includes('port-forward')) return { hold: true, stdout: `Forwarding from 127.0.0.1:${port} -> 80\n` };
    const a = model.answer({ argv, input, query });
    return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
  });
}

const run = (w: World = {}) => {
  const fake = ambientCluster(w);
  return runCli(['ambient-bookinfo'], { env, runner: fake.runner }).then((r) => ({
    ...r,
    calls: fake.calls.map((c) => c.argv.join(' ')),
  }));
};
const applied = (calls: string[]) => calls.filter((c) => / (apply|create|label) /.test(c));

describe('ambient-bookinfo', () => {
  it('deploys, exposes, enrols without a restart, and loads the page through the gateway', async () => {
    const r = await run();
    assert.equal(r.code, 0, r.err);
    const changes = applied(r.calls).map((c) => c.replace(/^kubectl --context lab /, ''));
    assert.deepEqual(changes, [
      'create -f -',
      'apply -f -',
      'apply -f -',
      'label namespace bookinfo istio.io/dataplane-mode=ambient',
    ]);
    assert.ok(
      r.calls.some((c) => c.endsWith('-n bookinfo port-forward service/bookinfo-gateway-istio :80 --address 127.0.0.1')),
      'the page is loaded through the gateway',
    );
  });

  it('the gateway is made ClusterIP, so it is Programmed without a LoadBalancer address', async () => {
    const fake = ambientCluster();
    await runCli(['ambient-bookinfo'], { env, runner: fake.runner });
    const gateway = fake.calls.find((c) => c.input.includes('kind: Gateway'));
    assert.match(gateway?.input ?? '', /networking\.istio\.io\/service-type: ClusterIP/);
    assert.ok(
      fake.calls.some((c) =>
        c.argv.join(' ').includes('wait gateways.gateway.networking.k8s.io bookinfo-gateway --for=condition=Programmed'),
      ),
      'waits until the Gateway is Programmed',
    );
  });

  it('ztunnel not ready on every node: refused before anything is deployed', async () => {
    const r = await run({ ztunnel: '0 1' });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Check the ambient data plane runs \(ztunnel on every node\): ztunnel is not ready on every node in istio-system \(context lab\): 0 of 1/m,
    );
    assert.match(r.err, /suggestion: run `ISTIO_MODE=ambient npm run install-istio` first/);
    assert.deepEqual(applied(r.calls), []);
  });

  it('no Gateway API CRDs: refused before anything is deployed', async () => {
    const r = await run({ gatewayApi: '' });
    assert.equal(r.code, 1);
    assert.match(r.err, /no Gateway API CRDs \(gateways\.gateway\.networking\.k8s\.io\) in context lab/);
    assert.deepEqual(applied(r.calls), []);
  });

  it("the sidecar track's Bookinfo in the namespace: refused, nothing applied", async () => {
    const r = await run({ injectionLabel: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /namespace bookinfo has istio-injection=enabled: its pods carry sidecars/);
    assert.deepEqual(applied(r.calls), []);
  });

  it('a pod recreated on joining the mesh fails the step, naming it', async () => {
    const r = await run({ recreated: ['ratings-v1'] });
    assert.equal(r.code, 1);
    assert.match(r.err, /Add Bookinfo to the ambient mesh .*: pods changed on joining the mesh: ratings-v1-abc \(log:/m);
  });

  it('a pod the CNI agent never redirected fails after the wait, naming it and where to look', async () => {
    const r = await run({ unredirected: ['reviews-v2'] });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Prove the CNI agent redirected every Bookinfo pod to ztunnel: not redirected to ztunnel \(no ambient\.istio\.io\/redirection=enabled\): reviews-v2-abc \(log:/m,
    );
    assert.match(r.err, /logs daemonset\/istio-cni-node/);
    assert.ok(!r.calls.some((c) => c.includes('port-forward')), 'the page is not asked for');
  });

  it('where no node runs containers it says so and looks at nothing: no wait for the CNI agent, no page', async () => {
    const r = await run({ runtime: 'kwok://v0.8.0', unredirected: apps });
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.calls.some((c) => c.includes('port-forward')), 'no page asked for');
  });
});

describe('install-istio and the mode', () => {
  /** An istiod of the pinned version, from the ambient profile (its env) or not; the Gateway API CRDs someone else's. */
  function installedWorld(o: { ambientIstiod: boolean; crdsOurs?: boolean }) {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const istiod = {
      kind: 'Deployment',
      metadata: { name: 'istiod', namespace: 'istio-system', labels: { 'operator.istio.io/component': 'Pilot' } },
      spec: {
        template: {
          spec: {
            containers: [
              {
                image: `docker.io/istio/pilot:${pins.istio}-distroless`,
                env: o.ambientIstiod ? [{ name: 'PILOT_ENABLE_AMBIENT', value: 'true' }] : [],
              },
            ],
          },
        },
      },
      status: { conditions: [{ type: 'Available', status: 'True' }] },
    };
    const crd = {
      kind: 'CustomResourceDefinition',
      metadata: {
        name: 'gateways.gateway.networking.k8s.io',
        labels: o.crdsOurs ? { 'app.kubernetes.io/managed-by': 'fun-with-istio' } : {},
        annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.5.1' },
      },
    };
    return fakeRunner((argv, input, query): Reply | undefined => {
      if (asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' }))
        return { stdout: JSON.stringify({ items: [istiod] }) };
      if (asks(query, 'get', { kind: 'customresourcedefinition', name: crd.metadata.name }))
        return { stdout: JSON.stringify(crd) };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
  }
  const installs = (calls: { argv: string[] }[]) => calls.filter((c) => c.argv.includes('install')).map((c) => c.argv.join(' '));

  it('ambient mode over a sidecar install reinstalls with the ambient profile', async () => {
    const fake = installedWorld({ ambientIstiod: false });
    await runCli(['install-istio'], { env: { ...env, CACHE_DIR: await cacheWithCa('lab') }, runner: fake.runner });
    assert.equal(installs(fake.calls).length, 1);
    assert.match(installs(fake.calls)[0], / install --set profile=ambient /);
  });

  it('an ambient install in ambient mode is left as it is; in sidecar mode it is reinstalled with the demo profile', async () => {
    const same = installedWorld({ ambientIstiod: true });
    await runCli(['install-istio'], { env: { ...env, CACHE_DIR: await cacheWithCa('lab') }, runner: same.runner });
    assert.deepEqual(installs(same.calls), []);
    const other = installedWorld({ ambientIstiod: true });
    const sidecar = { ...env, ISTIO_MODE: 'sidecar', CACHE_DIR: await cacheWithCa('lab') };
    await runCli(['install-istio'], { env: sidecar, runner: other.runner });
    assert.match(installs(other.calls)[0] ?? '', / install --set profile=demo /);
  });

  it("Gateway API CRDs already there (someone else's, another version) are left as they are", async () => {
    const fake = installedWorld({ ambientIstiod: true });
    const r = await runCli(['install-istio'], { env: { ...env, CACHE_DIR: await cacheWithCa('lab') }, runner: fake.runner });
    assert.ok(!fake.calls.some((c) => c.argv.includes('--server-side')), 'nothing applied');
    const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
    assert.match(log, /skip: Gateway API v1\.5\.1 is installed \(not by fun-with-istio: left as it is\)/);
  });

  it('a Gateway API file that is not the pinned release is refused before anything is applied', async () => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const fake = fakeRunner((argv, input, query) => {
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    const file = path.join(tmpDir('fwi-crds-'), 'standard-install.yaml');
    writeFileSync(
      file,
      'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gateways.gateway.networking.k8s.io\n',
    );
    const r = await runCli(['install-istio'], {
      env: { ...env, GATEWAY_API_CRDS: file, CACHE_DIR: await cacheWithCa('lab') },
      runner: fake.runner,
    });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /is not Gateway API v1\.6\.0 \(standard-install\.yaml\): its 1 objects digest to [0-9a-f]{12}, expected aa2831bdf44a/,
    );
    assert.ok(
      !fake.calls.some((c) => c.argv.includes('--server-side') || c.argv.includes('install')),
      'nothing applied, Istio not installed',
    );
  });
});
