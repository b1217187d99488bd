// The cgroup the kubelet puts every pod under (cgroupRoot), in each of this machine's cgroup v1 hierarchies (and the
// cgroup2 mount beside them). Made before the kubelet starts; its processes and directories are what lab:down ends.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupRoot } from './paths.ts';

const cgroupMount = '/sys/fs/cgroup';

/**
 * Each mounted hierarchy's directory, once: on a cgroup v2 machine `/sys/fs/cgroup` itself; on a v1 or hybrid one each
 * directory below it (cpu, memory, ..., systemd, unified), with links such as cpu -> cpu,cpuacct counted once.
 */
export function hierarchies(mount = cgroupMount): string[] {
  if (!existsSync(mount)) return [];
  if (existsSync(path.join(mount, 'cgroup.controllers'))) return [mount];
  const dirs = readdirSync(mount)
    .map((h) => path.join(mount, h))
    .filter((d) => statSync(d).isDirectory() && existsSync(path.join(d, 'cgroup.procs')));
  return [...new Map(dirs.map((d) => [realpathSync(d), d])).values()];
}

/** Creates the root in every hierarchy; a new v1 cpuset takes its parent's cpus and memory nodes (else nothing can join). */
export function createCgroupRoot(): void {
  for (const h of hierarchies()) {
    const dir = path.join(h, cgroupRoot);
    mkdirSync(dir, { recursive: true });
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const own = path.join(dir, f);
      if (existsSync(own) && readFileSync(own, 'utf8').trim() === '')
        writeFileSync(own, readFileSync(path.join(h, f), 'utf8').trim());
    }
  }
}

type ReadDir = (dir: string) => { name: string; isDirectory: () => boolean }[];
const readDir: ReadDir = (dir) => readdirSync(dir, { withFileTypes: true });

/**
 * The cgroup directories under `top`, deepest first. A container's cgroup goes when its last process ends, so one
 * may vanish between being listed and being read: it is left out, as it would be a moment later.
 */
export function cgroupTree(top: string, read: ReadDir = readDir): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: ReturnType<ReadDir>;
    try {
      entries = read(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
    out.push(dir);
  };
  walk(top);
  return out;
}

/** Every cgroup directory of the lab's pods, in every hierarchy, deepest first. */
export function labCgroups(): string[] {
  return hierarchies()
    .map((h) => path.join(h, cgroupRoot))
    .filter((top) => existsSync(top))
    .flatMap((top) => cgroupTree(top));
}

/** Pids in the lab's pod cgroups: the containers' processes, which no lab pid file names. */
export function podProcesses(): number[] {
  const pids = new Set<number>();
  for (const cg of labCgroups()) {
    try {
      for (const l of readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').split('\n')) if (l.trim()) pids.add(Number(l));
    } catch {
      // gone meanwhile
    }
  }
  return [...pids];
}

/**
 * SIGKILLs every process in the lab's pod cgroups until none is left (bounded: 50 rounds of 100 ms, for a pod that
 * forks while it dies); returns how many it killed.
 */
export async function killPods(): Promise<number> {
  let killed = 0;
  for (let round = 0; round < 50; round++) {
    const pids = podProcesses();
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return killed;
}

/** Removes the (empty) cgroups, deepest first; returns how many. */
export function removeCgroups(): number {
  let n = 0;
  for (const cg of labCgroups()) {
    try {
      rmdirSync(cg);
      n++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone with another name of the same hierarchy
      throw new Error(`could not remove cgroup ${cg}: ${(e as Error).message}`);
    }
  }
  return n;
}
