// The real-node lab's pieces that need no root: the flavour flag, the node's configuration, and the leftover finders
// lab:down relies on (each shown finding what it must find, and nothing else).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { load } from 'js-yaml';
import { stateDir } from '../lab/base/common.ts';
import { parseFlavour, parseUpArgs } from '../lab/base/flavour.ts';
import { cgroupTree, hierarchies } from '../lab/node/cgroups.ts';
import { leftoverSummary, mountsUnder, strayFiles } from '../lab/node/cleanup.ts';
import { cniConflist, containerdConfig, kubeletConfig, kubeProxyConfig } from '../lab/node/config-files.ts';
import { addresses, netnsName } from '../lab/node/network.ts';
import { cgroupRoot, cniNetwork } from '../lab/node/paths.ts';
import { coreComponents, labComponents, stopOrder } from '../lab/stop.ts';

test('lab:up takes --node=kwok|real, kwok by default, and --fresh; anything else is refused', () => {
  assert.equal(parseFlavour([]), 'kwok');
  assert.equal(parseFlavour(['--node=real']), 'real');
  assert.equal(parseFlavour(['--node', 'kwok']), 'kwok');
  assert.throws(() => parseFlavour(['--node=minikube']), /--node takes kwok or real, not "minikube"/);
  assert.throws(() => parseFlavour(['--node']), /--node takes kwok or real$/);
  assert.throws(() => parseFlavour(['--real']), /unknown argument "--real"/);
  assert.deepEqual(parseUpArgs(['--fresh', '--node=real']), { flavour: 'real', fresh: true });
  assert.deepEqual(parseUpArgs([]), { flavour: 'kwok', fresh: false }, 'a lab that is up is reused unless --fresh');
});

test('the kubelet is told this machine is cgroup v1 without systemd, and where DNS and its files are', () => {
  const c = load(kubeletConfig('/ca.crt')) as Record<string, any>;
  assert.equal(c.failCgroupV1, false);
  assert.equal(c.cgroupDriver, 'cgroupfs');
  assert.equal(c.cgroupRoot, cgroupRoot);
  assert.deepEqual(c.clusterDNS, [addresses.dnsServiceIp]);
  assert.equal(c.authentication.x509.clientCAFile, '/ca.crt');
  assert.equal(c.authentication.anonymous.enabled, false);
  for (const k of ['resolvConf', 'podLogsDir']) assert.ok(c[k].startsWith(`${stateDir}/`), `${k}: ${c[k]}`);
  assert.ok(
    c.containerRuntimeEndpoint.startsWith(`unix://${stateDir}/`),
    `the runtime socket is under the state dir: ${c.containerRuntimeEndpoint}`,
  );
});

test("containerd keeps all of its state under .lab; the pods' network namespaces where Istio's CNI agent looks", () => {
  const text = containerdConfig();
  assert.match(text, /netns_mounts_under_state_dir = false/);
  const paths = [...text.matchAll(/^\s*(?:root|state|address|conf_dir|bin_dir|Root) = "([^"]+)"/gm)].map((m) => m[1]);
  assert.equal(paths.length, 7, text);
  for (const p of paths) assert.ok(p.startsWith(`${stateDir}/`), p);
});

test('the CNI network hands out the node pod range with its first address as the gateway, and masquerades nothing', () => {
  const c = JSON.parse(cniConflist());
  assert.equal(c.name, cniNetwork);
  const bridge = c.plugins[0];
  assert.equal(bridge.ipMasq, false);
  assert.deepEqual(bridge.ipam.ranges, [[{ subnet: addresses.podCidr, gateway: '10.244.0.1' }]]);
  assert.ok(bridge.ipam.dataDir.startsWith(`${stateDir}/`), `the IPAM data dir is under the state dir: ${bridge.ipam.dataDir}`);
});

test('kube-proxy knows the cluster range and leaves the kernel conntrack table alone', () => {
  const c = load(kubeProxyConfig('/kp.kubeconfig')) as Record<string, any>;
  assert.equal(c.clusterCIDR, addresses.clusterCidr);
  assert.equal(c.conntrack.maxPerCore, 0);
  assert.equal(c.clientConnection.kubeconfig, '/kp.kubeconfig');
});

test('the mounts lab:down removes: at or below .lab only, deepest first, escaped names read back', () => {
  const line = (id: number, mountPoint: string) => `${id} 1 0:5 / ${mountPoint} rw,relatime shared:1 - tmpfs tmpfs rw`;
  const info = [
    line(1, '/'),
    line(2, '/work/main/.lab/node/kubelet/pods/x/volumes/kube-api-access'),
    line(3, '/work/main/.lab'),
    line(4, '/work/main/.lab-other/x'),
    line(5, '/work/main/.lab/node/containerd/state/with\\040space/rootfs'),
    line(6, '/tmp'),
  ].join('\n');
  const found = mountsUnder('/work/main/.lab', info);
  assert.deepEqual([...found].sort(), [
    '/work/main/.lab',
    '/work/main/.lab/node/containerd/state/with space/rootfs',
    '/work/main/.lab/node/kubelet/pods/x/volumes/kube-api-access',
  ]);
  assert.equal(found.at(-1), '/work/main/.lab', 'a mount is unmounted before the one it sits on');
});

test("the files lab:down removes outside .lab: log links into .lab, the lab network's CNI caches, unmounted pod netns names, Istio's node dirs; nobody else's", (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-stray-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, '.lab');
  const dirs = {
    containersLogs: path.join(dir, 'containers'),
    cniResults: path.join(dir, 'results'),
    netns: path.join(dir, 'netns'),
    istioNode: [path.join(dir, 'istio-cni'), path.join(dir, 'ztunnel')],
  };
  mkdirSync(dirs.containersLogs);
  mkdirSync(dirs.cniResults);
  mkdirSync(dirs.netns);
  mkdirSync(dirs.istioNode[0]);
  writeFileSync(path.join(dirs.istioNode[0], 'pluginevent.sock'), '');
  // containerd's placeholder of a pod's network namespace, its mount gone with containerd's mount namespace: removed.
  writeFileSync(path.join(dirs.netns, 'cni-1234'), '');
  // One still mounted (another device than its directory's; here through a link to one on /dev/shm): kept.
  const elsewhere = mkdtempSync('/dev/shm/lab-stray-');
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  writeFileSync(path.join(elsewhere, 'ns'), '');
  symlinkSync(path.join(elsewhere, 'ns'), path.join(dirs.netns, 'cni-5678'));
  writeFileSync(path.join(dirs.netns, 'fwi-lab-other'), '');
  symlinkSync(`${root}/node/pod-logs/a/0.log`, path.join(dirs.containersLogs, 'ours.log'));
  symlinkSync('/var/log/pods/b/0.log', path.join(dirs.containersLogs, 'theirs.log'));
  symlinkSync(`${root}-other/c/0.log`, path.join(dirs.containersLogs, 'lookalike.log'));
  writeFileSync(path.join(dirs.containersLogs, 'plain.log'), '');
  writeFileSync(path.join(dirs.cniResults, `${cniNetwork}-abc-eth0`), '{}');
  writeFileSync(path.join(dirs.cniResults, 'cbr0-abc-eth0'), '{}');
  assert.deepEqual(
    strayFiles(dirs, root).sort(),
    [
      path.join(dirs.cniResults, `${cniNetwork}-abc-eth0`),
      path.join(dirs.containersLogs, 'ours.log'),
      path.join(dirs.netns, 'cni-1234'),
      dirs.istioNode[0],
    ].sort(),
  );
});

test('lab:up names what an earlier real node left, and says nothing when nothing is', () => {
  const none = { mounts: [], cgroups: [], netns: false, files: [], kernel: [] };
  assert.equal(leftoverSummary(none), '');
  assert.equal(leftoverSummary({ ...none, netns: true }), `the network namespace ${netnsName}`);
  assert.equal(leftoverSummary({ ...none, mounts: ['/a', '/b'], cgroups: ['/c'] }), `2 mounts under ${stateDir}, 1 cgroups`);
});

test('cgroup hierarchies: one per controller on v1 (a linked pair once), the mount itself on v2', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-cgroups-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const v1 = path.join(dir, 'v1');
  for (const h of ['cpu,cpuacct', 'memory', 'systemd']) {
    mkdirSync(path.join(v1, h), { recursive: true });
    writeFileSync(path.join(v1, h, 'cgroup.procs'), '');
  }
  symlinkSync('cpu,cpuacct', path.join(v1, 'cpu'));
  symlinkSync('cpu,cpuacct', path.join(v1, 'cpuacct'));
  assert.deepEqual(
    hierarchies(v1)
      .map((h) => path.basename(realpathSync(h)))
      .sort(),
    ['cpu,cpuacct', 'memory', 'systemd'],
  );
  const v2 = path.join(dir, 'v2');
  mkdirSync(path.join(v2, 'system.slice'), { recursive: true });
  writeFileSync(path.join(v2, 'cgroup.controllers'), 'cpu memory pids\n');
  writeFileSync(path.join(v2, 'cgroup.procs'), '');
  writeFileSync(path.join(v2, 'system.slice', 'cgroup.procs'), '');
  assert.deepEqual(hierarchies(v2), [v2], 'a v2 machine has one hierarchy, not one per top-level cgroup');
});

test('a container cgroup that vanishes while lab:down walks the tree is left out, not an error', () => {
  const tree: Record<string, string[]> = { '/top': ['pod', 'gone'], '/top/pod': ['ctr'], '/top/pod/ctr': [] };
  const read = (dir: string) => {
    const names = tree[dir];
    if (!names) throw Object.assign(new Error(`ENOENT: no such file or directory, scandir '${dir}'`), { code: 'ENOENT' });
    return names.map((name) => ({ name, isDirectory: () => true }));
  };
  assert.deepEqual(cgroupTree('/top', read), ['/top/pod/ctr', '/top/pod', '/top']);
  const denied = () => {
    throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
  };
  assert.throws(() => cgroupTree('/top', denied), /EACCES/, 'only a vanished cgroup is left out');
});

test('lab:down stops the node agents, then the pods, then their runtime, the control plane, and the relay last', () => {
  const at = (name: string) => stopOrder.indexOf(name);
  assert.ok(at('kubelet') < at('pods') && at('kube-proxy') < at('pods'), stopOrder.join(' '));
  assert.ok(at('pods') < at('containerd'), 'containers die before their runtime');
  assert.ok(
    at('containerd') < at('kube-apiserver') && at('kube-apiserver') < at('etcd'),
    'the runtime stops before the API server, the API server before etcd',
  );
  assert.equal(stopOrder.at(-1), 'netns-relay', 'the relay outlives everything it reaches');
  assert.deepEqual([...stopOrder].filter((c) => c !== 'pods').sort(), [...labComponents].sort(), 'every component is stopped');
  assert.deepEqual(coreComponents('real').includes('kwok'), false);
  assert.deepEqual(coreComponents('kwok').includes('kubelet'), false);
});
