// The kubelet sets six kernel settings for the whole machine (pkg/kubelet/cm setupKernelTunables, with
// protectKernelDefaults false: kernel.panic=10, kernel.panic_on_oops=1, vm.overcommit_memory=1, ...). They are not
// per network namespace. The lab records them before the kubelet starts and lab:down puts them back.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeDir } from './paths.ts';

/** What the kubelet v1.36 changes (utilsysctl names, as /proc/sys paths). */
export const kubeletKernelSettings = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
] as const;

const recordFile = path.join(nodeDir, 'host-kernel-settings.json');
const file = (key: string): string => path.join('/proc/sys', key);
const read = (key: string): string => readFileSync(file(key), 'utf8').trim();

/** Saves the machine's values (before the kubelet's first start; a later call keeps the first record). */
export function recordKernelSettings(): void {
  if (existsSync(recordFile)) return;
  writeFileSync(recordFile, `${JSON.stringify(Object.fromEntries(kubeletKernelSettings.map((k) => [k, read(k)])), null, 2)}\n`);
}

const recorded = (): Record<string, string> =>
  existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as Record<string, string>) : {};

/** The settings whose value differs from the record (`key: now (was before)`); none without a record. */
export function changedKernelSettings(): string[] {
  return Object.entries(recorded())
    .filter(([k, v]) => read(k) !== v)
    .map(([k, v]) => `${k.replaceAll('/', '.')}: ${read(k)} (was ${v})`);
}

/** Writes back every recorded value that differs; returns what it put back. */
export function restoreKernelSettings(): string[] {
  const changed = changedKernelSettings();
  for (const [k, v] of Object.entries(recorded())) if (read(k) !== v) writeFileSync(file(k), v);
  return changed;
}
