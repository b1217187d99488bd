// Where the real node keeps its state: all under .lab/node, so lab:down finds every mount and file of it there.
import path from 'node:path';
import { stateDir } from '../common.ts';

export const nodeDir = path.join(stateDir, 'node');
export const nodePaths = {
  containerdConfig: path.join(nodeDir, 'containerd', 'config.toml'),
  containerdRoot: path.join(nodeDir, 'containerd', 'root'),
  containerdState: path.join(nodeDir, 'containerd', 'state'),
  containerdSocket: path.join(nodeDir, 'containerd.sock'),
  runcRoot: path.join(nodeDir, 'runc'),
  cniConfDir: path.join(nodeDir, 'cni', 'net.d'),
  cniIpamDir: path.join(nodeDir, 'cni', 'ipam'),
  kubeletDir: path.join(nodeDir, 'kubelet'),
  kubeletConfig: path.join(nodeDir, 'kubelet-config.yaml'),
  kubeletKubeconfig: path.join(nodeDir, 'kubelet.kubeconfig'),
  podLogsDir: path.join(nodeDir, 'pod-logs'),
  resolvConf: path.join(nodeDir, 'resolv.conf'),
  kubeProxyConfig: path.join(nodeDir, 'kube-proxy-config.yaml'),
  kubeProxyKubeconfig: path.join(nodeDir, 'kube-proxy.kubeconfig'),
} as const;

/** The cgroup (in every hierarchy) under which the kubelet puts all pods; lab:down removes it. */
export const cgroupRoot = '/fun-with-istio-lab';
/** The CNI network's name: containerd's CNI library caches results under /var/lib/cni by it. */
export const cniNetwork = 'fun-with-istio-lab';
export const cniBinDir = '/usr/lib/cni';
