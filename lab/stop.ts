// Stopping the lab: every component's process group from the top of the stack down, the real node's pods (by cgroup),
// any straggler carrying the lab marker, then what the real node leaves on the host (mounts, cgroups, the namespace).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { logsDir, stateDir } from './common.ts';
import type { Flavour } from './flavour.ts';
import { podProcesses } from './node/cgroups.ts';
import { cleanUpNode } from './node/cleanup.ts';
import { markedPids, stopDaemon, stopGroup } from './proc.ts';

/** Every component either flavour starts, in start order. pilot-discovery is started (and stopped) by istiod-watch. */
export const labComponents = [
  'netns-relay',
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'containerd',
  'kubelet',
  'kube-proxy',
  'istiod-watch',
  'pilot-discovery',
] as const;

/** What must run for a lab of this flavour to be up (pilot-discovery runs only while istiod's pod exists). */
export const coreComponents = (flavour: Flavour): string[] =>
  flavour === 'real'
    ? [
        'netns-relay',
        'etcd',
        'kube-apiserver',
        'kube-controller-manager',
        'kube-scheduler',
        'containerd',
        'kubelet',
        'kube-proxy',
      ]
    : ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'istiod-watch'];

/** The stop order: the node agents first (nothing restarts a pod then), the pods, the runtime, the control plane, the relay. */
const stopOrder = [
  'istiod-watch',
  'pilot-discovery',
  'kube-proxy',
  'kubelet',
  'pods',
  'containerd',
  'kwok',
  'kube-scheduler',
  'kube-controller-manager',
  'kube-apiserver',
  'etcd',
  'netns-relay',
] as const;

function killPods(): number {
  const pids = podProcesses();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function stopAll({ keepLogs = false, quiet = false } = {}): Promise<void> {
  const say = (m: string): void => {
    if (!quiet) console.log(`[lab down] ${m}`);
  };
  for (const name of stopOrder) {
    if (name === 'pods') {
      // Containers outlive the kubelet: end them where the kubelet put them (bounded: a pod cannot fork forever).
      let killed = 0;
      for (let i = 0; i < 50 && podProcesses().length; i++) {
        killed += killPods();
        await sleep(100);
      }
      if (killed) say(`pods: killed ${killed} container processes`);
      continue;
    }
    const r = await stopDaemon(name);
    if (r !== 'absent') say(`${name}: ${r}`);
  }
  // containerd's shims and anything else started with the lab's marker.
  for (const pid of markedPids()) say(`straggler ${pid}: ${await stopGroup(pid, 3000)}`);
  const left = [...markedPids(), ...podProcesses()];
  if (left.length) throw new Error(`processes still running after stop: ${left.join(', ')}`);
  for (const line of cleanUpNode()) say(line);
  if (!existsSync(stateDir)) return;
  if (keepLogs) {
    for (const e of readdirSync(stateDir))
      if (path.join(stateDir, e) !== logsDir) rmSync(path.join(stateDir, e), { recursive: true, force: true });
  } else {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
