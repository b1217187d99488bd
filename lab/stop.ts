// Stopping the lab: every component's process group from the top of the stack down, the real node's pods (by cgroup),
// any straggler carrying the lab marker, then what the real node leaves on the host (mounts, cgroups, the namespace).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { logsDir, stateDir } from './base/common.ts';
import { removeFaults } from './base/faults.ts';
import type { Flavour } from './base/flavour.ts';
import { markedPids, stopDaemon, stopGroup } from './base/proc.ts';
import { killPods, podProcesses } from './node/cgroups.ts';
import { cleanUpNode } from './node/cleanup.ts';

/**
 * Every component, in start order, with the flavours that need it running (pilot-discovery runs only while istiod's
 * pod exists, started and stopped by istiod-watch). The stop order is derived: the reverse, except that the node
 * agents go first (nothing restarts a pod then), and the pods after them, before their runtime.
 */
const components = [
  { name: 'netns-relay', core: ['real'] },
  { name: 'etcd', core: ['kwok', 'real'] },
  { name: 'kube-apiserver', core: ['kwok', 'real'] },
  { name: 'kube-controller-manager', core: ['kwok', 'real'] },
  { name: 'kube-scheduler', core: ['kwok', 'real'] },
  { name: 'kwok', core: ['kwok'] },
  { name: 'containerd', core: ['real'] },
  { name: 'kubelet', core: ['real'] },
  { name: 'kube-proxy', core: ['real'] },
  { name: 'istiod-watch', core: ['kwok'] },
  { name: 'pilot-discovery', core: [] },
] as const satisfies readonly { name: string; core: readonly Flavour[] }[];

export const labComponents = components.map((c) => c.name);

/** What must run for a lab of this flavour to be up. */
export const coreComponents = (flavour: Flavour): string[] =>
  components.filter((c) => (c.core as readonly Flavour[]).includes(flavour)).map((c) => c.name);

const nodeAgents = ['istiod-watch', 'pilot-discovery', 'kube-proxy', 'kubelet'];
export const stopOrder = [...nodeAgents, 'pods', ...labComponents.filter((c) => !nodeAgents.includes(c)).reverse()];

export async function stopAll({ keepLogs = false, quiet = false } = {}): Promise<void> {
  const say = (m: string): void => {
    if (!quiet) console.log(`[lab down] ${m}`);
  };
  for (const name of stopOrder) {
    if (name === 'pods') {
      // Containers outlive the kubelet: end them where the kubelet put them.
      const killed = await killPods();
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
  const faults = removeFaults();
  if (faults) say(`removed ${faults} iptables rule(s) a fault test left`);
  if (!existsSync(stateDir)) return;
  if (keepLogs) {
    for (const e of readdirSync(stateDir))
      if (path.join(stateDir, e) !== logsDir) rmSync(path.join(stateDir, e), { recursive: true, force: true });
  } else {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
