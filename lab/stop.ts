// Stopping the lab: every component's process group in reverse start order, then any straggler carrying the lab marker.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { logsDir, stateDir } from './common.ts';
import { markedPids, stopDaemon, stopGroup } from './proc.ts';

/** In start order. pilot-discovery is started (and normally stopped) by istiod-watch. */
export const labComponents = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'istiod-watch',
  'pilot-discovery',
] as const;

export async function stopAll({ keepLogs = false, quiet = false } = {}): Promise<void> {
  const say = (m: string): void => {
    if (!quiet) console.log(`[lab down] ${m}`);
  };
  // Watcher first (it stops pilot-discovery itself), then the rest from the top of the stack down.
  for (const name of [
    'istiod-watch',
    'pilot-discovery',
    'kwok',
    'kube-scheduler',
    'kube-controller-manager',
    'kube-apiserver',
    'etcd',
  ]) {
    const r = await stopDaemon(name);
    if (r !== 'absent') say(`${name}: ${r}`);
  }
  for (const pid of markedPids()) say(`straggler ${pid}: ${await stopGroup(pid, 3000)}`);
  const left = markedPids();
  if (left.length) throw new Error(`processes still running after stop: ${left.join(', ')}`);
  if (!existsSync(stateDir)) return;
  if (keepLogs) {
    for (const e of readdirSync(stateDir))
      if (path.join(stateDir, e) !== logsDir) rmSync(path.join(stateDir, e), { recursive: true, force: true });
  } else {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
