// Chapter logic through a scripted shell (zx's spawn replaced): the commands each chapter runs on a
// fresh cluster, the skips on a finished one, and the failures. What needs a real cluster is in test/e2e.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { commands } from '../Taskfile.ts';
import { loadConfig, pins } from '../tasks/config.ts';
import { ownNamespacesOf } from '../tasks/lib/cli/runner.ts';
import { ensureCa } from '../tasks/lib/istio/ca.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import type { Query } from '../tasks/lib/run/requests.ts';
import {
  asks,
  dryRunCommands,
  fakeRunner,
  joined,
  jsonpathOf,
  type Reply,
  type Responder,
  runCli,
  tmpDir,
  versionAnswer,
} from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const cache = tmpDir('fwi-chapters-');
const bin = tmpDir('fwi-bin-');
for (const tool of ['minikube', 'kubectl', 'docker']) {
  writeFileSync(path.join(bin, tool), '#!/bin/sh\nexit 99\n');
  chmodSync(path.join(bin, tool), 0o755);
}
const env = { CACHE_DIR: cache, ISTIO_HOME: release, PATH: `${bin}:${process.env.PATH}` };
let rootB64 = '';

const json = (v: unknown) => JSON.stringify(v);
// What minikube v1.38 really prints for a profile that does not exist (captured in test/e2e/audit-output.test.ts).
const missingProfile = {
  code: 85,
  stdout: `${json({ specversion: '1.0', id: 'x', source: 'https://minikube.sigs.k8s.io/', type: 'io.k8s.sigs.minikube.info', datacontenttype: 'application/json', data: { message: 'Profile "fun-with-istio" not found. Run "minikube profile list" to view all profiles.' } })}\n`,
};
const podList = (sidecar: boolean) =>
  json({
    items: [
      {
        metadata: { name: 'sleep-abc' },
        spec: {
          containers: [{ name: 'sleep' }],
          initContainers: sidecar ? [{ name: 'istio-proxy', restartPolicy: 'Always' }] : [],
        },
        status: {
          containerStatuses: [{ name: 'sleep', ready: true }],
          initContainerStatuses: sidecar ? [{ name: 'istio-proxy', ready: true }] : [],
        },
      },
    ],
  });

const { cluster, addons } = loadConfig({ env: {}, envFile: '/nonexistent/.env' });
const modelConfig = { kubernetesVersion: pins.kubernetes, istioVersion: pins.istio, cluster, addons };
const fromModel =
  (model: DryRunCluster): Responder =>
  (argv, input, query) => {
    const a = model.answer({ argv, input, query });
    return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
  };

const webhookJson = (bundled: boolean) =>
  json({
    webhooks: [{ name: 'rev.namespace.sidecar-injector.istio.io', clientConfig: bundled ? { caBundle: rootB64 } : {} }],
  });
const ours = { 'app.kubernetes.io/managed-by': 'fun-with-istio' };
const availableStatus = { conditions: [{ type: 'Available', status: 'True' }] };
const deployment = (name: string, o: { image?: string; managed?: boolean } = {}) => ({
  kind: 'Deployment',
  // istioctl labels Istio's own Deployments with their component; the tool labels the addons as its own.
  metadata: { name, namespace: 'istio-system', labels: o.managed === false ? { 'operator.istio.io/component': 'Pilot' } : ours },
  spec: { template: { spec: { containers: [{ image: o.image ?? `${name}:1` }] } } },
  status: availableStatus,
});

/** The injector's webhook configuration, which istiod fills in with the CA. */
const injectorRef = { kind: 'mutatingwebhookconfiguration', name: 'istio-sidecar-injector' };

/** The dry-run model's fresh cluster, plus pods that gain or lose the sidecar as the commands say. */
function freshAnswers(): Responder {
  const model = fromModel(new DryRunCluster(modelConfig, 'fresh'));
  let sidecar = false;
  // istiod fills in the injector's caBundle some time after `istioctl install`: a wait sees it arrive.
  let injector: 'none' | 'installed' | 'bundled' = 'none';
  return (argv, input, query) => {
    const cmd = argv.join(' ');
    if (cmd.includes('istioctl') && argv.includes('install')) injector = 'installed';
    if (cmd.includes('wait mutatingwebhookconfiguration') && injector === 'installed') injector = 'bundled';
    if (cmd.includes('rollout restart') || cmd.includes('"true"') || cmd.includes('"op":"remove"')) sidecar = true;
    if (cmd.includes('"false"')) sidecar = false;
    if (query?.op === 'list' && query.selector === 'app=sleep') return { stdout: podList(sidecar) };
    // The traffic chapter's proof: what Prometheus and Zipkin answer once the requests went through the mesh.
    if (cmd.includes('get --raw') && cmd.includes('/services/prometheus:9090/'))
      return { stdout: json({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '100'] }] } }) };
    if (cmd.includes('get --raw') && cmd.includes('/services/zipkin:9411/')) return { stdout: json([[{ traceId: 'a1' }]]) };
    if (asks(query, 'get', injectorRef) && injector !== 'none') return { stdout: webhookJson(injector === 'bundled') };
    return model(argv, input, query);
  };
}

/** The dry-run model's finished cluster (`all` has run; the sample deleted, unless kept), with the values it holds. */
function finishedAnswers(o: { sampleKept?: boolean } = {}): Responder {
  const fresh = freshAnswers();
  const model = fromModel(new DryRunCluster(modelConfig, 'finished', ownNamespacesOf(commands)));
  return (argv, input, query) => {
    const cmd = argv.join(' ');
    // The node has every image a fresh run loaded.
    if (cmd.endsWith(' image ls')) return { stdout: `${imagesLoaded.join('\n')}\n` };
    if (asks(query, 'list', { kind: 'namespace' })) return model(argv, input, query);
    if (asks(query, 'get', { kind: 'deployment', name: 'sleep' }))
      return { stdout: o.sampleKept ? json({ kind: 'Deployment', metadata: { name: 'sleep', labels: ours } }) : '' };
    if (asks(query, 'names', { kind: 'deployment' }))
      return { stdout: 'deployment.apps/istiod\ndeployment.apps/prometheus\ndeployment.apps/grafana\ndeployment.apps/zipkin\n' };
    if (jsonpathOf(query) === '{.data.root-cert\\.pem}') return { stdout: rootB64 };
    if (asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' }))
      return {
        stdout: json({
          items: [
            deployment('istiod', { image: 'docker.io/istio/pilot:1.31.1', managed: false }),
            ...['prometheus', 'grafana', 'zipkin'].map((d) => deployment(d)),
          ],
        }),
      };
    if (asks(query, 'list', { kind: 'service', namespace: 'istio-system' }))
      return {
        stdout: json({
          items: ['grafana', 'zipkin'].map((name, i) => ({
            kind: 'Service',
            metadata: { name, labels: ours },
            spec: { type: 'NodePort', ports: [{ nodePort: 31000 + i }] },
          })),
        }),
      };
    if (asks(query, 'get', { kind: 'namespace', name: 'fun-with-istio' }))
      return {
        stdout: json({
          kind: 'Namespace',
          metadata: {
            name: 'fun-with-istio',
            labels: { ...ours, 'istio-injection': 'enabled' },
            annotations: { 'fun-with-istio/injection-verified': '1.31.1', 'fun-with-istio/injection-labelled': 'true' },
          },
        }),
      };
    if (asks(query, 'get', { kind: 'job', name: 'traffic' }))
      return {
        stdout: json({
          kind: 'Job',
          metadata: { name: 'traffic', labels: ours, annotations: { 'fun-with-istio/requests': '100' } },
          status: { succeeded: 1 },
        }),
      };
    if (asks(query, 'get', { kind: 'telemetry', name: 'mesh-default' }))
      return {
        stdout: json({
          kind: 'Telemetry',
          metadata: { name: 'mesh-default', labels: ours },
          spec: { tracing: [{ providers: [{ name: 'zipkin' }], randomSamplingPercentage: 100 }] },
        }),
      };
    if (asks(query, 'get', injectorRef)) return { stdout: webhookJson(true) };
    if (jsonpathOf(query) === '{.data.mesh}')
      return {
        stdout:
          'extensionProviders:\n- name: zipkin\n  zipkin:\n    service: zipkin.istio-system.svc.cluster.local\n    port: 9411\n',
      };
    if (jsonpathOf(query).includes('randomSamplingPercentage}')) return { stdout: 'zipkin 100' };
    if (query?.op === 'list' && query.selector === 'app=sleep') return { stdout: podList(true) };
    // Whether the tool's objects exist and are its own: as a finished cluster has them.
    const owned = query?.op === 'names' || jsonpathOf(query).includes('managed-by}');
    if (owned || (query?.op === 'get' && !query.required) || query?.op === 'profile-status') return model(argv, input, query);
    return fresh(argv, input, query);
  };
}

/** The images a fresh `all` on minikube loads ahead (from its dry run), filled in before the tests run. */
let imagesLoaded: string[] = [];

const mutating = /\b(create|apply|label|patch|annotate|delete|start|install|uninstall|restart)\b/;

describe('chapters on a scripted shell', () => {
  before(async () => {
    const { paths } = await ensureCa(path.join(cache, 'certs'), 'fun-with-istio', 2048);
    rootB64 = readFileSync(paths.rootCert).toString('base64');
    const dry = await runCli(['all', '--dry-run'], { env });
    imagesLoaded =
      dryRunCommands(dry.out)
        .find((a) => a.includes('load'))
        ?.slice(6) ?? [];
  });

  it('the dry-run model answers minikube status for a missing profile as minikube really does', () => {
    const a = new DryRunCluster(modelConfig, 'fresh').answer({ argv: [], query: { op: 'profile-status' } });
    assert.equal(a.exitCode, missingProfile.code);
    const message = (t: string) => (JSON.parse(t.trim()) as { data: { message: string } }).data.message;
    assert.equal(message(a.stdout!), message(missingProfile.stdout));
  });

  for (const chapter of ['minikube', 'webhook-certs', 'install-istio', 'injection', 'addons', 'all']) {
    it(`${chapter}: on a fresh cluster runs exactly what --dry-run lists`, async () => {
      const dry = await runCli([chapter, '--dry-run'], { env, runner: fakeRunner(() => assert.fail('dry-run spawned')).runner });
      assert.equal(dry.code, 0, dry.err);
      const fake = fakeRunner(freshAnswers());
      const real = await runCli([chapter], { env, runner: fake.runner });
      assert.equal(real.code, 0, real.err);
      const expected = dryRunCommands(dry.out);
      // webhook-certs alone skips the caBundle check until Istio exists; the dry run stands for a fresh cluster too.
      // `all` runs branches together (the dry run lists them in turn): the same commands, in another order, and
      // the same changes; a question may be asked again when the other branch changed something in between.
      const lines = (argvs: string[][]) => argvs.map((a) => a.join(' '));
      const actual = lines(fake.calls.map((c) => c.argv));
      if (chapter === 'all') {
        const changes = (l: string[]) => l.filter((c) => mutating.test(c.replace(/--ignore-not-found/g, ''))).sort();
        assert.deepEqual(changes(actual), changes(lines(expected)));
        assert.deepEqual([...new Set(actual)].sort(), [...new Set(lines(expected))].sort());
      } else assert.deepEqual(actual, lines(expected));
      assert.match(real.err, /done: .* \(log: .*\.log\)/);
    });
  }

  it('all on minikube: images ahead that fail to load leave the run done, and say why in the log', async () => {
    const fresh = freshAnswers();
    const fake = fakeRunner((argv, input, query) =>
      argv.includes('load')
        ? { code: 80, stderr: 'X Exiting due to GUEST_IMAGE_LOAD: Failed to load image: save to dir: no route to host\n' }
        : fresh(argv, input, query),
    );
    const r = await runCli(['all'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    const log = readFileSync(/\(log: (.*\.log)\)/.exec(r.err)?.[1] ?? '', 'utf8');
    assert.match(
      log,
      /# images ahead not loaded: Exiting due to GUEST_IMAGE_LOAD: Failed to load image: save to dir: no route to host/,
    );
  });

  it('all on minikube: loads only the images the node lacks, and none when it has them all', async () => {
    const dry = await runCli(['all', '--dry-run'], { env });
    const wanted =
      dryRunCommands(dry.out)
        .find((a) => a.includes('load'))
        ?.slice(6) ?? [];
    assert.ok(wanted.length >= 2, dry.out);
    const runWith = async (present: string[]) => {
      const fresh = freshAnswers();
      const fake = fakeRunner((argv, input, query) =>
        argv.includes('ls') && argv.includes('image') ? { stdout: `${present.join('\n')}\n` } : fresh(argv, input, query),
      );
      assert.equal((await runCli(['all'], { env, runner: fake.runner })).code, 0);
      return fake.calls.find((c) => c.argv.includes('load'))?.argv.slice(6);
    };
    assert.deepEqual(await runWith(wanted.slice(1)), [wanted[0]]);
    assert.equal(await runWith(wanted), undefined);
  });

  it("all on minikube: loads the sidecar image the install's injector will add, besides its workloads' images", async () => {
    // What `istioctl manifest generate` renders for the install: istiod, and the injector's values naming proxyv2.
    const values = JSON.stringify({ global: { hub: 'docker.io/istio', tag: '1.31.1', proxy: { image: 'proxyv2' } } });
    const rendered = [
      'kind: Deployment\nmetadata: {name: istiod}\nspec: {template: {spec: {containers: [{image: docker.io/istio/pilot:1.31.1}]}}}',
      `kind: ConfigMap\nmetadata: {name: istio-sidecar-injector}\ndata:\n  values: '${values}'`,
    ].join('\n---\n');
    const fresh = freshAnswers();
    const fake = fakeRunner((argv, input, query) =>
      argv.includes('manifest') && argv.includes('generate') ? { stdout: `${rendered}\n` } : fresh(argv, input, query),
    );
    assert.equal((await runCli(['all'], { env, runner: fake.runner })).code, 0);
    const loaded = fake.calls.find((c) => c.argv.includes('load'))?.argv ?? [];
    assert.ok(loaded.includes('docker.io/istio/pilot:1.31.1'), `the rendered workload is loaded: ${loaded.join(' ')}`);
    assert.ok(loaded.includes('docker.io/istio/proxyv2:1.31.1'), `the sidecar image is loaded: ${loaded.join(' ')}`);
  });

  it('all: a second run on a finished cluster asks each question once', async () => {
    const fake = fakeRunner(finishedAnswers());
    const r = await runCli(['all'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    // Waits and the traffic proof's polls are not questions: everything else is asked at most once.
    const asked = joined(fake.calls).filter((c) => !/ (wait|rollout status|--raw) /.test(c));
    assert.deepEqual(
      asked.filter((c, i) => asked.indexOf(c) !== i),
      [],
      joined(fake.calls).join('\n'),
    );
    assert.ok(asked.length <= 25, `${asked.length} questions:\n${asked.join('\n')}`);
  });

  it('all: a second run on a finished cluster changes nothing', async () => {
    const fake = fakeRunner(finishedAnswers());
    const r = await runCli(['all'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    const changes = joined(fake.calls).filter((c) => mutating.test(c.replace(/--ignore-not-found/g, '')));
    assert.deepEqual(changes, []);
  });

  it('secrets go through stdin: the key is in no argv, no dry-run line and no log', async () => {
    const fake = fakeRunner(freshAnswers());
    const r = await runCli(['webhook-certs'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    const secret = fake.calls.find((c) => c.input.includes('kind: Secret'))!;
    assert.deepEqual(secret.argv, ['kubectl', '--context', 'fun-with-istio', 'create', '-f', '-']);
    const key = readFileSync(path.join(cache, 'certs', 'fun-with-istio', 'ca-key.pem'), 'utf8');
    assert.ok(secret.input.includes(Buffer.from(key).toString('base64')), 'the Secret sent on stdin holds the CA key');
    const logFile = /log: (\S+\.log)/.exec(r.err)![1];
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /create -f - # stdin: Secret\/cacerts/);
    assert.ok(
      !log.includes('PRIVATE KEY') && !log.includes(Buffer.from(key).toString('base64').slice(0, 40)),
      'no CA key in the log',
    );
  });

  it('an install cut short (istiod there, not the default revision tag istioctl makes last) is run again', async () => {
    const finished = finishedAnswers();
    const fake = fakeRunner((argv, input, query) =>
      asks(query, 'get', { kind: 'mutatingwebhookconfiguration', name: 'istio-revision-tag-default' })
        ? { stdout: '' }
        : finished(argv, input, query),
    );
    const r = await runCli(['install-istio'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.equal(joined(fake.calls).filter((c) => / install --set profile=demo /.test(c)).length, 1);
    const complete = fakeRunner(finishedAnswers());
    assert.equal((await runCli(['install-istio'], { env, runner: complete.runner })).code, 0);
    assert.deepEqual(
      joined(complete.calls).filter((c) => / install --set /.test(c)),
      [],
      'a complete install is left as it is',
    );
  });

  it('a failing command stops the run with exit 1, the step, the reason and the log', async () => {
    const fresh = freshAnswers();
    const fake = fakeRunner((argv, input, query) =>
      argv.includes('install')
        ? { code: 1, stderr: 'Error: failed to install manifests: context deadline exceeded\n' }
        : fresh(argv, input, query),
    );
    const r = await runCli(['install-istio'], { env, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Install Istio 1\.31\.1 \(profile demo, sidecar mode\): istioctl exited with 1: Error: failed to install manifests: context deadline exceeded \(log: .*\)\n$/m,
    );
    assert.ok(!joined(fake.calls).some((c) => c.includes(' wait ')), 'nothing after the failed step ran');
  });

  it('a wait that times out names the step and what it waited for', async () => {
    const fresh = freshAnswers();
    const fake = fakeRunner((argv, input, query) =>
      argv.includes('wait') && argv.includes('operator.istio.io/component')
        ? { code: 1, stderr: 'error: timed out waiting for the condition on deployments/istiod\n' }
        : fresh(argv, input, query),
    );
    const r = await runCli(['install-istio'], { env, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Watch istio-system come up: kubectl exited with 1: error: timed out waiting for the condition on deployments\/istiod \(log: /m,
    );
  });

  it('a sidecar that never arrives fails the injection chapter with a clear reason', async () => {
    const fresh = freshAnswers();
    const fake = fakeRunner((argv, input, query) =>
      argv.includes('pods') ? { stdout: podList(false) } : fresh(argv, input, query),
    );
    const r = await runCli(['injection'], { env, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /error: Verify the pod has istio-proxy and is READY 2\/2: sleep-abc has no istio-proxy: is istiod up and the namespace labelled\?/,
    );
  });

  it('a caBundle that is not our root fails the check', async () => {
    const fresh = freshAnswers();
    const fake = fakeRunner((argv, input, query) =>
      argv.includes('-o') && argv.includes('json') && argv.includes('mutatingwebhookconfiguration')
        ? { stdout: json({ webhooks: [{ name: 'w', clientConfig: { caBundle: Buffer.from('other').toString('base64') } }] }) }
        : fresh(argv, input, query),
    );
    const r = await runCli(['install-istio'], { env, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /istio-sidecar-injector: caBundle of w is not our root CA/);
  });

  it('missing tools are listed with where to get them, before anything runs', async () => {
    const fake = fakeRunner();
    const r = await runCli(['minikube'], { env: { ...env, PATH: tmpDir('fwi-empty-') }, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /missing: minikube \(https:\/\/minikube\.sigs\.k8s\.io\/docs\/start\/\), kubectl \(.*\), docker \(.*\)/);
    assert.equal(fake.calls.length, 0);
  });

  it('a running profile with another Kubernetes is reported, not installed onto', async () => {
    const fresh = freshAnswers();
    const fake = fakeRunner((argv, input, query) => {
      if (query?.op === 'profile-status')
        return { stdout: json({ Name: 'fun-with-istio', Host: 'Running', APIServer: 'Running' }) };
      if (query?.op === 'version' && query.of === 'server') return { stdout: json({ serverVersion: { gitVersion: 'v1.35.0' } }) };
      return fresh(argv, input, query);
    });
    const r = await runCli(['minikube'], { env, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /profile fun-with-istio runs Kubernetes v1\.35\.0, not v1\.36\.3: delete it \(npm run teardown\) or set KUBERNETES_VERSION=v1\.35\.0/,
    );
  });

  it('--verbose shows each command and its output as it runs', async () => {
    const r = await runCli(['minikube', '--verbose'], { env, runner: fakeRunner(freshAnswers()).runner });
    assert.equal(r.code, 0, r.err);
    // On stderr: stdout stays for results (a review found --verbose garbling `kube-inject | kubectl apply`).
    assert.match(r.err, /^\$ kubectl --context fun-with-istio api-versions\nadmissionregistration\.k8s\.io\/v1\napps\/v1$/m);
    assert.doesNotMatch(r.out, /api-versions/);
  });

  it('a minikube older than the pin is refused', async () => {
    const fresh = freshAnswers();
    const fake = fakeRunner((argv, input, query) =>
      argv.at(-1) === '--output=json' ? { stdout: json({ minikubeVersion: 'v1.33.1' }) } : fresh(argv, input, query),
    );
    const r = await runCli(['minikube'], { env, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /minikube v1\.33\.1 is older than the pinned v1\.39\.0/);
  });

  it('an unreachable existing cluster is a clear error', async () => {
    const fake = fakeRunner((argv) =>
      argv.includes('--request-timeout=20s')
        ? { code: 1, stderr: 'Unable to connect to the server: dial tcp 127.0.0.1:6443: connect: connection refused\n' }
        : { stdout: json({ clientVersion: { gitVersion: 'v1.36.3' } }) },
    );
    const r = await runCli(['minikube'], { env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' }, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot reach context lab: Unable to connect to the server: .*connection refused/);
    assert.ok(
      fake.calls.every((c) => c.argv[0] === 'kubectl' && c.argv[1] === '--context' && c.argv[2] === 'lab'),
      'every command is kubectl --context lab',
    );
  });

  it('bad configuration exits 2 before any command', async () => {
    const fake = fakeRunner();
    const r = await runCli(['all'], { env: { ...env, ISTIO_VERSION: 'latest' }, runner: fake.runner });
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: ISTIO_VERSION="latest": expected a release like 1\.31\.1/);
    assert.equal(fake.calls.length, 0);
  });

  it('teardown asks first; without a terminal it needs --yes', async () => {
    const fake = fakeRunner();
    const r = await runCli(['teardown'], { env, runner: fake.runner });
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /teardown needs confirmation: Delete the minikube profile fun-with-istio and everything in it\? Re-run with --yes/,
    );
    assert.equal(fake.calls.length, 0);
  });

  it('teardown --keep-cluster asks about what it removes inside the cluster, naming the context', async () => {
    const fake = fakeRunner();
    const r = await runCli(['teardown', '--keep-cluster'], {
      env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
      runner: fake.runner,
    });
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /teardown needs confirmation: Remove the addons, the sample, Istio and cacerts that fun-with-istio made in context lab\? Re-run with --yes/,
    );
    assert.equal(fake.calls.length, 0);
  });

  it('teardown on a clean cluster is a fast no-op', async () => {
    const fake = fakeRunner(freshAnswers());
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      joined(fake.calls).filter((c) => mutating.test(c.replace(/--ignore-not-found/g, ''))),
      [],
    );
    const minikube = await runCli(['teardown', '--yes'], { env, runner: fakeRunner(freshAnswers()).runner });
    assert.equal(minikube.code, 0, minikube.err);
  });

  it('teardown removes what the tool made, in reverse order', async () => {
    const fake = fakeRunner(finishedAnswers({ sampleKept: true }));
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    const changes = joined(fake.calls).filter((c) => / (delete|uninstall|label|annotate) /.test(c));
    assert.deepEqual(
      changes.map((c) => c.replace(/^\S+\/istioctl/, 'istioctl')),
      [
        // the Istio tasks first (issue 11): the mTLS task's PeerAuthentication, its outside client, Bookinfo
        'kubectl --context lab -n istio-system delete peerauthentication default --ignore-not-found',
        // ... the tool's own namespaces, together: the Istio tasks' and the traffic chapter's (issue 10)
        'kubectl --context lab delete namespace/fun-with-istio-outside namespace/bookinfo namespace/fun-with-istio-traffic --ignore-not-found --wait=true --timeout=300s',
        // tracing (issue 10): the mesh-default Telemetry the addons chapter applied
        'kubectl --context lab -n istio-system delete telemetry mesh-default --ignore-not-found',
        'kubectl --context lab delete -f - --ignore-not-found --wait=true',
        'kubectl --context lab delete -f - --ignore-not-found --wait=true',
        'kubectl --context lab delete -f - --ignore-not-found --wait=true',
        'kubectl --context lab delete -f - --ignore-not-found --wait=true',
        'kubectl --context lab delete namespace fun-with-istio --ignore-not-found --wait=true --timeout=300s',
        'istioctl --context lab uninstall --purge -y',
        'kubectl --context lab delete mutatingwebhookconfiguration istio-revision-tag-prod-stable --ignore-not-found',
        'kubectl --context lab -n istio-system delete secret cacerts --ignore-not-found',
        'kubectl --context lab delete namespace istio-system --ignore-not-found --wait=true --timeout=300s',
      ],
    );
    const inputs = fake.calls
      .filter((c) => c.argv.includes('delete') && c.argv.includes('-'))
      .map((c) => /name: (\w+)/.exec(c.input.split('kind: Deployment')[1] ?? '')?.[1]);
    assert.deepEqual(inputs, ['zipkin', 'grafana', 'prometheus', 'sleep']);
  });

  it("teardown deletes no namespace it did not make: a user's bookinfo, traffic, outside, sample and istio-system", async () => {
    // The finished cluster, except that every namespace is someone else's: the same names, without the tool's label.
    const finished = finishedAnswers({ sampleKept: true });
    type Labelled = { metadata?: { labels?: Record<string, string> } };
    const unlabel = (o: Labelled) => {
      if (o.metadata?.labels) delete o.metadata.labels['app.kubernetes.io/managed-by'];
      return o;
    };
    const fake = fakeRunner((argv, input, query) => {
      const reply = finished(argv, input, query);
      if (!/ get namespace\b/.test(argv.join(' ')) || !reply?.stdout?.trim().startsWith('{')) return reply;
      const o = JSON.parse(reply.stdout) as Labelled & { items?: Labelled[] };
      return { ...reply, stdout: json(o.items ? { ...o, items: o.items.map(unlabel) } : unlabel(o)) };
    });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    const calls = joined(fake.calls);
    assert.ok(
      calls.some((c) => / get namespace -o json$/.test(c)),
      'the namespaces were looked at (the world above was asked)',
    );
    assert.deepEqual(
      calls.filter((c) => / delete namespace|uninstall/.test(c)),
      [],
    );
  });

  it("never leaves an existing cluster's own Istio changed", async () => {
    const finished = finishedAnswers();
    const theirs = json({ kind: 'Namespace', metadata: { name: 'istio-system' } });
    const fake = fakeRunner((argv, input, query) =>
      asks(query, 'get', { kind: 'namespace', name: 'istio-system' }) ? { stdout: theirs } : finished(argv, input, query),
    );
    const r = await runCli(['webhook-certs'], {
      env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'prod' },
      runner: fake.runner,
    });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /namespace istio-system in context prod was not made by fun-with-istio: refusing to change an Istio it did not install/,
    );
  });
});

describe('what a chapter owns', () => {
  it("each namespace a chapter creates is istio-system, the sample namespace, or its own (all: any chapter's)", async () => {
    const release = path.join(import.meta.dirname, 'fixtures', 'release');
    const cluster = { CACHE_DIR: '/nonexistent/cache', CLUSTER: 'existing', KUBE_CONTEXT: 'lab', ISTIO_HOME: release };
    for (const c of commands.filter((c) => c.kind === 'tasks' && c.name !== 'teardown')) {
      const mode: Record<string, string> = c.track?.mode === 'ambient' ? { ISTIO_MODE: 'ambient' } : {};
      const r = await runCli([c.name, '--dry-run'], { env: { ...cluster, ...mode } });
      assert.equal(r.code, 0, `${c.name}: ${r.err}`);
      const created = [...r.out.matchAll(/ create -f - # stdin: Namespace\/(\S+)$/gm)].map((m) => m[1]);
      // `all` runs the chapters' steps: it creates what they own. Any other chapter creates only what it owns.
      const owned = c.name === 'all' ? ownNamespacesOf(commands) : (c.owns?.namespaces ?? []);
      const undeclared = created.filter((n) => !['istio-system', 'fun-with-istio', ...owned].includes(n));
      assert.deepEqual(undeclared, [], `${c.name} creates namespaces it does not own (teardown would leave them)`);
      for (const n of c.owns?.namespaces ?? []) assert.ok(created.includes(n), `${c.name} owns ${n} but does not create it`);
    }
  });
});

describe("a chapter's own namespace that someone else made", () => {
  it('is refused with its name, and nothing is applied into it', async () => {
    const finished = finishedAnswers();
    const theirs = json({ kind: 'Namespace', metadata: { name: 'fun-with-istio-traffic' } });
    const fake = fakeRunner((argv, input, query) =>
      asks(query, 'get', { kind: 'namespace', name: 'fun-with-istio-traffic' })
        ? { stdout: theirs }
        : finished(argv, input, query),
    );
    const r = await runCli(['traffic'], { env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' }, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: .*: namespace fun-with-istio-traffic was not made by fun-with-istio: refusing to change it/m);
    assert.deepEqual(
      fake.calls.filter((c) => / (apply|create) /.test(c.argv.join(' ')) && c.input.includes('fun-with-istio-traffic')),
      [],
    );
  });
});

describe('kube-inject (manual proxy injection)', () => {
  it('feeds istioctl kube-inject the injector config read from the cluster and prints its output', async () => {
    const fake = fakeRunner((argv, _input, query) => {
      if (asks(query, 'get', { kind: 'configmap', name: 'istio-sidecar-injector' }))
        return { stdout: json({ data: { config: 'policy: enabled\n', values: '{"global":{}}' } }) };
      if (asks(query, 'get', { kind: 'configmap', name: 'istio' }))
        return { stdout: json({ data: { mesh: 'defaultConfig: {}\n' } }) };
      if (argv.includes('kube-inject')) return { stdout: 'kind: Deployment # injected\n' };
      return versionAnswer(query);
    });
    const r = await runCli(['kube-inject', 'manifests/sleep.yaml'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    const inject = fake.calls.at(-1)!.argv;
    assert.deepEqual(inject.slice(1, 4), ['--context', 'fun-with-istio', 'kube-inject']);
    const file = (flag: string) => readFileSync(inject[inject.indexOf(flag) + 1], 'utf8');
    assert.deepEqual(
      [file('--injectConfigFile'), file('--valuesFile'), file('--meshConfigFile')],
      ['policy: enabled\n', '{"global":{}}', 'defaultConfig: {}\n'],
    );
    assert.equal(inject.at(-1), path.resolve('manifests/sleep.yaml'));
  });

  it('needs Istio, and one readable FILE', async () => {
    const noIstio = await runCli(['kube-inject', 'manifests/sleep.yaml'], {
      env,
      runner: fakeRunner(
        (_argv, _input, query) =>
          versionAnswer(query) ?? {
            code: 1,
            stderr: 'Error from server (NotFound): configmaps "istio-sidecar-injector" not found',
          },
      ).runner,
    });
    assert.equal(noIstio.code, 1);
    assert.match(
      noIstio.err,
      /cannot read configmap istio-sidecar-injector in istio-system: is Istio installed in context fun-with-istio\?/,
    );
    assert.equal((await runCli(['kube-inject'], { env })).code, 2);
    assert.equal((await runCli(['kube-inject', 'nope.yaml'], { env })).err, 'error: no such file or directory: nope.yaml\n');
  });
});

type NamespaceJson = {
  kind?: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/**
 * The finished cluster with its namespaces changed: `edit` returns a namespace as this world has it (labels,
 * annotations), or undefined where it does not exist. `also` answers first, for anything else the world changes.
 */
function namespacesEdited(
  edit: (ns: NamespaceJson) => NamespaceJson | undefined,
  also: (query: Query | undefined) => ReturnType<Responder> | undefined = () => undefined,
): Responder {
  const finished = finishedAnswers({ sampleKept: true });
  return (argv, input, query) => {
    const changed = also(query);
    if (changed) return changed;
    const reply = finished(argv, input, query);
    const aboutNamespaces = asks(query, 'get', { kind: 'namespace' }) || asks(query, 'list', { kind: 'namespace' });
    if (!aboutNamespaces || !reply?.stdout?.trim().startsWith('{')) return reply;
    const o = JSON.parse(reply.stdout) as NamespaceJson & { items?: NamespaceJson[] };
    if (o.items) return { ...reply, stdout: json({ ...o, items: o.items.map((n) => edit(structuredClone(n))).filter(Boolean) }) };
    const one = edit(structuredClone(o));
    return { ...reply, stdout: one ? json(one) : '' };
  };
}
const unlabelled = (ns: NamespaceJson): NamespaceJson => {
  delete ns.metadata.labels?.['app.kubernetes.io/managed-by'];
  return ns;
};
const teardownOn = async (respond: Responder, o: { keepCluster?: boolean } = {}) => {
  const fake = fakeRunner(respond);
  const r = await runCli(['teardown', '--yes', ...(o.keepCluster === false ? [] : ['--keep-cluster'])], {
    env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
    runner: fake.runner,
  });
  assert.equal(r.code, 0, r.err);
  const log = readFileSync(/\(log: (\S+\.log)\)/.exec(r.err)?.[1] ?? '', 'utf8');
  return {
    changes: joined(fake.calls).filter((c) => mutating.test(c.replace(/--ignore-not-found/g, ''))),
    log,
    calls: joined(fake.calls),
  };
};

describe("teardown's ownership guards, each on a world wrong in its way", () => {
  const own = ['fun-with-istio-outside', 'bookinfo', 'fun-with-istio-traffic'];
  for (const theirs of own)
    it(`of the tool's own namespaces, deletes the two it made and leaves a user's ${theirs}`, async () => {
      const { changes } = await teardownOn(namespacesEdited((ns) => (ns.metadata.name === theirs ? unlabelled(ns) : ns)));
      const deleted = changes.find((c) => c.includes('delete namespace/'));
      assert.equal(
        deleted,
        `kubectl --context lab delete ${own
          .filter((n) => n !== theirs)
          .map((n) => `namespace/${n}`)
          .join(' ')} --ignore-not-found --wait=true --timeout=300s`,
      );
    });

  it("a user's sample namespace that the tool labelled: the label and the tool's notes go, the namespace stays", async () => {
    const { changes } = await teardownOn(namespacesEdited((ns) => (ns.metadata.name === 'fun-with-istio' ? unlabelled(ns) : ns)));
    assert.deepEqual(
      changes.filter((c) => / namespace fun-with-istio( |$)/.test(c)),
      [
        'kubectl --context lab label namespace fun-with-istio istio-injection-',
        'kubectl --context lab annotate namespace fun-with-istio fun-with-istio/injection-verified- fun-with-istio/injection-labelled-',
      ],
    );
  });

  it("a user's sample namespace they labelled themselves: their label stays, only the tool's note goes", async () => {
    const { changes } = await teardownOn(
      namespacesEdited((ns) => {
        if (ns.metadata.name !== 'fun-with-istio') return ns;
        delete ns.metadata.annotations?.['fun-with-istio/injection-labelled'];
        return unlabelled(ns);
      }),
    );
    assert.deepEqual(
      changes.filter((c) => / namespace fun-with-istio( |$)/.test(c)),
      [
        'kubectl --context lab annotate namespace fun-with-istio fun-with-istio/injection-verified- fun-with-istio/injection-labelled-',
      ],
    );
  });

  it("a user's sample namespace that carries nothing of the tool is not touched, and the log says why", async () => {
    const { changes, log } = await teardownOn(
      namespacesEdited((ns) => {
        if (ns.metadata.name !== 'fun-with-istio') return ns;
        ns.metadata.annotations = {};
        return unlabelled(ns);
      }),
    );
    assert.deepEqual(
      changes.filter((c) => / namespace fun-with-istio( |$)/.test(c)),
      [],
    );
    assert.match(log, /^# skip: namespace fun-with-istio carries nothing of fun-with-istio$/m);
  });

  it('no sample namespace: nothing to do there, and the log says so', async () => {
    const { log } = await teardownOn(namespacesEdited((ns) => (ns.metadata.name === 'fun-with-istio' ? undefined : ns)));
    assert.match(log, /^# skip: namespace fun-with-istio does not exist$/m);
  });

  it("a user's istio-system: Istio is neither uninstalled nor its namespace deleted, and the log says why", async () => {
    const { changes, log } = await teardownOn(
      namespacesEdited((ns) => (ns.metadata.name === 'istio-system' ? unlabelled(ns) : ns)),
    );
    assert.deepEqual(
      changes.filter((c) => /uninstall|delete namespace istio-system/.test(c)),
      [],
    );
    assert.match(log, /^# skip: istio-system was not made by fun-with-istio: left alone$/m);
  });

  it('no istio-system at all: nothing of Istio is asked to go, and the log says the namespace is not there', async () => {
    const { changes, log } = await teardownOn(namespacesEdited((ns) => (ns.metadata.name === 'istio-system' ? undefined : ns)));
    assert.deepEqual(
      changes.filter((c) => /uninstall|delete namespace istio-system/.test(c)),
      [],
    );
    assert.match(log, /^# skip: namespace istio-system does not exist$/m);
  });

  it("the tool's istio-system with no Istio in it: no uninstall; the injector or Istio's CRDs alone are enough to uninstall", async () => {
    const noIstiod = (query: Query | undefined) =>
      asks(query, 'get', { kind: 'deployment', name: 'istiod' }) ? { stdout: '' } : undefined;
    // Other CRDs (the Gateway API's, and entries read without a name) are not Istio's.
    const otherCrds = [
      { kind: 'CustomResourceDefinition', metadata: { name: 'gateways.gateway.networking.k8s.io' } },
      // Istio's API, not installed by istioctl (a user's Helm install, say): theirs to remove.
      { kind: 'CustomResourceDefinition', metadata: { name: 'sidecars.networking.istio.io' } },
      { kind: 'CustomResourceDefinition', metadata: {} },
      { kind: 'CustomResourceDefinition' },
    ];
    const withCrds = (items: object[]) => (query: Query | undefined) =>
      noIstiod(query) ??
      (asks(query, 'get', injectorRef) ? { stdout: '' } : undefined) ??
      (asks(query, 'list', { kind: 'customresourcedefinition' }) ? { stdout: json({ items }) } : undefined);
    const none = await teardownOn(namespacesEdited((ns) => ns, withCrds(otherCrds)));
    assert.ok(!none.changes.some((c) => c.includes('uninstall')), 'no uninstall without istiod or its injector');
    assert.match(none.log, /^# skip: Istio is not installed$/m);
    const injectorOnly = await teardownOn(namespacesEdited((ns) => ns, noIstiod));
    assert.ok(
      injectorOnly.changes.some((c) => c.includes('uninstall --purge -y')),
      'the injector left behind is uninstalled',
    );
    // An uninstall cut short (found by the kill sweep): istiod and the injector gone, some of Istio's CRDs not.
    const istioCrd = {
      kind: 'CustomResourceDefinition',
      metadata: { name: 'wasmplugins.extensions.istio.io', labels: { 'operator.istio.io/component': 'Base' } },
    };
    const crdsLeft = await teardownOn(namespacesEdited((ns) => ns, withCrds([...otherCrds, istioCrd])));
    assert.ok(
      crdsLeft.changes.some((c) => c.includes('uninstall --purge -y')),
      'the CRDs an uninstall left are purged',
    );
  });

  it('CLUSTER=existing without --keep-cluster: everything the tool made inside goes, and minikube is never run', async () => {
    const { changes, calls } = await teardownOn(finishedAnswers({ sampleKept: true }), { keepCluster: false });
    assert.ok(
      changes.some((c) => c.includes('uninstall --purge -y')),
      changes.join('\n'),
    );
    assert.deepEqual(
      calls.filter((c) => c.startsWith('minikube')),
      [],
    );
  });
});

describe('what teardown says it did', () => {
  const logOf = (err: string) => readFileSync(/\(log: (\S+\.log)\)/.exec(err)?.[1] ?? '', 'utf8');

  it('on a clean cluster, each step says why it had nothing to do', async () => {
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], { env, runner: fakeRunner(freshAnswers()).runner });
    assert.equal(r.code, 0, r.err);
    const skips = logOf(r.err)
      .split('\n')
      .filter((l) => l.startsWith('# skip: '));
    assert.deepEqual(skips, [
      '# skip: no PeerAuthentication of fun-with-istio',
      '# skip: none of them was made by fun-with-istio',
      '# skip: no Telemetry of fun-with-istio',
      '# skip: no addons installed by fun-with-istio',
      '# skip: the sample is not deployed',
      '# skip: namespace fun-with-istio does not exist',
      '# skip: namespace istio-system does not exist',
      '# skip: namespace istio-system does not exist',
      '# skip: no Gateway API CRDs installed by fun-with-istio',
      '# skip: no cacerts secret made by fun-with-istio',
      '# skip: namespace istio-system does not exist',
    ]);
  });

  it('on a finished cluster, what each removal showed is in the log', async () => {
    const finished = finishedAnswers({ sampleKept: true });
    const fake = fakeRunner((argv, input, query) =>
      argv.includes('uninstall') ? { stdout: 'Removed istiod.\n✔ Uninstall complete\n' } : finished(argv, input, query),
    );
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    const shown = logOf(r.err)
      .split('\n')
      .filter((l) => l.startsWith('# shown: '));
    assert.deepEqual(shown, [
      '# shown: Kubernetes v1.36.3',
      '# shown: fun-with-istio-outside, bookinfo, fun-with-istio-traffic',
      '# shown: removing Prometheus',
      '# shown: ✔ Uninstall complete',
    ]);
  });

  it("minikube delete's progress is shown, and kept in the log", async () => {
    const fake = fakeRunner((argv) => {
      if (argv[0] !== 'minikube') return undefined;
      if (argv.includes('status')) return { stdout: json({ Host: 'Running' }) };
      if (argv.includes('delete'))
        return {
          stdout: '🔥  Deleting "fun-with-istio" in docker ...\n💀  Removed all traces of the "fun-with-istio" cluster.\n',
        };
      return undefined;
    });
    const r = await runCli(['teardown', '--yes'], { env, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.match(logOf(r.err), /^# shown: 💀 {2}Removed all traces of the "fun-with-istio" cluster\.$/m);
  });
});

describe("teardown of the tool's minikube cluster", () => {
  const teardownMinikube = async (status: Reply | undefined, path = env.PATH) => {
    const fake = fakeRunner((argv) => (argv[0] === 'minikube' && argv.includes('status') ? status : undefined));
    const r = await runCli(['teardown', '--yes'], { env: { ...env, PATH: path }, runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    const log = readFileSync(/\(log: (\S+\.log)\)/.exec(r.err)?.[1] ?? '', 'utf8');
    return { deleted: joined(fake.calls).includes('minikube -p fun-with-istio delete'), log };
  };

  it('a running profile is deleted', async () => {
    assert.equal((await teardownMinikube({ stdout: json({ Host: 'Running' }) })).deleted, true);
    assert.equal((await teardownMinikube({ stdout: json({ Host: 'Stopped' }), code: 7 })).deleted, true);
  });

  it('a profile that does not exist is not deleted, and the log says so', async () => {
    for (const status of [{ stdout: json({ Host: 'Nonexistent' }), code: 85 }, missingProfile]) {
      const { deleted, log } = await teardownMinikube(status);
      assert.equal(deleted, false);
      assert.match(log, /^# skip: profile fun-with-istio does not exist$/m);
    }
  });

  it('without minikube installed there is no cluster to delete', async () => {
    const { deleted, log } = await teardownMinikube(undefined, tmpDir('fwi-empty-'));
    assert.equal(deleted, false);
    assert.match(log, /^# skip: minikube is not installed: there is no minikube cluster to delete$/m);
  });
});

describe('dry-run contract', () => {
  it('all: every command pinned to the context or profile, nothing secret, stdin described', async () => {
    const r = await runCli(['all', '--dry-run'], { env, runner: fakeRunner(() => assert.fail('spawned')).runner });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.ok(
      lines.every((l) => l.startsWith('$ ') || l.startsWith('# ')),
      'only commands and comments',
    );
    const cmds = dryRunCommands(r.out);
    for (const argv of cmds) {
      if (argv[0] === 'minikube') assert.deepEqual(argv.slice(1, 3), ['-p', 'fun-with-istio'], argv.join(' '));
      else assert.deepEqual(argv.slice(1, 3), ['--context', 'fun-with-istio'], argv.join(' '));
      assert.ok(['minikube', 'kubectl'].includes(argv[0]) || argv[0].endsWith('/bin/istioctl'), argv[0]);
    }
    for (const l of lines.filter((l) => / -f - /.test(`${l} `))) assert.match(l, /# stdin: \S/);
    assert.ok(!r.out.includes('PRIVATE KEY'), 'no private key on screen');
    assert.match(r.out, /create -f - # stdin: Secret\/cacerts$/m);
    assert.match(r.out, /apply -f - # stdin: ServiceAccount\/sleep, Service\/sleep, Deployment\/sleep$/m);
  });

  it('CLUSTER=existing runs no minikube and uses only the chosen context', async () => {
    const r = await runCli(['all', '--dry-run'], { env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'team-a' } });
    assert.equal(r.code, 0, r.err);
    const cmds = dryRunCommands(r.out);
    assert.ok(cmds.length > 40, `more than 40 commands, got ${cmds.length}`);
    assert.ok(
      cmds.every((a) => a[0] !== 'minikube' && a[1] === '--context' && a[2] === 'team-a'),
      'no minikube, and every command uses --context team-a',
    );
  });

  it('teardown lists every removal; with minikube only the profile goes', async () => {
    const keep = dryRunCommands((await runCli(['teardown', '--dry-run', '--keep-cluster'], { env })).out).map((a) =>
      a.slice(3).join(' '),
    );
    for (const c of [
      'uninstall --purge -y',
      'delete namespace istio-system --ignore-not-found --wait=true --timeout=300s',
      '-n istio-system delete secret cacerts --ignore-not-found',
    ])
      assert.ok(keep.includes(c), `${c} missing from\n${keep.join('\n')}`);
    const whole = dryRunCommands((await runCli(['teardown', '--dry-run'], { env })).out).map((a) => a.join(' '));
    assert.deepEqual(whole, ['minikube -p fun-with-istio status -o json', 'minikube -p fun-with-istio delete']);
  });

  it('flags are checked per command', async () => {
    const r = await runCli(['minikube', '--keep-sample']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--keep-sample is not an option of minikube/);
  });
});
