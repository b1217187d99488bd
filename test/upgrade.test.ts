// The canary upgrade's start through a scripted cluster: the previous Istio installed with its own istioctl as a
// revision, the tag on it, Bookinfo on the tag, and every check shown failing in a world wrong in exactly its way (Istio
// without a revision, the sidecar track's Bookinfo, a proxy of another revision, version or istiod, a pod without one).
// What the real istiods of both lines do with the same objects is in test/e2e/upgrade.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, pins } from '../tasks/config.ts';
import { discoveryAddressOf, imageVersion, offRevision, proxyOf, revisionOf } from '../tasks/lib/istio/revisions.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import type { Pod } from '../tasks/lib/kube/pods.ts';
import { asks, cacheWithCa, fakeRunner, nodesJson, objectJson, type Reply, runCli, tmpDir } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const page = readFileSync(path.join(import.meta.dirname, 'fixtures', 'bookinfo', 'reviews-v1.html'), 'utf8');
const server = createServer((_req, res) => res.end(page));
let port = 0;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

/** An unpacked previous release, as ISTIO_PREVIOUS_HOME gives one. */
const previousHome = tmpDir('fwi-previous-');
mkdirSync(path.join(previousHome, 'bin'));
writeFileSync(path.join(previousHome, 'bin', 'istioctl'), '');
writeFileSync(path.join(previousHome, 'manifest.yaml'), `version: ${pins.istioPrevious}\n`);
const previousIstioctl = path.join(previousHome, 'bin', 'istioctl');

const env = { ISTIO_HOME: release, ISTIO_PREVIOUS_HOME: previousHome, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' };
const { cluster, addons } = loadConfig({ env: { ...env, CACHE_DIR: tmpDir() }, envFile: '/nonexistent/.env' });
const modelConfig = { kubernetesVersion: pins.kubernetes, istioVersion: pins.istio, cluster, addons };
const revision = '1-30-5';
const apps = ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'];

/** A pod as a revision's injector makes it: a native sidecar of that version, pointed at that revision's istiod. */
function injected(name: string, p: { revision?: string; version?: string; discovery?: string; proxy?: false } = {}): Pod {
  const rev = p.revision ?? revision;
  const proxy = {
    name: 'istio-proxy',
    restartPolicy: 'Always',
    image: `docker.io/istio/proxyv2:${p.version ?? pins.istioPrevious}`,
    env: [{ name: 'PROXY_CONFIG', value: JSON.stringify({ discoveryAddress: p.discovery ?? discoveryAddressOf(rev) }) }],
  };
  return {
    metadata: {
      name,
      annotations: p.proxy === false ? {} : { 'sidecar.istio.io/status': JSON.stringify({ revision: rev }) },
    },
    spec: { initContainers: p.proxy === false ? [] : [proxy], containers: [{ name: 'app' }] },
    status: {
      containerStatuses: [{ name: 'app', ready: true }],
      initContainerStatuses: p.proxy === false ? [] : [{ name: 'istio-proxy', ready: true }],
    },
  } as unknown as Pod;
}

/** How the world is wrong, each in one way; by default a cluster where istio.io's canary steps work. */
interface World {
  /** Deployments in istio-system (by default none before the install). */
  istioDeployments?: string[];
  /** The revision the tag points at (none by default). */
  tag?: string;
  bookinfoLabels?: Record<string, string>;
  /** Bookinfo's pods as injected (by default each as the previous revision injects it). */
  pods?: Pod[];
  gatewayPod?: Pod;
}

const istiod = (name: string, version: string) =>
  objectJson('Deployment', name, {
    spec: { template: { spec: { containers: [{ name: 'discovery', image: `docker.io/istio/pilot:${version}` }] } } },
  });

function upgradeCluster(w: World = {}) {
  const model = new DryRunCluster(modelConfig, 'fresh');
  return fakeRunner((argv, input, query): Reply | undefined => {
    if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson('containerd://2.1.4') };
    if (w.istioDeployments && asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' }))
      return { stdout: `{"items":[${w.istioDeployments.join(',')}]}` };
    if (w.tag && asks(query, 'get', { kind: 'mutatingwebhookconfiguration', name: 'istio-revision-tag-prod-stable' }))
      return {
        stdout: JSON.stringify({ kind: 'MutatingWebhookConfiguration', metadata: { labels: { 'istio.io/rev': w.tag } } }),
      };
    if (w.bookinfoLabels && asks(query, 'get', { kind: 'namespace', name: 'bookinfo' }))
      return { stdout: JSON.stringify({ kind: 'Namespace', metadata: { name: 'bookinfo', labels: w.bookinfoLabels } }) };
    if (asks(query, 'list', { kind: 'pods', namespace: 'bookinfo' }))
      return { stdout: JSON.stringify({ items: w.pods ?? apps.map((a) => injected(`${a}-abc`)) }) };
    if (asks(query, 'list', { kind: 'pods', namespace: 'istio-system' }))
      return { stdout: JSON.stringify({ items: [w.gatewayPod ?? injected('istio-ingressgateway-xyz')] }) };
    if (argv.includes('port-forward')) return { hold: true, stdout: `Forwarding from 127.0.0.1:${port} -> 80\n` };
    const a = model.answer({ argv, input, query });
    return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
  });
}

async function start(w: World = {}, extraEnv: Record<string, string> = {}) {
  const fake = upgradeCluster(w);
  const r = await runCli(['upgrade-start'], {
    env: { ...env, CACHE_DIR: await cacheWithCa('lab'), ...extraEnv },
    runner: fake.runner,
  });
  const calls = fake.calls.map((c) => c.argv.join(' '));
  return { ...r, calls, fake, previous: calls.filter((c) => c.startsWith(previousIstioctl)) };
}

describe('revisions: names and what an injected pod says', () => {
  it('a revision is the version with dashes, without a pre-release part', () => {
    assert.equal(revisionOf('1.30.5'), '1-30-5');
    assert.equal(revisionOf('1.30.0-alpha.9739e10eb9d7'), '1-30-0');
  });

  it('an image names its version, distroless or not', () => {
    assert.equal(imageVersion('docker.io/istio/proxyv2:1.30.5'), '1.30.5');
    assert.equal(imageVersion('docker.io/istio/pilot:1.30.5-distroless'), '1.30.5');
    assert.equal(imageVersion(undefined), '');
  });

  it('a pod’s proxy: its revision, version and istiod; a pod without one has none; bad JSON reads as nothing', () => {
    assert.deepEqual(proxyOf(injected('a')), {
      revision,
      version: pins.istioPrevious,
      discoveryAddress: 'istiod-1-30-5.istio-system.svc:15012',
    });
    assert.equal(proxyOf(injected('b', { proxy: false })), undefined);
    const broken = injected('c');
    broken.metadata.annotations = { 'sidecar.istio.io/status': '{not json' };
    assert.equal(proxyOf(broken)?.revision, '');
  });

  it('a gateway istioctl rendered (not injected): its revision label and its CA address', () => {
    const gateway = {
      metadata: { name: 'istio-ingressgateway-1', labels: { 'istio.io/rev': '1-30-0' } },
      spec: {
        containers: [
          {
            name: 'istio-proxy',
            image: 'docker.io/istio/proxyv2:1.30.0-alpha.9739e10eb9d7',
            env: [{ name: 'CA_ADDR', value: 'istiod-1-30-0.istio-system.svc:15012' }],
          },
        ],
      },
    } as unknown as Pod;
    assert.deepEqual(proxyOf(gateway), {
      revision: '1-30-0',
      version: '1.30.0-alpha.9739e10eb9d7',
      discoveryAddress: 'istiod-1-30-0.istio-system.svc:15012',
    });
  });

  it('pods off a revision: each named with what differs; one without a proxy says so; those on it are not named', () => {
    const pods = [injected('a'), injected('b', { version: '1.30.4', discovery: '' }), injected('c', { proxy: false })];
    assert.deepEqual(offRevision(pods, revision, pins.istioPrevious), [
      'b: version 1.30.4, discoveryAddress (none)',
      'c: no istio-proxy',
    ]);
  });
});

describe('upgrade-start', () => {
  it('installs the previous Istio with its own istioctl as a revision, tags it, and puts Bookinfo on the tag', async () => {
    const r = await start();
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      r.previous.map((c) => c.slice(previousIstioctl.length + 1)),
      [
        `--context lab install --set profile=demo --set meshConfig.enableTracing=true --set 'meshConfig.extensionProviders[0].name=zipkin' --set 'meshConfig.extensionProviders[0].zipkin.service=zipkin.istio-system.svc.cluster.local' --set 'meshConfig.extensionProviders[0].zipkin.port=9411' --set revision=1-30-5 --readiness-timeout 300s -y`.replace(
          /'/g,
          '',
        ),
      ],
    );
    assert.ok(
      r.calls.includes(
        `${path.join(release, 'bin', 'istioctl')} --context lab tag set prod-stable --revision 1-30-5 --overwrite`,
      ),
      'the tag set with the pinned istioctl (as every tag move is)',
    );
    const namespace = r.fake.calls.find((c) => c.input.includes('kind: Namespace') && c.input.includes('name: bookinfo'));
    assert.match(namespace?.input ?? '', /istio\.io\/rev: prod-stable/);
    assert.doesNotMatch(namespace?.input ?? '', /istio-injection/);
    const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
    assert.match(log, /# shown: 7 proxies: revision 1-30-5, Istio 1\.30\.5, istiod-1-30-5\.istio-system\.svc:15012/);
  });

  it('a re-run with the revision, the tag and Bookinfo in place installs and tags nothing', async () => {
    const r = await start({
      istioDeployments: [istiod('istiod-1-30-5', '1.30.5')],
      tag: revision,
      bookinfoLabels: { 'istio.io/rev': 'prod-stable', 'app.kubernetes.io/managed-by': 'fun-with-istio' },
    });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.previous, []);
  });

  it('a re-run after the tag moved on (upgrade-switch ran): refused before anything changes, saying how to go on', async () => {
    const r = await start({ istioDeployments: [istiod('istiod-1-30-5', '1.30.5')], tag: '1-31-7' });
    assert.equal(r.code, 1);
    assert.match(r.err, /the revision tag prod-stable points at revision 1-31-7, not at the previous revision 1-30-5/);
    assert.match(r.err, /go on with the upgrade chapter after the last one you ran, or start over: `npm run teardown`/);
    assert.ok(!r.calls.some((c) => c.includes(' tag set ') || / (apply|create|install) /.test(c)), r.calls.join('\n'));
  });

  it('a re-run once the new revision is installed (upgrade-canary ran): refused the same way, the tag where it was', async () => {
    const r = await start({
      istioDeployments: [istiod('istiod-1-30-5', '1.30.5'), istiod('istiod-1-31-1', pins.istio)],
      tag: revision,
    });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      new RegExp(`the upgrade is past its start: istiod-1-31-1 \\(Istio ${pins.istio.replaceAll('.', '\\.')}\\) is installed`),
    );
    assert.ok(!r.calls.some((c) => / (apply|create|install) /.test(c)), r.calls.join('\n'));
  });

  it('Istio installed without a revision: refused before anything is installed, saying where to start', async () => {
    const r = await start({ istioDeployments: [istiod('istiod', '1.31.1')] });
    assert.equal(r.code, 1);
    assert.match(r.err, /Istio 1\.31\.1 is installed without a revision \(by `npm run all` or install-istio\)/);
    assert.match(r.err, /run `npm run teardown` first/);
    assert.deepEqual(r.previous, []);
  });

  it('the sidecar track’s Bookinfo: refused the same way', async () => {
    const r = await start({ bookinfoLabels: { 'istio-injection': 'enabled' } });
    assert.equal(r.code, 1);
    assert.match(r.err, /namespace bookinfo is on the sidecar track \(istio-injection=enabled\)/);
    assert.deepEqual(r.previous, []);
  });

  it('a previous release that cannot start an upgrade to ISTIO_VERSION: refused, naming the setting', async () => {
    const home = tmpDir('fwi-release-');
    mkdirSync(path.join(home, 'bin'));
    writeFileSync(path.join(home, 'bin', 'istioctl'), '');
    // The pinned previous release, not one given: given, it would stop every command (exit 2).
    const r = await start(
      {},
      { ISTIO_HOME: home, ISTIO_PREVIOUS_HOME: '', ISTIO_VERSION: '1.29.4', KUBERNETES_VERSION: 'v1.35.0' },
    );
    assert.equal(r.code, 1);
    assert.match(r.err, /ISTIO_PREVIOUS_VERSION="1\.30\.5": the upgrade goes to Istio 1\.29 from one or two minors before it/);
    assert.match(r.err, /set ISTIO_PREVIOUS_VERSION/);
    assert.deepEqual(r.previous, []);
  });

  for (const [what, pod, says] of [
    [
      'another revision',
      injected('reviews-v2-x', { revision: '1-31-1', discovery: discoveryAddressOf('1-31-1') }),
      'revision 1-31-1, discoveryAddress istiod-1-31-1.istio-system.svc:15012',
    ],
    ['another version', injected('reviews-v2-x', { version: '1.30.4' }), 'version 1.30.4'],
    [
      'another istiod',
      injected('reviews-v2-x', { discovery: 'istiod.istio-system.svc:15012' }),
      'discoveryAddress istiod.istio-system.svc:15012',
    ],
  ] as const)
    it(`a Bookinfo pod with ${what} fails the proof, naming it and what it has`, async () => {
      const r = await start({ pods: [injected('details-v1-a'), pod] });
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        new RegExp(
          `not on revision 1-30-5 \\(Istio 1\\.30\\.5, istiod-1-30-5\\.istio-system\\.svc:15012\\): reviews-v2-x: ${says.replace(/\./g, '\\.')}( \\(log|$)`,
          'm',
        ),
      );
    });

  it('a Bookinfo pod without a proxy is stopped before the proof, at the wait for READY 2/2', async () => {
    const r = await start({ pods: [injected('details-v1-a'), injected('reviews-v2-x', { proxy: false })] });
    assert.equal(r.code, 1);
    assert.match(r.err, /not READY 2\/2 with istio-proxy: reviews-v2-x 1\/1 no sidecar/);
  });

  it('the ingress gateway on another revision fails the proof too', async () => {
    const r = await start({ gatewayPod: injected('istio-ingressgateway-1', { version: '1.31.1' }) });
    assert.equal(r.code, 1);
    assert.match(r.err, /istio-ingressgateway-1: version 1\.31\.1/);
  });
});

describe('teardown after the upgrade chapters', () => {
  it('an Istio of revisions only (no istiod, no default injector) is uninstalled, whatever else runs beside it', async () => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const deployment = (name: string, app: string) => JSON.stringify({ kind: 'Deployment', metadata: { name, labels: { app } } });
    const fake = fakeRunner((argv, input, query): Reply | undefined => {
      if (asks(query, 'get', { kind: 'namespace', name: 'istio-system' }))
        return { stdout: objectJson('Namespace', 'istio-system', { managed: true }) };
      if (asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' }))
        return { stdout: `{"items":[${deployment('grafana', 'grafana')},${deployment('istiod-1-30-5', 'istiod')}]}` };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { ...env, CACHE_DIR: tmpDir() },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(
      fake.calls.some((c) => c.argv.join(' ').endsWith('istioctl --context lab uninstall --purge -y')),
      'istioctl uninstall --purge',
    );
  });

  it('a Deployment in istio-system that is no istiod is not taken for one', async () => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    const fake = fakeRunner((argv, input, query): Reply | undefined => {
      if (asks(query, 'get', { kind: 'namespace', name: 'istio-system' }))
        return { stdout: objectJson('Namespace', 'istio-system', { managed: true }) };
      if (asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' }))
        return {
          stdout: `{"items":[${JSON.stringify({ kind: 'Deployment', metadata: { name: 'grafana', labels: { app: 'grafana' } } })}]}`,
        };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { ...env, CACHE_DIR: tmpDir() },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(!fake.calls.some((c) => c.argv.includes('uninstall')), 'no istioctl uninstall');
  });

  const tagWorld = (o: { tag: boolean; ours: boolean }) => {
    const model = new DryRunCluster(modelConfig, 'fresh');
    return fakeRunner((argv, input, query): Reply | undefined => {
      if (asks(query, 'get', { kind: 'namespace', name: 'istio-system' }))
        return { stdout: objectJson('Namespace', 'istio-system', { managed: o.ours }) };
      if (o.tag && asks(query, 'get', { kind: 'mutatingwebhookconfiguration', name: 'istio-revision-tag-prod-stable' }))
        return { stdout: objectJson('MutatingWebhookConfiguration', 'istio-revision-tag-prod-stable') };
      const a = model.answer({ argv, input, query });
      return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
    });
  };
  const deletesTag = (calls: { argv: string[] }[]) =>
    calls.some(
      (c) =>
        c.argv.join(' ') ===
        'kubectl --context lab delete mutatingwebhookconfiguration istio-revision-tag-prod-stable --ignore-not-found',
    );

  it('removes the revision tag the upgrade chapters set (uninstall --purge leaves it)', async () => {
    const fake = tagWorld({ tag: true, ours: true });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { ...env, CACHE_DIR: tmpDir() },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(deletesTag(fake.calls), 'the tag webhook is deleted');
  });

  it('no tag: nothing to delete, and says so', async () => {
    const fake = tagWorld({ tag: false, ours: true });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { ...env, CACHE_DIR: tmpDir() },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(!deletesTag(fake.calls), 'nothing deleted');
    const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
    assert.match(log, /^# skip: no revision tag prod-stable$/m);
  });

  it('an Istio the tool did not install: its tag is left too', async () => {
    const fake = tagWorld({ tag: true, ours: false });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { ...env, CACHE_DIR: tmpDir() },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(!deletesTag(fake.calls), 'the tag is left');
  });
});
