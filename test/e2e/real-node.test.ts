// End to end on the real-node lab (`lab:up -- --node=real`): a kubelet on containerd and runc in the lab's network
// namespace, running images assembled here. What a cluster user meets is checked with real requests: pod IPs, DNS,
// Services through kube-proxy, probes, `kubectl exec`, `logs` and `port-forward`. Then the product itself, unchanged:
// `all` with real istiod, real sidecars (upstream Envoy), the traffic Job's requests and their trace in the real Zipkin,
// mutual TLS between two sidecars, istioctl, the dashboard, a re-run and teardown; and lab:down must leave nothing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { istioHome } from '../../lab/base/common.ts';
import { markedPids } from '../../lab/base/proc.ts';
import { imagesOf } from '../../lab/images/recipe.ts';
import { imageRecipes } from '../../lab/images/recipes.ts';
import { podProcesses } from '../../lab/node/cgroups.ts';
import { nodeLeftovers } from '../../lab/node/cleanup.ts';
import { kubeletKernelSettings } from '../../lab/node/kernel-settings.ts';
import { addresses, netnsName } from '../../lab/node/network.ts';
import { names } from '../../tasks/config.ts';
import { tmpDir } from '../helpers.ts';
import {
  dashboardUrl,
  lab,
  labKubectl,
  type Obj,
  objectVersions,
  readLabEnv,
  realNodeUnavailable,
  root,
  runProduct,
} from './lab-client.ts';

let labEnv: Record<string, string> = {};
const { run: kubectlRun, kubectl, kjson, listNames } = labKubectl(() => labEnv);
const cache = tmpDir('fwi-real-');
const sampleNs = names.managedBy.value; // the default SAMPLE_NAMESPACE
const trafficNs = names.traffic.namespace;

/**
 * The product as a user runs it against this lab: the two addons the proofs read (the lab assembles no Grafana image),
 * and waits long enough for a JVM's first start on two cores.
 */
const product = (args: string[]) =>
  runProduct(args, { ...labEnv, CACHE_DIR: cache, ADDONS: 'prometheus,zipkin', WAIT_TIMEOUT: '240s' });

const runLog = (err: string): string => readFileSync(/\(log: (\S+\.log)\)/.exec(err)?.[1] ?? '', 'utf8');
const podOf = (namespace: string, selector: string): string =>
  kubectl('-n', namespace, 'get', 'pod', '-l', selector, '-o', 'jsonpath={.items[0].metadata.name}');
const istioctl = (...args: string[]): string => {
  const r = spawnSync(path.join(istioHome, 'bin', 'istioctl'), ['--kubeconfig', labEnv.KUBECONFIG, '--context', 'lab', ...args], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `istioctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
interface SecretDump {
  dynamicActiveSecrets?: {
    name: string;
    secret: {
      tlsCertificate?: { certificateChain: { inlineBytes: string } };
      validationContext?: { trustedCa: { inlineBytes: string } };
    };
  }[];
}

/** Polls `ok` every 200 ms until it holds or `ms` pass (bounded; no fixed sleep decides anything). */
async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return ok();
}
const ns = 'real-node-e2e';

/** The host's own iptables rules (without comments and packet counters): the lab must never add or leave one there. */
const hostRules = (): string =>
  spawnSync('iptables-save', [], { encoding: 'utf8' })
    .stdout.replace(/^#.*\n/gm, '')
    .replace(/\[\d+:\d+\]/g, '');
let rulesBefore = '';
/** The machine-wide kernel settings the kubelet changes: lab:down must put them back. */
const kernelNow = (): Record<string, string> =>
  Object.fromEntries(kubeletKernelSettings.map((k) => [k, readFileSync(path.join('/proc/sys', k), 'utf8').trim()]));
let kernelBefore: Record<string, string> = {};

/** Where the real node cannot run, the suite is skipped with the reason (never drawn as a pass). */
const cannotRun = realNodeUnavailable();

describe('the real-node lab', { timeout: 20 * 60_000, skip: cannotRun }, () => {
  before(() => {
    rulesBefore = hostRules();
    kernelBefore = kernelNow();
    lab('up', '--fresh', '--node=real');
    labEnv = readLabEnv();
  });
  after(() => lab('down'));

  it('has one node, Ready, running containerd, with the pod range from the controller manager', () => {
    const nodes = kjson<{ items: Obj[] }>('get', 'nodes').items;
    assert.equal(nodes.length, 1);
    const [node] = nodes;
    assert.match(node.status?.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\./);
    assert.equal(node.spec?.podCIDR, addresses.podCidr);
    const internal = node.status?.addresses.find((a: { type: string }) => a.type === 'InternalIP');
    assert.equal(internal?.address, addresses.nodeIp);
  });

  it("runs the release's httpbin and curl samples, which reach each other by Service name (DNS, kube-proxy)", async () => {
    kubectl('create', 'namespace', ns);
    for (const sample of ['httpbin/httpbin.yaml', 'curl/curl.yaml'])
      kubectl('-n', ns, 'apply', '-f', path.join(istioHome, 'samples', sample));
    kubectl('-n', ns, 'wait', '--for=condition=Available', 'deployment/httpbin', 'deployment/curl', '--timeout=120s');
    const pod = kubectl('-n', ns, 'get', 'pod', '-l', 'app=curl', '-o', 'jsonpath={.items[0].metadata.name}');
    // Available comes before kube-proxy has written the new Service's rules (as on any cluster): wait for the path.
    const reached = await until(
      () =>
        kubectlRun(['-n', ns, 'exec', pod, '-c', 'curl', '--', 'curl', '-sS', '-o', '/dev/null', 'http://httpbin:8000/get'])
          .status === 0,
      30_000,
    );
    assert.ok(reached, 'httpbin:8000 not reachable through its Service within 30 s');
    const out = kubectl(
      '-n',
      ns,
      'exec',
      pod,
      '-c',
      'curl',
      '--',
      'curl',
      '-sS',
      '-w',
      '\n%{http_code}',
      'http://httpbin:8000/get',
    );
    const [body, code] = [out.slice(0, out.lastIndexOf('\n')), out.slice(out.lastIndexOf('\n') + 1)];
    assert.equal(code, '200', out);
    assert.equal(JSON.parse(body).url, 'http://httpbin:8000/get');
  });

  it("shows the container's own log lines (kubectl logs)", () => {
    const logs = kubectl('-n', ns, 'logs', 'deployment/httpbin');
    assert.match(logs, /GET \/get/, logs);
  });

  it('forwards a port on the host loopback to the Service (kubectl port-forward)', async () => {
    const pf = spawn(
      path.join(path.dirname(istioHome), 'bin', 'kubectl'),
      [
        '--kubeconfig',
        labEnv.KUBECONFIG,
        '--context',
        'lab',
        '-n',
        ns,
        'port-forward',
        'svc/httpbin',
        ':8000',
        '--address',
        '127.0.0.1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let seen = '';
        pf.stdout.on('data', (d) => {
          seen += d;
          const m = /127\.0\.0\.1:(\d+) ->/.exec(seen);
          if (m) resolve(Number(m[1]));
        });
        pf.on('exit', (code) => reject(new Error(`port-forward ended (${code}): ${seen}`)));
      });
      const r = await fetch(`http://127.0.0.1:${port}/status/418`);
      assert.equal(r.status, 418);
    } finally {
      pf.kill();
    }
  });

  it('has a recipe for every image the product says `all` makes the cluster pull', async () => {
    const r = await product(['versions']);
    assert.equal(r.code, 0, r.err);
    const needed =
      r.out
        .slice(r.out.indexOf('Images'))
        .match(/^ {2}(\S+)$/gm)
        ?.map((l) => l.trim()) ?? [];
    assert.ok(needed.length >= 7, r.out);
    const have = new Set(imageRecipes.flatMap(imagesOf).map((i) => i.ref));
    assert.deepEqual(
      needed.filter((i) => !have.has(i)),
      [],
    );
  });

  it('all: Istio, the sample with a live sidecar, the traffic Job and its trace in the real Zipkin', async (t) => {
    kubectl('delete', 'namespace', ns, '--wait=false');
    const r = await product(['all', '--yes', '--keep-sample']);
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    t.diagnostic(`all on the real node: ${(r.ms / 1000).toFixed(1)} s`);
    assert.equal(kubectl('-n', trafficNs, 'logs', `job/${names.traffic.job}`).trim(), '100 of 100 requests answered');
    const log = runLog(r.err);
    assert.match(log, /a trace in Zipkin: [1-9]/);
    assert.match(log, /istio_requests_total in Prometheus: not in this mesh: its proxies report no Istio metrics/);
  });

  it("the sample's sidecar holds a workload certificate that chains to the product's own root CA", () => {
    const pod = podOf(sampleNs, 'app=sleep');
    const dump = JSON.parse(istioctl('proxy-config', 'secret', pod, '-n', sampleNs, '-o', 'json')) as SecretDump;
    const secrets = dump.dynamicActiveSecrets ?? [];
    const pemsOf = (b64: string) =>
      Buffer.from(b64, 'base64')
        .toString()
        .split(/(?=-----BEGIN CERTIFICATE-----)/)
        .filter((p) => p.includes('BEGIN'))
        .map((p) => new X509Certificate(p));
    const chain = pemsOf(secrets.find((x) => x.name === 'default')!.secret.tlsCertificate!.certificateChain.inlineBytes);
    const trusted = pemsOf(secrets.find((x) => x.name === 'ROOTCA')!.secret.validationContext!.trustedCa.inlineBytes);
    const root = new X509Certificate(readFileSync(path.join(cache, 'certs', 'root-cert.pem')));
    assert.equal(chain[0].subjectAltName, `URI:spiffe://cluster.local/ns/${sampleNs}/sa/sleep`);
    assert.ok(chain[0].checkIssued(chain[1]) && chain[0].verify(chain[1].publicKey), 'leaf signed by the intermediate');
    assert.ok(chain[1].checkIssued(root) && chain[1].verify(root.publicKey), 'intermediate signed by our root');
    assert.ok(
      trusted.some((c) => c.fingerprint256 === root.fingerprint256),
      'the proxy trusts our root',
    );
  });

  it('the kept sample reaches httpbin over mutual TLS: both SPIFFE identities in the forwarded client certificate', () => {
    const pod = podOf(sampleNs, 'app=sleep');
    const url = `http://${names.traffic.server}.${trafficNs}:${names.traffic.port}/headers`;
    const out = kubectl('-n', sampleNs, 'exec', pod, '-c', 'sleep', '--', 'curl', '-sS', '-w', '\n%{http_code}', url);
    assert.equal(out.slice(out.lastIndexOf('\n') + 1), '200', out);
    const xfcc = (JSON.parse(out.slice(0, out.lastIndexOf('\n'))) as { headers: Record<string, string[]> }).headers[
      'X-Forwarded-Client-Cert'
    ][0];
    assert.match(xfcc, new RegExp(`By=spiffe://cluster.local/ns/${trafficNs}/sa/httpbin;`));
    assert.match(xfcc, new RegExp(`URI=spiffe://cluster.local/ns/${sampleNs}/sa/sleep$`));
  });

  it('istioctl proxy-status lists every sidecar and gateway as subscribed to istiod; proxy-config routes answers', () => {
    const status = istioctl('proxy-status');
    const pods = [podOf(sampleNs, 'app=sleep'), podOf(trafficNs, 'app=httpbin')];
    for (const pod of pods) assert.match(status, new RegExp(`^${pod}\\.\\S+\\s.*\\(CDS,LDS,EDS,RDS\\)$`, 'm'), status);
    assert.match(status, /^istio-ingressgateway-\S+\s.*\(CDS,LDS,EDS\)/m, status);
    const routes = istioctl('proxy-config', 'routes', pods[0], '-n', sampleNs);
    assert.match(
      routes,
      new RegExp(`${names.traffic.server}\\.${trafficNs}\\.svc\\.cluster\\.local:${names.traffic.port}`),
      routes,
    );
  });

  it("dashboard zipkin serves Zipkin's API on 127.0.0.1 until Ctrl-C, and leaves no port-forward", async () => {
    const run = product(['dashboard', 'zipkin']);
    const url = await dashboardUrl(run);
    const services = (await (await fetch(`${url}/zipkin/api/v2/services`)).json()) as string[];
    assert.ok(services.includes(`${names.traffic.server}.${trafficNs}`), JSON.stringify(services));
    run.child.kill('SIGINT');
    const done = await run;
    assert.equal(done.code, 0, done.err);
    assert.equal(spawnSync('pgrep', ['-f', 'port-forward']).status, 1, 'a kubectl port-forward is left');
  });

  it('all, run again, changes no object', async () => {
    const before = objectVersions(kjson, sampleNs);
    const r = await product(['all', '--yes', '--keep-sample']);
    assert.equal(r.code, 0, r.err);
    const after = objectVersions(kjson, sampleNs);
    const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    assert.deepEqual(changed, []);
  });

  it("teardown leaves none of the tool's namespaces, webhooks or Istio CRDs", async () => {
    const r = await product(['teardown', '--yes', '--keep-cluster']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(listNames('namespace', names.istioNamespace, sampleNs, trafficNs), []);
    assert.deepEqual(listNames('mutatingwebhookconfigurations,validatingwebhookconfigurations'), []);
    assert.deepEqual(
      listNames('customresourcedefinitions').filter((n) => n.includes('istio.io')),
      [],
    );
  });

  it('lab:down leaves no process, container, mount, cgroup, namespace, file or host iptables rule', () => {
    lab('down');
    assert.deepEqual(markedPids(), []);
    assert.deepEqual(podProcesses(), []);
    assert.deepEqual(nodeLeftovers(), { mounts: [], cgroups: [], netns: false, files: [], kernel: [] });
    assert.ok(
      !spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(netnsName),
      'the lab network namespace is gone',
    );
    assert.equal(hostRules(), rulesBefore);
    assert.deepEqual(kernelNow(), kernelBefore, 'the kernel settings the kubelet changed are back');
    assert.ok(!existsSync('/opt/containerd'), 'containerd made /opt/containerd');
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes('/.lab/'), false);
  });
});

describe('a real-node lab killed without lab:down', { timeout: 60_000, skip: cannotRun }, () => {
  it('lab:up refuses to start over what it left (nothing is removed), and lab:down clears it', () => {
    // What a SIGKILLed lab leaves behind, in one of its forms: its network namespace.
    assert.equal(spawnSync('ip', ['netns', 'add', netnsName]).status, 0);
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'lab/up.ts', '--node=real'], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(`an earlier real-node lab left the network namespace ${netnsName}: npm run lab:down first`),
      );
      assert.ok(nodeLeftovers().netns, 'a refused lab:up removes nothing');
    } finally {
      lab('down');
    }
    assert.deepEqual(nodeLeftovers(), { mounts: [], cgroups: [], netns: false, files: [], kernel: [] });
  });
});
