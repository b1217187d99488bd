// The real-node lab's network: one network namespace that the lab creates and deletes, holding the control plane, the
// node, its pods and kube-proxy's rules. Nothing in it has a route off the machine; the host reaches only the ports
// netns-relay publishes on 127.0.0.1. Deleting the namespace removes every bridge, veth and iptables rule inside it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { labId } from './paths.ts';

/** The namespace's name, one per checkout (its .lab path), so two checkouts' labs never share one. */
export const netnsName = `fwi-lab-${labId}`;
export const netnsPath = `/run/netns/${netnsName}`;

/** Addresses inside the namespace (none of them exists on the host). */
export const addresses = {
  /** The node's InternalIP, on the namespace's loopback: the API server advertises it to pods. */
  nodeIp: '10.243.0.1',
  clusterCidr: '10.244.0.0/16',
  /** What kube-controller-manager allocates to the first (only) node; the CNI configuration uses the same. */
  podCidr: '10.244.0.0/24',
  serviceCidr: '10.96.0.0/16',
  apiServiceIp: '10.96.0.1',
  dnsServiceIp: '10.96.0.10',
} as const;

function ip(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

function must(args: string[]): void {
  const r = ip(args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
}

const sysctl = (key: string, value: string): void => must(['netns', 'exec', netnsName, 'sysctl', '-qw', `${key}=${value}`]);

/** The command line that runs `cmd` in the namespace (network only: mounts stay the host's, as a node's do). */
export const inNetns = (cmd: string, args: string[]): [string, string[]] => ['nsenter', [`--net=${netnsPath}`, cmd, ...args]];

export const netnsExists = (): boolean => existsSync(netnsPath);

export function createNetns(): void {
  if (netnsExists()) throw new Error(`network namespace ${netnsName} already exists: npm run lab:down first`);
  must(['netns', 'add', netnsName]);
  must(['-n', netnsName, 'link', 'set', 'lo', 'up']);
  must(['-n', netnsName, 'addr', 'add', `${addresses.nodeIp}/32`, 'dev', 'lo']);
  // A packet the namespace sends to a ClusterIP (the API server calling a webhook's Service) needs a route before
  // kube-proxy's OUTPUT rules rewrite it to a pod; a node has its default route for that. The lab routes only the
  // Service range, on the namespace's own loopback (this kernel has no dummy interfaces), from the node's address.
  must(['-n', netnsName, 'route', 'add', addresses.serviceCidr, 'dev', 'lo', 'src', addresses.nodeIp]);
  sysctl('net.ipv4.ip_forward', '1');
  // Pod-to-pod traffic through a Service on the same bridge must pass kube-proxy's rules.
  sysctl('net.bridge.bridge-nf-call-iptables', '1');
}

/** Deletes the namespace (with every interface and rule in it); returns whether there was one. */
export function deleteNetns(): boolean {
  if (!netnsExists()) return false;
  must(['netns', 'delete', netnsName]);
  return true;
}
