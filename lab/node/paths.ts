// Where the real node keeps its state: all under .lab/node, so lab:down finds every mount and file of it there.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { stateDir } from '../base/common.ts';

export const nodeDir = path.join(stateDir, 'node');
export const nodePaths = {
  containerdConfig: path.join(nodeDir, 'containerd', 'config.toml'),
  containerdRoot: path.join(nodeDir, 'containerd', 'root'),
  containerdState: path.join(nodeDir, 'containerd', 'state'),
  containerdSocket: path.join(nodeDir, 'containerd.sock'),
  containerdOpt: path.join(nodeDir, 'containerd', 'opt'),
  runcRoot: path.join(nodeDir, 'runc'),
  cniConfDir: path.join(nodeDir, 'cni', 'net.d'),
  // The node's own plugin directory (links to Debian's plugins): Istio's CNI installer writes its plugin here.
  cniBinDir: path.join(nodeDir, 'cni', 'bin'),
  cniIpamDir: path.join(nodeDir, 'cni', 'ipam'),
  kubeletDir: path.join(nodeDir, 'kubelet'),
  kubeletConfig: path.join(nodeDir, 'kubelet-config.yaml'),
  kubeletKubeconfig: path.join(nodeDir, 'kubelet.kubeconfig'),
  podLogsDir: path.join(nodeDir, 'pod-logs'),
  resolvConf: path.join(nodeDir, 'resolv.conf'),
  kubeProxyConfig: path.join(nodeDir, 'kube-proxy-config.yaml'),
  kubeProxyKubeconfig: path.join(nodeDir, 'kube-proxy.kubeconfig'),
} as const;

/** One id per checkout (its .lab path): two checkouts' labs never share a namespace, a cgroup or a CNI network. */
export const labId = createHash('sha256').update(stateDir).digest('hex').slice(0, 8);

/** The cgroup (in every hierarchy) under which the kubelet puts all pods; lab:down removes it. */
export const cgroupRoot = `/fun-with-istio-lab-${labId}`;
/** The CNI network's name: containerd's CNI library caches results under /var/lib/cni by it. */
export const cniNetwork = `fun-with-istio-lab-${labId}`;
/** Where Debian's containernetworking-plugins are (the node's directory links to them). */
export const hostCniPluginDir = '/usr/lib/cni';
/** The plugins the node's network uses (config-files.ts cniConflist). */
export const cniPlugins = ['bridge', 'host-local', 'loopback', 'portmap'];
