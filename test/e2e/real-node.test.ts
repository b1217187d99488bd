// End to end on the real-node lab (`lab:up -- --node=real`): a kubelet on containerd and runc in the lab's network
// namespace, running images assembled here. What a cluster user meets is checked with real requests: pod IPs, DNS,
// Services through kube-proxy, probes, `kubectl exec`, `logs` and `port-forward`; then lab:down must leave nothing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { istioHome } from '../../lab/common.ts';
import { podProcesses } from '../../lab/node/cgroups.ts';
import { nodeLeftovers } from '../../lab/node/cleanup.ts';
import { addresses, netnsName } from '../../lab/node/network.ts';
import { markedPids } from '../../lab/proc.ts';
import { lab, labKubectl, type Obj, readLabEnv } from './lab-client.ts';

let labEnv: Record<string, string> = {};
const { run: kubectlRun, kubectl, kjson } = labKubectl(() => labEnv);

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

/** The host's own iptables rules: the lab must never add or leave one there. */
const hostRules = (): string => spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.replace(/^#.*\n/gm, '');
let rulesBefore = '';

describe('the real-node lab', { timeout: 20 * 60_000 }, () => {
  before(() => {
    rulesBefore = hostRules();
    lab('up', '--node=real');
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

  it('lab:down leaves no process, container, mount, cgroup, namespace, file or host iptables rule', () => {
    lab('down');
    assert.deepEqual(markedPids(), []);
    assert.deepEqual(podProcesses(), []);
    assert.deepEqual(nodeLeftovers(), { mounts: [], cgroups: [], netns: false, files: [] });
    assert.ok(!spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(netnsName));
    assert.equal(hostRules(), rulesBefore);
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes('/.lab/'), false);
  });
});
