// Background processes of the lab: each in its own process group, logged to .lab/logs, its pid in .lab/<name>.pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logsDir, stateDir } from './common.ts';

/** Every process the lab starts carries this variable, so lab:down can find stragglers by pid. */
export const labMarker = 'FUN_WITH_ISTIO_LAB';

export const pidFile = (name: string): string => path.join(stateDir, `${name}.pid`);
export const logFile = (name: string): string => path.join(logsDir, `${name}.log`);
/** The command line a component was started with (lab/ctl.ts restarts it from there). */
export const cmdFile = (name: string): string => path.join(stateDir, `${name}.cmd.json`);

export function readPid(name: string): number | undefined {
  const f = pidFile(name);
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    return /\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export interface Started {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code/signal when the process ends. */
  exited: Promise<string>;
}

/** Starts `cmd` detached (own process group), output appended to .lab/logs/<name>.log. */
export function startDaemon(
  name: string,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Started {
  mkdirSync(logsDir, { recursive: true });
  const fd = openSync(logFile(name), 'a');
  writeFileSync(fd, `\n=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? stateDir,
    env: { ...(opts.env ?? process.env), [labMarker]: stateDir },
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  writeFileSync(pidFile(name), `${child.pid}\n`);
  writeFileSync(cmdFile(name), `${JSON.stringify({ cmd, args, cwd: opts.cwd ?? stateDir })}\n`);
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, sig) => resolve(sig ? `signal ${sig}` : `exit code ${code}`)),
  );
  child.unref();
  return { name, child, exited };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM to the process group, up to `graceMs` for it to end, then SIGKILL. Removes the pid file. */
export async function stopGroup(pid: number, graceMs = 10_000): Promise<'stopped' | 'killed' | 'absent'> {
  const signal = (sig: NodeJS.Signals): boolean => {
    try {
      process.kill(-pid, sig);
      return true;
    } catch {
      try {
        process.kill(pid, sig);
        return true;
      } catch {
        return false;
      }
    }
  };
  if (!alive(pid)) return 'absent';
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid) && !groupAlive(pid)) return 'stopped';
    await sleep(100);
  }
  signal('SIGKILL');
  for (let i = 0; i < 50 && (alive(pid) || groupAlive(pid)); i++) await sleep(100);
  return 'killed';
}

/** Whether any non-zombie process is in process group `pgid` (zombies of reparented daemons linger until reaped). */
function groupAlive(pgid: number): boolean {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    } catch {
      // exited meanwhile
    }
  }
  return false;
}

export async function stopDaemon(name: string, graceMs?: number): Promise<string> {
  const pid = readPid(name);
  if (pid === undefined) return 'absent';
  const r = await stopGroup(pid, graceMs);
  rmSync(pidFile(name), { force: true });
  return r;
}

/** Pids of live processes whose environment carries the lab marker for this state dir (stragglers). */
export function markedPids(): number[] {
  const out: number[] = [];
  const needle = `${labMarker}=${stateDir}\0`;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (`${readFileSync(`/proc/${d}/environ`, 'latin1')}\0`.includes(needle) && !isZombie(Number(d))) out.push(Number(d));
    } catch {
      // gone or not ours to read
    }
  }
  return out;
}
