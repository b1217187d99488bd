// What the real node leaves on the host once its processes are gone, and how lab:down removes it: mounts under .lab, the pods' cgroups, the network namespace, and files the kubelet and the CNI
// library write outside .lab. Each function reports what it removed, so a test can assert that nothing is left.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from '../base/common.ts';
import { labCgroups, removeCgroups } from './cgroups.ts';
import { changedKernelSettings, restoreKernelSettings } from './kernel-settings.ts';
import { deleteNetns, netnsExists, netnsName } from './network.ts';
import { cgroupRoot, cniNetwork } from './paths.ts';

/** Mount points at or below `root` in a mountinfo text, deepest first (rootfs overlays, volumes, pod namespaces). */
export function mountsUnder(root: string, mountinfo: string): string[] {
  const octalUnescaped = (s: string): string =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return mountinfo
    .split('\n')
    .map((l) => octalUnescaped(l.split(' ')[4] ?? ''))
    .filter((m) => m === root || m.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

export const labMounts = (): string[] => mountsUnder(stateDir, readFileSync('/proc/self/mountinfo', 'utf8'));

function unmountAll(): string[] {
  const done: string[] = [];
  // A mount can hide another at the same point: repeat until none is left (bounded).
  for (let round = 0; round < 10; round++) {
    const mounts = labMounts();
    if (mounts.length === 0) break;
    for (const m of mounts) {
      const r = spawnSync('umount', ['--lazy', m], { encoding: 'utf8' });
      if (r.status === 0) done.push(m);
    }
  }
  const left = labMounts();
  if (left.length) throw new Error(`could not unmount ${left.join(', ')}`);
  return done;
}

/**
 * Where the kubelet, containerd's CNI library, containerd and Istio's ambient agents write outside .lab (fixed paths in
 * each): log links, CNI caches, the placeholder files of pods' network namespaces (containerd mounts them in its own
 * mount namespace, lab/node/start.ts), and the directories of the CNI agent's and ztunnel's sockets (hostPath volumes of
 * Istio's charts: only the lab runs Istio on this machine).
 */
export const hostDirs = {
  containersLogs: '/var/log/containers',
  cniResults: '/var/lib/cni/results',
  netns: '/run/netns',
  istioNode: ['/run/istio-cni', '/run/ztunnel'],
};

/** A file in `dir` that no mount covers (same device as its directory): a mount point's placeholder left behind. */
const unmounted = (dir: string, f: string): boolean => statSync(path.join(dir, f)).dev === statSync(dir).dev;

/**
 * Files outside .lab that point into it or are named after the lab's network (the kubelet's log links, CNI caches),
 * containerd's network namespace names that no mount holds any more, and Istio's node directories.
 */
export function strayFiles({ containersLogs, cniResults, netns, istioNode } = hostDirs, root = stateDir): string[] {
  const out: string[] = [];
  if (existsSync(containersLogs))
    for (const f of readdirSync(containersLogs)) {
      const p = path.join(containersLogs, f);
      try {
        if (readlinkSync(p).startsWith(`${root}/`)) out.push(p);
      } catch {
        // not a link
      }
    }
  if (existsSync(cniResults))
    for (const f of readdirSync(cniResults)) if (f.startsWith(`${cniNetwork}-`)) out.push(path.join(cniResults, f));
  if (existsSync(netns))
    for (const f of readdirSync(netns)) if (f.startsWith('cni-') && unmounted(netns, f)) out.push(path.join(netns, f));
  for (const d of istioNode) if (existsSync(d)) out.push(d);
  return out;
}

export interface NodeLeftovers {
  mounts: string[];
  cgroups: string[];
  netns: boolean;
  files: string[];
  /** Kernel settings the kubelet changed and lab:down has not put back yet. */
  kernel: string[];
}

/** What of the real node is still on the host (empty everywhere after lab:down). */
export const nodeLeftovers = (): NodeLeftovers => ({
  mounts: labMounts(),
  cgroups: labCgroups(),
  netns: netnsExists(),
  files: strayFiles(),
  kernel: changedKernelSettings(),
});

/** Whether a containerd that is not the lab's runs (the lab's have all ended when this is asked). */
function containerdRuns(): boolean {
  return readdirSync('/proc').some((d) => {
    try {
      return /^\d+$/.test(d) && readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'containerd';
    } catch {
      return false;
    }
  });
}

/** containerd's shims keep their sockets in /run/containerd/s whatever the state dir; empty, nobody needs it. */
function removeEmptyRuntimeDirs(): boolean {
  if (containerdRuns()) return false;
  let removed = false;
  for (const d of ['/run/containerd/s', '/run/containerd']) {
    try {
      rmdirSync(d);
      removed = true;
    } catch {
      // absent, or not empty: not ours to empty
    }
  }
  return removed;
}

/** One line naming what is left ('' when nothing is), for an error that sends the user to lab:down. */
export function leftoverSummary(l: NodeLeftovers): string {
  return [
    l.netns && `the network namespace ${netnsName}`,
    l.mounts.length > 0 && `${l.mounts.length} mounts under ${stateDir}`,
    l.cgroups.length > 0 && `${l.cgroups.length} cgroups`,
    l.files.length > 0 && `${l.files.length} files outside .lab (${l.files.join(', ')})`,
    l.kernel.length > 0 && `kernel settings changed (${l.kernel.join('; ')})`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** Run after every lab process has ended. Tries every step, then reports all failures at once. */
export function cleanUpNode(): string[] {
  const said: string[] = [];
  const failed: string[] = [];
  const attempt = (what: () => string | undefined): void => {
    try {
      const line = what();
      if (line) said.push(line);
    } catch (e) {
      failed.push((e as Error).message);
    }
  };
  attempt(() => {
    const mounts = unmountAll();
    return mounts.length ? `unmounted ${mounts.length} mounts under ${stateDir}` : undefined;
  });
  attempt(() => {
    const cgroups = removeCgroups();
    return cgroups ? `removed ${cgroups} cgroups under ${cgroupRoot}` : undefined;
  });
  attempt(() => (deleteNetns() ? `deleted network namespace ${netnsName}` : undefined));
  attempt(() => {
    const files = strayFiles();
    for (const f of files) rmSync(f, { force: true, recursive: true });
    return files.length ? `removed ${files.length} files and directories the node left outside .lab` : undefined;
  });
  attempt(() => (removeEmptyRuntimeDirs() ? 'removed the empty /run/containerd' : undefined));
  attempt(() => {
    const restored = restoreKernelSettings();
    return restored.length ? `put back the kernel settings the kubelet changed: ${restored.join('; ')}` : undefined;
  });
  if (failed.length) throw new Error(failed.join('; '));
  return said;
}
