// End to end: the product's chapters, as users run them (`CLUSTER=existing`), against the lab: a real
// kube-apiserver, controllers and kubectl v1.36, real istioctl and pilot-discovery (the injection webhook).
// The Istio release is downloaded by the product from a local HTTP server serving an archive of the lab's
// release directory with its .sha256. Assertions read the cluster's real state with the lab's kubectl.
import assert from 'node:assert/strict';
import type { spawn } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAll } from 'js-yaml';
import { c as tarCreate } from 'tar';
import { ISTIO_LAB_VERSION, istioHome, labCacheDir } from '../../lab/base/common.ts';
import { connectionManagers, podIdentity, xdsDump } from '../../lab/xds/xds.ts';
import { loadConfig, names } from '../../tasks/config.ts';
import { downloadOf } from '../../tasks/lib/istio/release.ts';
import { ApiReads } from '../../tasks/lib/kube/api-reads.ts';
import type { Query } from '../../tasks/lib/run/requests.ts';
import { tmpDir } from '../helpers.ts';
import {
  commandsOf,
  type List,
  lab,
  labKubectl,
  type Obj,
  objectVersions,
  type Run,
  readLabEnv,
  root,
  runProduct,
} from './lab-client.ts';

const cache = tmpDir('fwi-e2e-');
const sampleNs = names.managedBy.value; // the default SAMPLE_NAMESPACE
let labEnv: Record<string, string> = {};
let server: Server;
let releaseUrl = '';

/** Runs the product as a user would, with the lab's settings and the lab's kubectl first on PATH. */
function product(args: string[], extra: Record<string, string> = {}): Promise<Run> & { child: ReturnType<typeof spawn> } {
  const { ISTIO_HOME: _home, ...env } = labEnv; // the release comes through the download path
  return runProduct(args, { ...env, CACHE_DIR: cache, ISTIO_RELEASE_URL: releaseUrl, WAIT_TIMEOUT: '120s', ...extra });
}

const { run: kubectlRun, kubectl, kjson, listNames } = labKubectl(() => labEnv);
const snapshot = (): Map<string, string> => objectVersions(kjson, sampleNs);

const available = (d: Obj) =>
  (d.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Available' && c.status === 'True');
const proxyOf = (pod: Obj) =>
  [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c: { restartPolicy?: string }) => c.restartPolicy === 'Always'),
  ].find((c: { name: string }) => c.name === names.sidecarContainer);

/** An archive of the lab's release directory, as Istio publishes it: istio-<v>/... plus `<hex> <file>`. */
async function releaseArchive(): Promise<{ dir: string; asset: string }> {
  const { asset } = downloadOf(loadConfig({ env: { HOME: '/h', ISTIO_VERSION: ISTIO_LAB_VERSION }, envFile: '/nonexistent' }));
  const dir = path.join(labCacheDir, 'release', ISTIO_LAB_VERSION);
  const file = path.join(dir, asset);
  if (!existsSync(`${file}.sha256`) || statSync(file).mtimeMs < statSync(path.join(istioHome, 'bin', 'istioctl')).mtimeMs) {
    mkdirSync(dir, { recursive: true });
    await tarCreate({ gzip: true, file, cwd: path.dirname(istioHome), portable: true }, [path.basename(istioHome)]);
    writeFileSync(`${file}.sha256`, `${createHash('sha256').update(readFileSync(file)).digest('hex')} ${asset}\n`);
  }
  return { dir, asset };
}

describe('the product against the lab', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    const { dir, asset } = await releaseArchive();
    const good = readFileSync(path.join(dir, asset));
    const sha = readFileSync(path.join(dir, `${asset}.sha256`));
    const corrupted = Buffer.from(good);
    corrupted[corrupted.length >> 1] ^= 0xff;
    server = createServer((req, res) => {
      const routes: Record<string, Buffer> = {
        [`/good/${ISTIO_LAB_VERSION}/${asset}`]: good,
        [`/good/${ISTIO_LAB_VERSION}/${asset}.sha256`]: sha,
        [`/corrupted/${ISTIO_LAB_VERSION}/${asset}`]: corrupted,
        [`/corrupted/${ISTIO_LAB_VERSION}/${asset}.sha256`]: sha,
      };
      const body = routes[req.url ?? ''];
      if (!body) return res.writeHead(404).end();
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    releaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/good`;
    lab('up', '--fresh');
    labEnv = readLabEnv();
    assert.equal(labEnv.KUBE_CONTEXT, 'lab');
  });

  after(() => {
    server?.close();
    lab('down');
  });

  it("lab:up's settings keep the product's cache (its CA, logs and downloads) inside .lab, apart from a user's", () => {
    assert.equal(labEnv.CACHE_DIR, path.join(root, '.lab', 'product-cache'));
  });

  it('refuses a corrupted release archive and installs nothing', async () => {
    const url = releaseUrl.replace(/\/good$/, '/corrupted');
    const r = await product(['install-istio'], { ISTIO_RELEASE_URL: url, CACHE_DIR: tmpDir('fwi-e2e-bad-') });
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      /^error: Get Istio .*: checksum mismatch for istio-.*\.tar\.gz: expected [0-9a-f]{64}, got [0-9a-f]{64}; the file was deleted/m,
    );
    assert.deepEqual(listNames('namespace', names.istioNamespace), []);
    assert.deepEqual(listNames('mutatingwebhookconfigurations'), []);
  });

  it('minikube chapter: checks the chosen context instead of starting minikube', async () => {
    const r = await product(['minikube']);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out + r.err, /minikube -p/);
  });

  it('webhook-certs: cacerts holds a valid root + intermediate chain', async () => {
    const r = await product(['webhook-certs']);
    assert.equal(r.code, 0, r.err);
    const secret = kjson<Obj>('-n', names.istioNamespace, 'get', 'secret', names.cacertsSecret);
    assert.equal(secret.metadata.labels?.[names.managedBy.key], names.managedBy.value);
    const pem = (k: string) => Buffer.from(secret.data![k], 'base64');
    const rootCert = new X509Certificate(pem('root-cert.pem'));
    const ca = new X509Certificate(pem('ca-cert.pem'));
    assert.ok(
      rootCert.ca && ca.ca && ca.checkIssued(rootCert) && ca.verify(rootCert.publicKey),
      'root and intermediate are CAs, the intermediate signed by the root',
    );
    assert.ok(ca.checkPrivateKey(createPrivateKey(pem('ca-key.pem'))), 'ca-key.pem matches ca-cert.pem');
    assert.equal(pem('cert-chain.pem').toString(), pem('ca-cert.pem').toString() + pem('root-cert.pem').toString());
    assert.equal(
      secret.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'],
      undefined,
      'no copy of the key in an annotation',
    );
  });

  it('install-istio: downloads the release, installs it, and the injector trusts exactly our root', async () => {
    const r = await product(['install-istio']);
    assert.equal(r.code, 0, r.err);
    assert.ok(
      readdirSync(path.join(cache, 'downloads')).some((f) => f.endsWith('.tar.gz')),
      'a release archive is in the download cache',
    );
    const deployments = kjson<List>('-n', names.istioNamespace, 'get', 'deployments').items;
    assert.ok(
      deployments.some((d) => d.metadata.name === names.istiod),
      `${names.istiod} is deployed`,
    );
    for (const d of deployments) assert.ok(available(d), `${d.metadata.name} is not Available`);
    const root = Buffer.from(
      kjson<Obj>('-n', names.istioNamespace, 'get', 'secret', names.cacertsSecret).data!['root-cert.pem'],
      'base64',
    ).toString();
    const webhook = kjson<Obj>('get', 'mutatingwebhookconfiguration', names.injectorWebhook);
    assert.ok(webhook.webhooks!.length > 0, 'the injector configuration lists at least one webhook');
    for (const w of webhook.webhooks!)
      assert.equal(Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString(), root, w.name);
  });

  it('injection: survives the API server going away mid-chapter, then completes on a re-run', async () => {
    const run = product(['injection', '--keep-sample']);
    // Stop the API server once the chapter has reached its first rollout.
    const logs = path.join(cache, 'logs');
    const inRollout = () =>
      existsSync(logs) &&
      readdirSync(logs).some(
        (f) => f.endsWith('-injection.log') && readFileSync(path.join(logs, f), 'utf8').includes('rollout status'),
      );
    for (let i = 0; i < 6000 && !inRollout(); i++) await new Promise((r) => setTimeout(r, 10));
    // The server goes once the chapter is past its first rollout's start (on kwok the rollout itself may end first).
    assert.ok(inRollout(), 'the chapter reached its first rollout within 60 s (the API server was not stopped)');
    // The chapter is paused while the server is stopped: it finishes in well under a second on kwok, faster than
    // the stop, so without the pause it may end before the server goes.
    const pid = run.child.pid ?? 0;
    process.kill(pid, 'SIGSTOP');
    try {
      lab('ctl', 'stop', 'kube-apiserver');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const failed = await run;
    lab('ctl', 'start', 'kube-apiserver');
    assert.equal(failed.code, 1, failed.err);
    const line = failed.err.trim().split('\n').at(-1)!;
    assert.match(line, /^error: .*: kubectl exited with 1: .* \(log: .*-injection\.log\)$/);
    // It failed because the server was gone, not on something else (kwok may finish the rollout before the stop, so
    // the step it fails in is whichever came next: the cause is what is asserted).
    assert.match(
      line,
      /connection refused|was refused|connection reset by peer|the server is currently unable|apiserver is shutting down/,
      line,
    );
    assert.doesNotMatch(failed.err, /\n\s+at /, 'no stack trace');

    const r = await product(['injection', '--keep-sample']);
    assert.equal(r.code, 0, r.err);
    const pods = kjson<List>('-n', sampleNs, 'get', 'pods', '-l', 'app=sleep').items.filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(pods.length, 1);
    assert.ok(proxyOf(pods[0]), 'the sleep pod carries istio-proxy');
    assert.ok(pods[0].metadata.annotations?.['sidecar.istio.io/status'], 'injected by the webhook');
    assert.equal(kjson<Obj>('get', 'namespace', sampleNs).metadata.labels?.[names.injection.namespaceLabel], 'enabled');
  });

  it('the real webhook honours the per-pod opt-out label', async () => {
    const pod = (name: string, inject?: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: sampleNs, labels: { app: name, ...(inject ? { [names.injection.podLabel]: inject } : {}) } },
      spec: { containers: [{ name: 'c', image: 'docker.io/curlimages/curl:8.16.0', command: ['sleep', 'infinity'] }] },
    });
    const file = path.join(tmpDir(), 'pods.json');
    writeFileSync(
      file,
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('opted-out', 'false'), pod('default-in')] }),
    );
    kubectl('create', '-f', file);
    try {
      assert.equal(proxyOf(kjson<Obj>('-n', sampleNs, 'get', 'pod', 'opted-out')), undefined);
      assert.ok(
        proxyOf(kjson<Obj>('-n', sampleNs, 'get', 'pod', 'default-in')),
        'a pod without the opt-out label gets istio-proxy',
      );
    } finally {
      kubectl('delete', '-f', file, '--wait=true');
    }
  });

  it('kube-inject: manual injection with the injector config from the cluster works without the webhook', async () => {
    const r = await product(['kube-inject', 'manifests/sleep.yaml']);
    assert.equal(r.code, 0, r.err);
    const deployment = (loadAll(r.out) as Obj[]).find((d) => (d as { kind?: string })?.kind === 'Deployment')!;
    const podSpec = deployment.spec!.template.spec;
    assert.ok(proxyOf({ spec: podSpec } as Obj), 'istio-proxy added by istioctl kube-inject');
    // Applied to a namespace without the injection label, the pod keeps the sidecar it was given.
    const file = path.join(tmpDir(), 'injected.yaml');
    writeFileSync(file, r.out);
    kubectl('create', 'namespace', 'manual-injection');
    try {
      kubectl('-n', 'manual-injection', 'apply', '-f', file);
      kubectl('-n', 'manual-injection', 'rollout', 'status', 'deployment/sleep', '--timeout=60s');
      const pods = kjson<List>('-n', 'manual-injection', 'get', 'pods', '-l', 'app=sleep').items;
      assert.ok(pods.length > 0 && pods.every((p) => proxyOf(p)), 'the sleep pods keep the sidecar they were given');
    } finally {
      kubectl('delete', 'namespace', 'manual-injection', '--wait=true');
    }
  });

  it('addons: ready, Grafana and Zipkin exposed as NodePort', async () => {
    const r = await product(['addons']);
    assert.equal(r.code, 0, r.err);
    for (const d of ['prometheus', 'grafana', 'zipkin'])
      assert.ok(available(kjson<Obj>('-n', names.istioNamespace, 'get', 'deployment', d)), d);
    for (const s of ['grafana', 'zipkin'])
      assert.equal(kjson<Obj>('-n', names.istioNamespace, 'get', 'service', s).spec?.type, 'NodePort', s);
    assert.equal(kjson<Obj>('-n', names.istioNamespace, 'get', 'service', 'tracing').spec?.type, 'ClusterIP');
    assert.match(r.out, /grafana: http:\/\/[\d.]+:\d+/);
  });

  it("tracing: istiod serves the sleep pod's sidecar a Zipkin tracer at the configured sampling; off removes it", async (t) => {
    const mesh = kjson<Obj>('-n', names.istioNamespace, 'get', 'configmap', names.meshConfigMap).data?.mesh ?? '';
    assert.match(mesh, /- name: zipkin\n\s+zipkin:\n\s+port: 9411\n\s+service: zipkin\.istio-system\.svc\.cluster\.local/);
    // The real validating webhook judges Telemetry: ours passes, with no warning. Two providers pass the CRD's
    // schema, and only Istio's own validation (the webhook) warns about them: so the webhook did judge ours.
    const { telemetryObject } = await import('../../tasks/lib/istio/tracing.ts');
    const serverDryRun = (o: object) => kubectlRun(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(o));
    const ours = serverDryRun(telemetryObject(100));
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stderr, '');
    const two = { ...telemetryObject(100), spec: { tracing: [{ providers: [{ name: 'zipkin' }, { name: 'zipkin' }] }] } };
    assert.match(serverDryRun(two).stderr, /Warning: .*multiple providers is not currently supported/);

    const [sleep] = kjson<List>('-n', sampleNs, 'get', 'pods', '-l', 'app=sleep').items.filter(
      (p) => !p.metadata.deletionTimestamp,
    );
    const pod = await podIdentity(sampleNs, sleep.metadata.name);
    const collector = `outbound|9411||${names.tracing.service}`;
    /** The (collector cluster, sampling) pairs of every HTTP connection manager, once istiod serves `want`. */
    const tracingSeen = async (want: string): Promise<string[]> => {
      let seen: string[] = [];
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setImmediate(r))) {
        seen = [
          ...new Set(
            connectionManagers(xdsDump(pod).listeners).map(({ hcm }) => {
              const zipkin = hcm.tracing?.provider?.typedConfig?.collectorService?.httpUri?.cluster ?? 'none';
              return `${zipkin} ${hcm.tracing?.randomSampling?.value ?? '-'}`;
            }),
          ),
        ];
        if (seen.length === 1 && seen[0] === want) break;
      }
      return seen;
    };
    assert.deepEqual(await tracingSeen(`${collector} 100`), [`${collector} 100`]);
    t.diagnostic(`${connectionManagers(xdsDump(pod).listeners).length} connection managers trace to ${collector}`);

    assert.equal((await product(['addons'], { TRACING_SAMPLING: '50' })).code, 0);
    assert.deepEqual(await tracingSeen(`${collector} 50`), [`${collector} 50`], 'the Telemetry sets the sampling');

    assert.equal((await product(['addons'], { TRACING: 'off' })).code, 0);
    assert.equal(listNames('-n', names.istioNamespace, 'telemetry').length, 0);
    const off = await tracingSeen('none 100');
    assert.ok(!off.some((s) => s.startsWith(collector)), `no tracer with TRACING=off: ${off.join(', ')}`);

    assert.equal((await product(['addons'])).code, 0); // back to the default for the idempotence check below
    assert.deepEqual(await tracingSeen(`${collector} 100`), [`${collector} 100`]);
  });

  it('traffic: httpbin injected, the load-generator Job completes, and the proof says the lab sends nothing', async () => {
    const r = await product(['traffic']);
    assert.equal(r.code, 0, r.err);
    const ns = names.traffic.namespace;
    const [httpbin] = kjson<List>('-n', ns, 'get', 'pods', '-l', 'app=httpbin').items;
    assert.ok(proxyOf(httpbin), 'httpbin carries istio-proxy (injected by the real webhook)');
    const job = kjson<Obj>('-n', ns, 'get', 'job', names.traffic.job);
    assert.ok(
      (job.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True'),
      `job/${names.traffic.job} completed`,
    );
    assert.match(r.out, /\[SKIPPED: not here: this cluster's nodes run no containers, so no request was sent\]/);
    assert.match(r.out, /job\/traffic is complete, but this cluster's nodes run no containers: no request was sent/);
    assert.doesNotMatch(r.out, /^✔ Prove the mesh saw them/m, 'a proof that could not look is not drawn as done');
    const again = await product(['traffic']);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /already done: job\/traffic is complete, but this cluster's nodes run no containers/);
    // Another count replaces the Job (its pod template cannot change) and sends again.
    const more = await product(['traffic'], { TRAFFIC_REQUESTS: '5' });
    assert.equal(more.code, 0, more.err);
    assert.equal(kjson<Obj>('-n', ns, 'get', 'job', names.traffic.job).metadata.annotations?.['fun-with-istio/requests'], '5');
    assert.equal((await product(['traffic'])).code, 0); // back to the default for the idempotence check below
  });

  it('all, run again, skips every finished step and changes no object', async (t) => {
    const before = snapshot();
    const r = await product(['all', '--keep-sample', '--verbose']);
    assert.equal(r.code, 0, r.err);
    const after = snapshot();
    const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    const gone = [...before.keys()].filter((k) => !after.has(k));
    assert.deepEqual({ changed, gone }, { changed: [], gone: [] });
    t.diagnostic(`idempotent re-run of all: ${r.ms} ms, ${before.size} objects unchanged`);
  });

  it("kubectl's reads answered in-process give what kubectl gives: objects, lists, fields, missing ones, a CRD", async () => {
    const reads = new ApiReads({ HOME: process.env.HOME, KUBECONFIG: labEnv.KUBECONFIG }, 'lab');
    assert.equal(reads.declined, undefined);
    const sys = 'istio-system';
    const cases: [Query, string[]][] = [
      [{ op: 'get', ref: { kind: 'namespace', name: sys } }, ['get', 'namespace', sys, '-o', 'json', '--ignore-not-found']],
      [
        { op: 'get', ref: { kind: 'namespace', name: 'nosuch' } },
        ['get', 'namespace', 'nosuch', '-o', 'json', '--ignore-not-found'],
      ],
      [{ op: 'list', ref: { kind: 'deployment', namespace: sys } }, ['-n', sys, 'get', 'deployment', '-o', 'json']],
      [
        { op: 'list', ref: { kind: 'pods', namespace: sys }, selector: 'app=istiod' },
        ['-n', sys, 'get', 'pods', '-l', 'app=istiod', '-o', 'json'],
      ],
      [
        { op: 'get', ref: { kind: 'mutatingwebhookconfiguration', name: 'istio-sidecar-injector' } },
        ['get', 'mutatingwebhookconfiguration', 'istio-sidecar-injector', '-o', 'json', '--ignore-not-found'],
      ],
      [
        { op: 'get', ref: { kind: 'telemetry', name: 'mesh-default', namespace: sys } },
        ['-n', sys, 'get', 'telemetry', 'mesh-default', '-o', 'json', '--ignore-not-found'],
      ],
      [
        { op: 'field', refs: [{ kind: 'configmap', name: 'istio', namespace: sys }], jsonpath: '{.data.mesh}' },
        ['-n', sys, 'get', 'configmap', 'istio', '-o', 'jsonpath={.data.mesh}', '--ignore-not-found'],
      ],
      [
        { op: 'field', refs: [{ kind: 'secret', name: 'cacerts', namespace: sys }], jsonpath: '{.data.root-cert\\.pem}' },
        ['-n', sys, 'get', 'secret', 'cacerts', '-o', 'jsonpath={.data.root-cert\\.pem}', '--ignore-not-found'],
      ],
      [
        { op: 'field', refs: [{ kind: 'deployment', name: 'istiod', namespace: sys }], jsonpath: '{.status.readyReplicas}' },
        ['-n', sys, 'get', 'deployment', 'istiod', '-o', 'jsonpath={.status.readyReplicas}', '--ignore-not-found'],
      ],
      [
        { op: 'field', refs: [{ kind: 'deployment', name: 'nosuch', namespace: sys }], jsonpath: '{.status.readyReplicas}' },
        ['-n', sys, 'get', 'deployment', 'nosuch', '-o', 'jsonpath={.status.readyReplicas}', '--ignore-not-found'],
      ],
    ];
    // What may differ between two reads of a live object: its version and its status.
    const stable = (o: Obj) => ({ ...o, metadata: { ...o.metadata, resourceVersion: '' }, status: undefined });
    for (const [query, args] of cases) {
      const mine = await reads.answer(query, undefined);
      const theirs = kubectlRun(args);
      assert.equal(theirs.status, 0, `${args.join(' ')}: ${theirs.stderr}`);
      assert.ok(mine, `answered in-process: kubectl ${args.join(' ')}`);
      if (query.op === 'field' || !theirs.stdout.trim()) assert.equal(mine.stdout, theirs.stdout, args.join(' '));
      else if (query.op === 'list') {
        const [a, b] = [JSON.parse(mine.stdout) as List, JSON.parse(theirs.stdout) as List];
        assert.deepEqual(a.items.map(stable), b.items.map(stable), args.join(' '));
        assert.deepEqual({ ...a, items: [] }, { ...b, items: [] }, args.join(' '));
      } else assert.deepEqual(stable(JSON.parse(mine.stdout)), stable(JSON.parse(theirs.stdout)), args.join(' '));
    }
    reads.close();
  });

  it('teardown leaves nothing the tool created; a second teardown is a no-op', async (t) => {
    const r = await product(['teardown', '--yes']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(listNames('namespace', names.istioNamespace, sampleNs), []);
    assert.deepEqual(listNames('mutatingwebhookconfigurations,validatingwebhookconfigurations'), []);
    assert.deepEqual(
      listNames('customresourcedefinitions').filter((n) => n.includes('istio.io')),
      [],
    );
    assert.deepEqual(listNames('clusterroles,clusterrolebindings', '-l', `${names.managedBy.key}=${names.managedBy.value}`), []);
    assert.deepEqual(
      listNames('clusterroles').filter((n) => /istio/.test(n)),
      [],
    );
    const again = await product(['teardown', '--yes']);
    assert.equal(again.code, 0, again.err);
    const logFile = /log: (\S+\.log)/.exec(again.err)![1];
    const commands = commandsOf(readFileSync(logFile, 'utf8'));
    assert.deepEqual(
      commands.filter((c) => / (delete|uninstall|label|annotate) /.test(c)),
      [],
    );
    t.diagnostic(`teardown ${r.ms} ms; second teardown ${again.ms} ms`);
  });
});
