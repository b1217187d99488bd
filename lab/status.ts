// npm run lab:status — which lab processes run, and whether the apiserver, the node (kwok's or the real one) and
// each revision's pilot-discovery (kwok flavour) answer.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from './base/common.ts';
import { runningFlavour } from './base/flavour.ts';
import { daemonName, istiodWorkDir } from './base/istiod.ts';
import { getJson, request } from './base/kube.ts';
import { probe } from './base/probe.ts';
import { alive, markedPids, readPid } from './base/proc.ts';
import { labComponents } from './stop.ts';

async function main(): Promise<number> {
  if (!existsSync(stateDir)) {
    console.log('lab: down (no .lab/)');
    return markedPids().length ? 1 : 0;
  }
  let ok = true;
  console.log(`${'node'.padEnd(24)} ${runningFlavour()}`);
  for (const c of labComponents) {
    const pid = readPid(c);
    const state = pid === undefined ? 'not started' : alive(pid) ? `running (pid ${pid})` : `DEAD (pid ${pid})`;
    if (pid !== undefined && !alive(pid)) ok = false;
    console.log(`${c.padEnd(24)} ${state}`);
  }
  try {
    const r = await request('GET', '/readyz');
    console.log(`${'apiserver /readyz'.padEnd(24)} ${r.status} ${r.body.trim()}`);
    const nodes = await getJson<{
      items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
    }>('/api/v1/nodes');
    for (const n of nodes?.items ?? [])
      console.log(
        `${`node ${n.metadata.name}`.padEnd(24)} Ready=${n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '?'}`,
      );
  } catch (e) {
    ok = false;
    console.log(`${'apiserver'.padEnd(24)} unreachable: ${(e as Error).message}`);
  }
  // One pilot-discovery per istiod revision: `.lab/istiod/` (default) and `.lab/istiod-<rev>/` (lab/base/istiod.ts).
  const revisions = readdirSync(stateDir)
    .filter((d) => d === 'istiod' || d.startsWith('istiod-'))
    .map((d) => (d === 'istiod' ? 'default' : d.slice('istiod-'.length)));
  for (const rev of revisions) {
    const portsFile = path.join(istiodWorkDir(rev), 'ports.json');
    const name = daemonName(rev);
    const pd = readPid(name);
    if (pd === undefined || !alive(pd) || !existsSync(portsFile)) continue;
    const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { http: number; webhook: number };
    const label = `${name} /ready`.padEnd(24);
    try {
      const r = await probe(`http://127.0.0.1:${ports.http}/ready`);
      console.log(`${label} ${r.status} (webhooks 127.0.0.1:${ports.webhook})`);
    } catch (e) {
      console.log(`${label} ${(e as Error).message}`);
    }
  }
  for (const f of ['kubeconfig', 'env', 'istio-overlay.yaml']) console.log(`${f.padEnd(24)} ${path.join(stateDir, f)}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  },
);
