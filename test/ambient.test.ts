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
import { gunzipSync } from 'node:zlib';
import { loadConfig, pins } from '../tasks/config.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import { parseManifests, readManifests } from '../tasks/lib/kube/manifests.ts';
import { asks, cacheWithCa, fakeRunner, jsonpathOf, nodesJson, type Reply, runCli, tmpDir } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const pageOf = (file: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', 'bookinfo', file), 'utf8');
const page = pageOf('reviews-v1.html');
/** The pages the gateway serves, in turn (the ambient-split world sets them); v1's page by default. */
let served: string[] = [page];
let pagesServed = 0;
const server = createServer((_req, res) => res.end(served[pagesServed++ % served.length]));
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
const oursLabel = { 'app.kubernetes.io/managed-by': 'fun-with-istio' };
const availableStatus = { conditions: [{ type: 'Available', status: 'True' }] };
const apps = ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'];

/** How the world is wrong, each in one way; the default is a cluster where istio.io's steps work. */
interface World {
  /** The node agents' readiness as `name=ready/wanted`. */
  agents?: string;
  gatewayApi?: string;
  injectionLabel?: boolean;
  /** Pods that come back with a new UID (recreated) once the namespace is labelled. */
  recreated?: string[];
  /** Pods the CNI agent never marks as redirected. */
  unredirected?: string[];
  runtime?: string;
  /** Bookinfo's pods gone once the namespace is labelled (deleted by someone meanwhile). */
  goneAfterLabel?: boolean;
  /** A Gateway bookinfo-gateway already there, without the ClusterIP annotation. */
  gatewayWithoutAnnotation?: boolean;
}

function ambientCluster(w: World = {}) {
  const model = new DryRunCluster(modelConfig, 'fresh');
  let labelled = false;
  const pods = () =>
    JSON.stringify({
      items: (labelled && w.goneAfterLabel ? [] : apps).map((name) => ({
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
    if (jsonpathOf(query).includes('numberReady')) return { stdout: w.agents ?? 'ztunnel=1/1 istio-cni-node=1/1 ' };
    if (jsonpathOf(query).includes('bundle-version'))
      return { stdout: w.gatewayApi ?? 'gateways.gateway.networking.k8s.io v1.6.0' };
    if (w.injectionLabel && asks(query, 'get', { kind: 'namespace', name: 'bookinfo' }))
      return {
        stdout: JSON.stringify({ kind: 'Namespace', metadata: { name: 'bookinfo', labels: { 'istio-injection': 'enabled' } } }),
      };
    if (asks(query, 'list', { kind: 'pods', namespace: 'bookinfo' })) return { stdout: pods() };
    if (
      w.gatewayWithoutAnnotation &&
      asks(query, 'get', { kind: 'gateways.gateway.networking.k8s.io', name: 'bookinfo-gateway' })
    )
      return { stdout: JSON.stringify({ kind: 'Gateway', metadata: { name: 'bookinfo-gateway', annotations: {} } }) };
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
      'label namespace bookinfo istio.io/dataplane-mode=ambient --overwrite',
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

  it('ztunnel or the CNI agent not ready on every node: refused before anything is deployed', async () => {
    for (const [agents, named] of [
      ['ztunnel=0/1 istio-cni-node=1/1 ', 'ztunnel'],
      ['ztunnel=1/1 istio-cni-node=1/2 ', 'istio-cni-node'],
      ['ztunnel=1/1 ', 'istio-cni-node'],
      ['ztunnel=0/0 istio-cni-node=1/1 ', 'ztunnel'],
    ]) {
      const r = await run({ agents });
      assert.equal(r.code, 1, agents);
      const step = 'Check the ambient data plane runs \\(ztunnel and the CNI agent on every node\\)';
      assert.match(
        r.err,
        new RegExp(`^error: ${step}: not ready on every node in istio-system \\(context lab\\): ${named} \\(log:`, 'm'),
      );
      assert.match(r.err, /suggestion: run `ISTIO_MODE=ambient npm run install-istio` first/);
      assert.deepEqual(applied(r.calls), []);
    }
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
    assert.match(
      r.err,
      /^error: Check bookinfo is not on the sidecar track: namespace bookinfo has istio-injection=enabled: it holds the sidecar track's Bookinfo/m,
    );
    assert.match(r.err, /suggestion: run `npm run teardown` first, or set ISTIO_MODE=sidecar/);
    assert.deepEqual(applied(r.calls), []);
  });

  it('a pod recreated on joining the mesh fails the step, naming it', async () => {
    const r = await run({ recreated: ['ratings-v1'] });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Prove the CNI agent redirected every Bookinfo pod to ztunnel, none restarted: pods changed on joining the mesh: ratings-v1-abc \(log:/m,
    );
  });

  it('a pod the CNI agent never redirected fails after the wait, naming it and where to look', async () => {
    const r = await run({ unredirected: ['reviews-v2'] });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Prove the CNI agent redirected every Bookinfo pod to ztunnel, none restarted: not redirected to ztunnel \(no ambient\.istio\.io\/redirection=enabled\): reviews-v2-abc \(log:/m,
    );
    assert.match(r.err, /logs daemonset\/istio-cni-node/);
    assert.ok(!r.calls.some((c) => c.includes('port-forward')), 'the page is not asked for');
  });

  it('no pods left to redirect is no proof of redirection', async () => {
    const r = await run({ goneAfterLabel: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /redirected every Bookinfo pod to ztunnel, none restarted: no Bookinfo pods in bookinfo/);
  });

  it('where no node runs containers it says so and looks at nothing: no wait for the CNI agent, no page', async () => {
    const r = await run({ runtime: 'kwok://v0.8.0', unredirected: apps });
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.calls.some((c) => c.includes('port-forward')), 'no page asked for');
  });
});

describe('install-istio and the mode', () => {
  /** An istiod of the pinned version, from the ambient profile (its env) or not; the Gateway API CRDs someone else's. */
  function installedWorld(o: { ambientIstiod: boolean; crdsOurs?: boolean; namespaces?: object[] }) {
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
      // What istioctl install makes last: the install was not cut short.
      if (asks(query, 'get', { kind: 'mutatingwebhookconfiguration', name: 'istio-revision-tag-default' }))
        return {
          stdout: JSON.stringify({ kind: 'MutatingWebhookConfiguration', metadata: { name: 'istio-revision-tag-default' } }),
        };
      if (o.namespaces && asks(query, 'list', { kind: 'namespace' })) return { stdout: JSON.stringify({ items: o.namespaces }) };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
  }
  const labelled = (name: string, labels: Record<string, string>) => ({ kind: 'Namespace', metadata: { name, labels } });

  it('a switch to ambient under the sidecar track’s apps is refused before istioctl runs, naming them', async () => {
    const fake = installedWorld({
      ambientIstiod: false,
      namespaces: [labelled('bookinfo', { 'istio-injection': 'enabled' }), labelled('default', {})],
    });
    const r = await runCli(['install-istio'], { env: { ...env, CACHE_DIR: await cacheWithCa('lab') }, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Install Istio: namespace bookinfo is on the sidecar track, and the ambient profile has no ingress gateway, which the sidecar track reaches them through: run `npm run teardown` first, or keep ISTIO_MODE=sidecar/m,
    );
    assert.deepEqual(installs(fake.calls), []);
  });

  it('a switch to sidecar under enrolled namespaces is refused the same way', async () => {
    const fake = installedWorld({
      ambientIstiod: true,
      namespaces: [
        labelled('bookinfo', { 'istio.io/dataplane-mode': 'ambient' }),
        labelled('shop', { 'istio.io/dataplane-mode': 'ambient' }),
      ],
    });
    const sidecar = { ...env, ISTIO_MODE: 'sidecar', CACHE_DIR: await cacheWithCa('lab') };
    const r = await runCli(['install-istio'], { env: sidecar, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /namespace bookinfo, shop are on the ambient track, and the demo profile has no ztunnel, which carries their traffic: run `npm run teardown` first, or keep ISTIO_MODE=ambient/,
    );
    assert.deepEqual(installs(fake.calls), []);
  });

  it('a namespace labelled for neither mode does not stop a switch', async () => {
    const fake = installedWorld({
      ambientIstiod: false,
      namespaces: [labelled('bookinfo', { 'istio.io/dataplane-mode': 'none' })],
    });
    await runCli(['install-istio'], { env: { ...env, CACHE_DIR: await cacheWithCa('lab') }, runner: fake.runner });
    assert.equal(installs(fake.calls).length, 1);
  });

  it('the tool’s own Gateway API of another version is brought to the pin', async () => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const crds = path.join(tmpDir('fwi-crds-'), 'standard-install.yaml');
    writeFileSync(
      crds,
      gunzipSync(readFileSync(path.join(import.meta.dirname, 'fixtures', 'gateway-api', 'standard-install.yaml.gz'))),
    );
    const old = {
      kind: 'CustomResourceDefinition',
      metadata: {
        name: 'gateways.gateway.networking.k8s.io',
        labels: oursLabel,
        annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.5.1' },
      },
    };
    const fake = fakeRunner((argv, input, query) => {
      if (asks(query, 'get', { kind: 'customresourcedefinition', name: old.metadata.name }))
        return { stdout: JSON.stringify(old) };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    await runCli(['install-istio'], {
      env: { ...env, GATEWAY_API_CRDS: crds, CACHE_DIR: await cacheWithCa('lab') },
      runner: fake.runner,
    });
    assert.ok(
      fake.calls.some((c) => c.argv.includes('--server-side')),
      'applied again',
    );
  });
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

/** How the curl client fares, per method: what ztunnel and the waypoint do to its requests. */
type Answers = Record<string, { status: string; exit?: number; body?: string }>;
const exec = (a: { status: string; exit?: number; body?: string }): Reply =>
  a.exit
    ? { code: a.exit, stdout: `HTTP_STATUS=${a.status}`, stderr: `command terminated with exit code ${a.exit}\n` }
    : { stdout: `${a.body ?? '<html>'}HTTP_STATUS=${a.status}` };

/** A cluster where ambient-bookinfo has run: Bookinfo enrolled, a data plane, the curl client answering as `answers` say. */
interface Enrolled {
  enrolled?: boolean;
  waypoint?: string;
  execError?: string;
  usesWaypoint?: boolean;
}
function enrolledCluster(answers: Answers, o: Enrolled = {}) {
  const model = new DryRunCluster({ ...modelConfig, mode: 'ambient' }, 'fresh');
  return fakeRunner((argv, input, query): Reply | undefined => {
    if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson('containerd://2.1.4') };
    if (jsonpathOf(query).includes('dataplane-mode')) return { stdout: o.enrolled === false ? '' : 'ambient' };
    if (jsonpathOf(query).includes('Programmed')) return { stdout: o.waypoint ?? 'True' };
    if (jsonpathOf(query).includes('use-waypoint')) return { stdout: o.usesWaypoint ? 'waypoint' : '' };
    if (argv.includes('exec') && o.execError) return { code: 1, stderr: `${o.execError}\n` };
    if (argv.includes('exec')) return exec(answers[argv[argv.indexOf('-X') + 1]] ?? { status: '000', exit: 7 });
    if (argv.includes('port-forward')) return { hold: true, stdout: `Forwarding from 127.0.0.1:${port} -> 80\n` };
    const a = model.answer({ argv, input, query });
    return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
  });
}
const chapter = async (name: string, answers: Answers, o: Enrolled = {}) => {
  const fake = enrolledCluster(answers, o);
  const r = await runCli([name], { env, runner: fake.runner });
  return { ...r, calls: fake.calls.map((c) => c.argv.join(' ')) };
};
const reset = { status: '000', exit: 56 };
const ok = { status: '200' };
const denied = { status: '403', body: 'RBAC: access denied' };

describe('ambient-l4-policy', () => {
  it('allows only the gateway: the page through it, the client reset (curl exit 56)', async () => {
    const r = await chapter('ambient-l4-policy', { GET: reset });
    assert.equal(r.code, 0, r.err);
    const policy = r.calls.findIndex((c) => c.endsWith('apply -f -') && c.includes('lab'));
    assert.ok(policy >= 0, 'the policy is applied');
  });

  it('the policy in the cluster names the gateway’s identity only', async () => {
    const fake = enrolledCluster({ GET: reset });
    await runCli(['ambient-l4-policy'], { env, runner: fake.runner });
    const sent = fake.calls.find((c) => c.input.includes('kind: AuthorizationPolicy'))?.input ?? '';
    assert.match(sent, /name: productpage-ztunnel/);
    assert.match(sent, /principals:\n\s+- cluster\.local\/ns\/bookinfo\/sa\/bookinfo-gateway-istio\n/);
    assert.match(sent, /app: productpage/);
  });

  it('a client that still gets through fails the check, saying what it got', async () => {
    const r = await chapter('ambient-l4-policy', { GET: ok });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Check the client's connection to productpage is reset \(curl exit 56\): GET http:\/\/productpage:9080\/productpage from curl: HTTP 200, expected the connection reset \(curl exit 56\)/m,
    );
  });

  it('Bookinfo not in the ambient mesh: refused before anything is applied', async () => {
    const r = await chapter('ambient-l4-policy', { GET: reset }, { enrolled: false });
    assert.equal(r.code, 1);
    assert.match(r.err, /namespace bookinfo is not in the ambient mesh/);
    assert.match(r.err, /run `npm run ambient-bookinfo` first/);
    assert.deepEqual(applied(r.calls), []);
  });

  it('kubectl’s own failure to exec is the error, not a refusal', async () => {
    const r = await chapter(
      'ambient-l4-policy',
      {},
      { execError: 'error: unable to upgrade connection: container not found ("curl")' },
    );
    assert.equal(r.code, 1);
    assert.match(r.err, /: kubectl exec into curl: error: unable to upgrade connection: container not found \("curl"\) \(log:/);
  });
});

describe('ambient-waypoint', () => {
  it('deploys the waypoint with istioctl, then GET gets the page and DELETE is denied by RBAC', async () => {
    const r = await chapter('ambient-waypoint', { GET: ok, DELETE: denied }, { waypoint: '' });
    assert.equal(r.code, 0, r.err);
    assert.ok(
      r.calls.some((c) => c.endsWith('waypoint apply -n bookinfo --enroll-namespace --wait --waypoint-timeout 300s')),
      'istioctl waypoint apply, bounded by WAIT_TIMEOUT',
    );
  });

  it('a waypoint already programmed and used is not applied again', async () => {
    const r = await chapter('ambient-waypoint', { GET: ok, DELETE: denied }, { usesWaypoint: true });
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.calls.some((c) => c.includes('waypoint apply')), 'no istioctl waypoint apply');
  });

  it('the L7 policy lets the client GET only, and the L4 policy then admits the waypoint', async () => {
    const fake = enrolledCluster({ GET: ok, DELETE: denied });
    await runCli(['ambient-waypoint'], { env, runner: fake.runner });
    const sent = fake.calls.filter((c) => c.input.includes('kind: AuthorizationPolicy')).map((c) => c.input);
    const l7 = sent.find((t) => t.includes('productpage-waypoint')) ?? assert.fail('no L7 policy');
    assert.match(l7, /targetRefs:\n\s+- kind: Service\n\s+group: ''\n\s+name: productpage/);
    assert.match(l7, /principals:\n\s+- cluster\.local\/ns\/bookinfo\/sa\/curl\n/);
    assert.match(l7, /methods:\n\s+- GET\n/);
    const l4 = sent.find((t) => t.includes('productpage-ztunnel')) ?? assert.fail('no L4 policy');
    assert.match(
      l4,
      /- cluster\.local\/ns\/bookinfo\/sa\/bookinfo-gateway-istio\n\s+- cluster\.local\/ns\/bookinfo\/sa\/waypoint\n/,
    );
  });

  it('a DELETE that gets through, or a GET that is denied, fails the check with what it got', async () => {
    const through = await chapter('ambient-waypoint', { GET: ok, DELETE: ok });
    assert.equal(through.code, 1);
    assert.match(
      through.err,
      /DELETE http:\/\/productpage:9080\/productpage from curl: HTTP 200, expected HTTP 403 \(RBAC: access denied\)/,
    );
    const refused = await chapter('ambient-waypoint', { GET: denied, DELETE: denied });
    assert.equal(refused.code, 1);
    assert.match(
      refused.err,
      /GET http:\/\/productpage:9080\/productpage from curl: HTTP 403 \(RBAC: access denied\), expected HTTP 200/,
    );
  });

  it('a 403 that is not RBAC’s is not taken for the policy', async () => {
    const r = await chapter('ambient-waypoint', { GET: ok, DELETE: { status: '403', body: 'Forbidden' } });
    assert.equal(r.code, 1);
    assert.match(r.err, /HTTP 403 \(Forbidden\), expected HTTP 403 \(RBAC: access denied\)/);
  });
});

describe('ambient-split', () => {
  const v1 = page;
  const v2 = pageOf('reviews-v2.html');
  const v3 = pageOf('reviews-v3.html');
  const serving = async (pages: string[], o: Enrolled = {}) => {
    served = pages;
    pagesServed = 0;
    try {
      return await chapter('ambient-split', {}, o);
    } finally {
      served = [page];
    }
  };

  it('counts about 10% black stars (v2), the rest without stars (v1)', async () => {
    const r = await serving([v1, v1, v1, v1, v2, v1, v1, v1, v1, v1]);
    assert.equal(r.code, 0, r.err);
    const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
    assert.match(log, /black stars on 10 of 100 pages \(none 90, black 10\): within 10 points of 10%/);
  });

  it('no v2 page at all fails: a split that never sends to v2 is not 90/10', async () => {
    const r = await serving([v1]);
    assert.equal(r.code, 1);
    assert.match(r.err, /expected 10% ± 10 points of pages with black stars, saw black stars on 0 of 300 pages \(none 300\)/);
  });

  it('a page from v3 fails at once, naming what was seen', async () => {
    const r = await serving([v1, v2, v1, v1, v3, v1, v1, v1, v1, v1]);
    assert.equal(r.code, 1);
    assert.match(r.err, /expected only none and black pages, saw .*red 10/);
  });

  it('half of the pages from v2 is outside the band', async () => {
    const r = await serving([v1, v2]);
    assert.equal(r.code, 1);
    assert.match(r.err, /expected 10% ± 10 points of pages with black stars, saw black stars on 150 of 300 pages/);
  });

  it('without a programmed waypoint it is refused before the route is applied', async () => {
    const r = await serving([v1], { waypoint: 'False' });
    assert.equal(r.code, 1);
    assert.match(r.err, /no programmed waypoint waypoint in bookinfo/);
    assert.match(r.err, /run `npm run ambient-waypoint` first/);
    assert.deepEqual(applied(r.calls), []);
  });
});

describe('the Gateway API CRDs, installed when missing', () => {
  const crds = path.join(tmpDir('fwi-crds-'), 'standard-install.yaml');
  writeFileSync(
    crds,
    gunzipSync(readFileSync(path.join(import.meta.dirname, 'fixtures', 'gateway-api', 'standard-install.yaml.gz'))),
  );

  it('applies the verified release server-side, every object labelled the tool’s, then waits until its CRDs are Established', async () => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const fake = fakeRunner((argv, input, query) => {
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    await runCli(['install-istio'], {
      env: { ...env, GATEWAY_API_CRDS: crds, CACHE_DIR: await cacheWithCa('lab') },
      runner: fake.runner,
    });
    const at = fake.calls.findIndex((c) => c.argv.includes('--server-side'));
    const sent = fake.calls[at] ?? assert.fail('nothing applied server-side');
    assert.deepEqual(sent.argv.slice(-4), ['apply', '-f', '-', '--server-side']);
    const docs = parseManifests(sent.input, 'stdin');
    assert.equal(docs.length, 12);
    for (const d of docs)
      assert.equal(d.metadata?.labels?.['app.kubernetes.io/managed-by'], 'fun-with-istio', `${d.kind}/${d.metadata?.name}`);
    assert.match(
      fake.calls[at + 1]?.argv.join(' ') ?? '',
      /wait customresourcedefinition --for=condition=Established -l app\.kubernetes\.io\/managed-by=fun-with-istio --timeout=300s$/,
    );
    const install = fake.calls.findIndex((c) => c.argv.includes('install'));
    assert.ok(install > at, 'before Istio, so istiod finds them when it starts');
  });

  it('in sidecar mode there is no such step', async () => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const fake = fakeRunner((argv, input, query) => {
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    const sidecar = { ...env, ISTIO_MODE: 'sidecar', GATEWAY_API_CRDS: crds, CACHE_DIR: await cacheWithCa('lab') };
    await runCli(['install-istio'], { env: sidecar, runner: fake.runner });
    assert.ok(
      !fake.calls.some((c) => c.argv.join(' ').includes('customresourcedefinition')),
      'no Gateway API question or change',
    );
  });
});

/** Bookinfo's pods, ready without a sidecar. */
const readyPods = JSON.stringify({
  items: apps.map((name) => ({
    metadata: { name: `${name}-abc`, uid: `uid-${name}` },
    spec: { containers: [{ name: 'app' }] },
    status: { containerStatuses: [{ name: 'app', ready: true }] },
  })),
});

describe('ambient-bookinfo on a cluster where it has run', () => {
  it('changes nothing: each step says why', async () => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const fixture = (file: string) => readManifests(path.join(release, 'samples', 'bookinfo', file));
    const objects = [...fixture('platform/kube/bookinfo.yaml'), ...fixture('platform/kube/bookinfo-versions.yaml')];
    const listOf = (kind: string) =>
      JSON.stringify({ items: objects.filter((o) => o.kind === kind).map((o) => ({ kind, metadata: o.metadata })) });
    const namespace = {
      kind: 'Namespace',
      metadata: { name: 'bookinfo', labels: { ...oursLabel, 'istio.io/dataplane-mode': 'ambient' } },
    };
    const gateway = {
      kind: 'Gateway',
      metadata: { name: 'bookinfo-gateway', annotations: { 'networking.istio.io/service-type': 'ClusterIP' } },
      status: { conditions: [{ type: 'Programmed', status: 'True' }] },
    };
    const fake = fakeRunner((argv, input, query): Reply | undefined => {
      if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson('kwok://v0.8.0') };
      if (asks(query, 'get', { kind: 'httproutes.gateway.networking.k8s.io', name: 'bookinfo' }))
        return { stdout: JSON.stringify({ kind: 'HTTPRoute', metadata: { name: 'bookinfo' } }) };
      if (asks(query, 'get', { kind: 'namespace', name: 'bookinfo' })) return { stdout: JSON.stringify(namespace) };
      if (asks(query, 'list', { kind: 'deployment', namespace: 'bookinfo' }))
        return {
          stdout: JSON.stringify({
            items: JSON.parse(listOf('Deployment')).items.map((d: object) => ({ ...d, status: availableStatus })),
          }),
        };
      if (asks(query, 'list', { kind: 'service', namespace: 'bookinfo' })) return { stdout: listOf('Service') };
      if (asks(query, 'get', { kind: 'gateways.gateway.networking.k8s.io', name: 'bookinfo-gateway' }))
        return { stdout: JSON.stringify(gateway) };
      if (asks(query, 'get', { kind: 'httproutes.gateway.networking.k8s.io', name: 'bookinfo' }))
        return { stdout: JSON.stringify({ kind: 'HTTPRoute', metadata: { name: 'bookinfo' } }) };
      if (asks(query, 'list', { kind: 'pods', namespace: 'bookinfo' })) return { stdout: readyPods };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    const r = await runCli(['ambient-bookinfo'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(applied(fake.calls.map((c) => c.argv.join(' '))), []);
    const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
    assert.deepEqual(
      log.split('\n').filter((l) => l.startsWith('# skip:')),
      [
        '# skip: using ISTIO_HOME=' + release,
        '# skip: namespace bookinfo exists',
        '# skip: its 16 Deployments and Services exist',
        '# skip: gateway bookinfo-gateway is Programmed, its route in place',
        '# skip: namespace bookinfo is in the ambient mesh',
      ],
    );
  });

  it('a Gateway without the ClusterIP annotation (applied by hand, say) is applied again', async () => {
    const r = await run({ gatewayWithoutAnnotation: true });
    assert.ok(
      r.calls.some((c) => c.includes('wait gateways.gateway.networking.k8s.io bookinfo-gateway')),
      'the gateway step runs',
    );
  });
});

describe('the two tracks on one cluster, and what is left to the user', () => {
  it("the sidecar track's bookinfo on the ambient track's namespace: refused before anything is applied", async () => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const enrolledNs = {
      kind: 'Namespace',
      metadata: { name: 'bookinfo', labels: { ...oursLabel, 'istio.io/dataplane-mode': 'ambient' } },
    };
    const fake = fakeRunner((argv, input, query) => {
      if (asks(query, 'get', { kind: 'namespace', name: 'bookinfo' })) return { stdout: JSON.stringify(enrolledNs) };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    const r = await runCli(['bookinfo'], { env: { ...env, ISTIO_MODE: 'sidecar' }, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Check bookinfo is not on the ambient track: namespace bookinfo has istio\.io\/dataplane-mode=ambient: it holds the ambient track's Bookinfo/m,
    );
    assert.deepEqual(applied(fake.calls.map((c) => c.argv.join(' '))), []);
  });

  it('a Gateway API CRD without its bundle version still counts as installed, of an unknown version', async () => {
    const r = await run({ gatewayApi: 'gateways.gateway.networking.k8s.io ' });
    assert.equal(r.code, 0, r.err);
  });

  it('after ambient-waypoint, ambient-l4-policy has nothing left to do: it does not put back the gateway-only policy', async () => {
    const r = await chapter('ambient-l4-policy', { GET: ok }, { usesWaypoint: true });
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.calls.some((c) => c.includes('AuthorizationPolicy') || / exec /.test(c)), 'no policy applied, no request');
    assert.ok(!r.calls.some((c) => c.endsWith('apply -f -') && c.includes('authorizationpolicy')), 'no policy applied');
    const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
    assert.equal(
      log.split('\n').filter((l) => l.includes('skip: bookinfo goes through its waypoint now')).length,
      2,
      'the policy and its check skip, saying why',
    );
  });

  it('GATEWAY_API_CRDS takes ~ for the home directory', () => {
    const home = tmpDir('fwi-home-');
    writeFileSync(path.join(home, 'crds.yaml'), '');
    const c = loadConfig({ env: { HOME: home, GATEWAY_API_CRDS: '~/crds.yaml' }, envFile: '/nonexistent/.env' });
    assert.deepEqual(c.gatewayApiCrds, { kind: 'given', file: path.join(home, 'crds.yaml') });
  });
});

describe('teardown of the Gateway API CRDs', () => {
  const ourCrds = ['gateways', 'httproutes', 'gatewayclasses'].map(
    (p) => `customresourcedefinition.apiextensions.k8s.io/${p}.gateway.networking.k8s.io`,
  );
  const teardownWith = async (left: object[]) => {
    const model = new DryRunCluster({ ...modelConfig, mode: 'ambient' }, 'fresh');
    const fake = fakeRunner((argv, input, query) => {
      if (asks(query, 'names', { kind: 'customresourcedefinition' })) return { stdout: `${ourCrds.join('\n')}\n` };
      if (argv.includes('-A') && argv.some((a) => a.includes('gateways.gateway.networking.k8s.io')))
        return { stdout: JSON.stringify({ items: left }) };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], { env, runner: fake.runner });
    return {
      ...r,
      deletes: fake.calls.map((c) => c.argv.join(' ')).filter((c) => c.includes(' delete ') && c.includes('gateway.networking')),
    };
  };

  it('deletes them when only the GatewayClasses istiod made are left', async () => {
    const istios = ['istio', 'istio-waypoint'].map((name) => ({
      kind: 'GatewayClass',
      metadata: { name },
      spec: { controllerName: `istio.io/${name === 'istio' ? 'gateway' : 'mesh'}-controller` },
    }));
    const r = await teardownWith(istios);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.deletes.length, 1);
    assert.match(
      r.deletes[0],
      /delete customresourcedefinition\/gateways\.gateway\.networking\.k8s\.io customresourcedefinition\/httproutes/,
    );
  });

  it("leaves them while others' objects use them, naming those", async () => {
    const theirs = [
      { kind: 'HTTPRoute', metadata: { name: 'shop', namespace: 'team-a' } },
      {
        kind: 'GatewayClass',
        metadata: { name: 'envoy' },
        spec: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
      },
    ];
    const r = await teardownWith(theirs);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.deletes, []);
    const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
    assert.match(log, /skip: left as they are: deleting them would delete HTTPRoute\/team-a\/shop, GatewayClass\/envoy/);
  });
});

describe('room on the nodes of a cluster of the user’s (ambient mode)', () => {
  const withNodes = (allocatable: { cpu: string; memory: string }[]) => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    return fakeRunner((argv, input, query) => {
      if (asks(query, 'list', { kind: 'nodes' }))
        return {
          stdout: JSON.stringify({
            items: allocatable.map((a, i) => ({
              kind: 'Node',
              metadata: { name: `n${i}` },
              status: { allocatable: a, nodeInfo: { containerRuntimeVersion: 'containerd://2' } },
            })),
          }),
        };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
  };

  it('too little is refused before anything is installed, saying what there is and what is needed', async () => {
    const fake = withNodes([{ cpu: '2', memory: '7865364Ki' }]);
    const r = await runCli(['install-istio'], { env: { ...env, CACHE_DIR: await cacheWithCa('lab') }, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /context lab: 1 node\(s\) with 2 CPUs and 7\.5 GiB allocatable; istiod, ztunnel and the CNI agent with the addons need at least 4 CPUs and 8 GiB/,
    );
    assert.ok(!fake.calls.some((c) => c.argv.includes('--server-side') || c.argv.includes('install')), 'nothing installed');
  });

  it('counts every node, in any unit', async () => {
    const fake = withNodes([
      { cpu: '1500m', memory: '4Gi' },
      { cpu: '2500m', memory: '4294967296' },
    ]);
    const r = await runCli(['install-istio'], { env: { ...env, CACHE_DIR: await cacheWithCa('lab') }, runner: fake.runner });
    assert.doesNotMatch(r.err, /need at least/);
  });
});
