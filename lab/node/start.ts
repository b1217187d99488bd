// Starting the real node inside the lab's network namespace: containerd (images imported from the lab's archives), the
// kubelet, kube-proxy. The control plane is already up in the same namespace; `start` runs a binary there.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, nodeName } from '../base/common.ts';
import { waitFor } from '../base/probe.ts';
import type { Started } from '../base/proc.ts';
import { createCgroupRoot } from './cgroups.ts';
import { cniConflist, containerdConfig, kubeletConfig, kubeProxyConfig } from './config-files.ts';
import { recordKernelSettings } from './kernel-settings.ts';
import { addresses } from './network.ts';
import { cniPlugins, hostCniPluginDir, nodeDir, nodePaths } from './paths.ts';

export type StartInNetns = (name: string, cmd: string, args: string[]) => Started;

const ctr = (args: string[]): { status: number | null; out: string } => {
  const r = spawnSync('ctr', ['--address', nodePaths.containerdSocket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
};

export function writeNodeFiles(kubeconfigFor: (user: string) => string, caFile: string): void {
  for (const d of [
    nodePaths.cniConfDir,
    nodePaths.cniIpamDir,
    nodePaths.cniBinDir,
    nodePaths.kubeletDir,
    nodePaths.podLogsDir,
    path.dirname(nodePaths.containerdConfig),
  ])
    mkdirSync(d, { recursive: true });
  for (const p of cniPlugins) symlinkSync(path.join(hostCniPluginDir, p), path.join(nodePaths.cniBinDir, p));
  writeFileSync(nodePaths.containerdConfig, containerdConfig());
  writeFileSync(path.join(nodePaths.cniConfDir, '10-lab.conflist'), cniConflist());
  writeFileSync(nodePaths.kubeletConfig, kubeletConfig(caFile));
  writeFileSync(nodePaths.kubeletKubeconfig, kubeconfigFor('node'), { mode: 0o600 });
  writeFileSync(nodePaths.kubeProxyConfig, kubeProxyConfig(nodePaths.kubeProxyKubeconfig));
  writeFileSync(nodePaths.kubeProxyKubeconfig, kubeconfigFor('kube-proxy'), { mode: 0o600 });
  // No upstream resolver: pods with dnsPolicy Default resolve nothing outside the cluster.
  writeFileSync(nodePaths.resolvConf, '');
}

/**
 * containerd in a mount and PID namespace of its own, with that namespace's /proc: the node's process view. Istio's CNI
 * agent finds pods' network namespaces through the node's /proc and first reads its PID 1's, which on this machine is
 * not root's to read ("permission denied": PID 1 holds capabilities the sandbox withholds). The node's directory is a
 * shared mount first, so what the kubelet mounts there (volumes) reaches containerd's namespace; what containerd mounts
 * (pods' root filesystems and network namespaces) stays in its namespace and goes with it.
 */
export async function startContainerd(start: StartInNetns): Promise<Started> {
  for (const args of [
    ['--bind', nodeDir, nodeDir],
    ['--make-shared', nodeDir],
  ]) {
    const m = spawnSync('mount', args, { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`mount ${args.join(' ')}: ${m.stderr.trim()}`);
  }
  // In its namespace /run/netns is a slave of the host's and shared again: the network namespaces containerd mounts
  // there reach the pods that mount /run/netns (Istio's CNI agent), not the host.
  const c = start('containerd', 'unshare', [
    '--mount',
    '--propagation=slave',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    'sh',
    '-c',
    'mount --make-shared /run/netns && exec containerd --config "$0"',
    nodePaths.containerdConfig,
  ]);
  await waitFor('containerd', async () => ctr(['version']).status === 0, 30_000, c.exited);
  return c;
}

/** Imports each docker-archive into containerd's k8s.io namespace (the CRI's), as a registry pull would leave it. */
export function importImages(archives: string[]): void {
  for (const a of archives) {
    const r = ctr(['images', 'import', '--no-unpack=false', a]);
    if (r.status !== 0) throw new Error(`ctr images import ${a}: ${r.out}`);
  }
}

export async function startKubelet(start: StartInNetns, nodeReady: () => Promise<boolean>): Promise<Started> {
  createCgroupRoot();
  recordKernelSettings(); // the kubelet changes them for the whole machine; lab:down puts them back
  const k = start('kubelet', bin('kubelet'), [
    `--config=${nodePaths.kubeletConfig}`,
    `--kubeconfig=${nodePaths.kubeletKubeconfig}`,
    `--root-dir=${nodePaths.kubeletDir}`,
    `--cert-dir=${path.join(nodeDir, 'kubelet-pki')}`,
    `--hostname-override=${nodeName}`,
    `--node-ip=${addresses.nodeIp}`,
    '--v=1',
  ]);
  await waitFor(`node ${nodeName} Ready (kubelet)`, nodeReady, 90_000, k.exited);
  return k;
}

export function startKubeProxy(start: StartInNetns): Started {
  return start('kube-proxy', bin('kube-proxy'), [
    `--config=${nodePaths.kubeProxyConfig}`,
    `--hostname-override=${nodeName}`,
    '--v=1',
  ]);
}
