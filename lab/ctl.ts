// Fault injection for tests: npx tsx lab/ctl.ts stop|start|restart <component>, e.g. stop the apiserver mid-run.
// `start` re-runs the exact command line lab:up used (.lab/<name>.cmd.json). pilot-discovery is the watcher's: kill it
// (`stop pilot-discovery`) and the watcher restarts it with back-off, as the kubelet would restart a crashed container.
import { existsSync, readFileSync } from 'node:fs';
import { request } from './base/kube.ts';
import { waitFor } from './base/probe.ts';
import { alive, cmdFile, readPid, startDaemon, stopDaemon } from './base/proc.ts';
import { labComponents } from './stop.ts';

async function start(name: string): Promise<void> {
  const pid = readPid(name);
  if (pid !== undefined && alive(pid)) throw new Error(`${name} already runs (pid ${pid})`);
  if (!existsSync(cmdFile(name))) throw new Error(`no recorded command for ${name}: is the lab up?`);
  const { cmd, args, cwd } = JSON.parse(readFileSync(cmdFile(name), 'utf8')) as { cmd: string; args: string[]; cwd: string };
  const s = startDaemon(name, cmd, args, { cwd });
  if (name === 'kube-apiserver')
    await waitFor(name, async () => (await request('GET', '/readyz')).status === 200, 90_000, s.exited);
  else await waitFor(name, async () => s.child.pid !== undefined && alive(s.child.pid), 2_000, s.exited);
  console.log(`[lab ctl] ${name} started (pid ${s.child.pid})`);
}

async function main(): Promise<void> {
  const [verb, name] = process.argv.slice(2);
  if (!['stop', 'start', 'restart'].includes(verb ?? '') || !(labComponents as readonly string[]).includes(name ?? ''))
    throw new Error(`usage: lab/ctl.ts stop|start|restart <${labComponents.join('|')}>`);
  const component = name as string; // checked above
  if (verb !== 'start') console.log(`[lab ctl] ${component}: ${await stopDaemon(component)}`);
  if (verb !== 'stop') await start(component);
}

main().catch((e: unknown) => {
  console.error(`[lab ctl] ${(e as Error).message}`);
  process.exit(1);
});
