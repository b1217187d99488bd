// The real node's configuration files as text: containerd, the CNI network, the kubelet and kube-proxy.
import { pauseImage } from '../images/recipes.ts';
import { addresses } from './network.ts';
import { cgroupRoot, cniNetwork, nodePaths } from './paths.ts';

/** containerd 1.6 (Debian's), CRI plugin on: every path under .lab/node, the runc shim, cgroupfs. */
export function containerdConfig(): string {
  return `version = 2
root = ${JSON.stringify(nodePaths.containerdRoot)}
state = ${JSON.stringify(nodePaths.containerdState)}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = ${JSON.stringify(nodePaths.containerdSocket)}

[ttrpc]
  address = ${JSON.stringify(`${nodePaths.containerdSocket}.ttrpc`)}

# The opt plugin would otherwise create /opt/containerd on the host.
[plugins."io.containerd.internal.v1.opt"]
  path = ${JSON.stringify(nodePaths.containerdOpt)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${JSON.stringify(pauseImage.ref)}
  enable_unprivileged_ports = true
  # This machine withholds CAP_SYS_RESOURCE: no process may lower an OOM score (the sandbox's -998 fails in runc with
  # "failed to update /proc/self/oom_score_adj: Permission denied"). Clamp to containerd's own, as rootless setups do.
  restrict_oom_score_adj = true
  # Pod network namespaces in /run/netns (containerd's default), where Istio's CNI agent opens them by the path its
  # plugin reports (under its /host); lab:down removes those the lab's containerd made (cleanup.ts).
  netns_mounts_under_state_dir = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${JSON.stringify(nodePaths.cniBinDir)}
    conf_dir = ${JSON.stringify(nodePaths.cniConfDir)}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    Root = ${JSON.stringify(nodePaths.runcRoot)}
    SystemdCgroup = false
`;
}

/** One bridge in the namespace; host-local addresses from the node's pod range; no masquerade (nothing leaves). */
export function cniConflist(): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: cniNetwork,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: nodePaths.cniIpamDir,
            ranges: [[{ subnet: addresses.podCidr, gateway: addresses.podCidr.replace(/0\/24$/, '1') }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/** KubeletConfiguration: this machine's cgroup v1 hierarchies (failCgroupV1 false), cgroupfs, no swap check. */
export function kubeletConfig(caFile: string): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine mounts cgroup v1 hierarchies (plus a cgroup2 at /sys/fs/cgroup/unified) and has no systemd.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: ${cgroupRoot}
failSwapOn: false
address: 0.0.0.0
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
  x509:
    clientCAFile: ${JSON.stringify(caFile)}
authorization:
  mode: AlwaysAllow
clusterDomain: cluster.local
clusterDNS:
- ${addresses.dnsServiceIp}
resolvConf: ${JSON.stringify(nodePaths.resolvConf)}
podLogsDir: ${JSON.stringify(nodePaths.podLogsDir)}
containerRuntimeEndpoint: unix://${nodePaths.containerdSocket}
# Images are assembled here and never pulled: the kubelet must not collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
serializeImagePulls: false
`;
}

export function kubeProxyConfig(kubeconfig: string): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: ${addresses.clusterCidr}
clientConnection:
  kubeconfig: ${JSON.stringify(kubeconfig)}
bindAddress: 0.0.0.0
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [primary]
conntrack:
  # The namespace's conntrack table is the kernel's; kube-proxy must not resize it.
  maxPerCore: 0
`;
}
