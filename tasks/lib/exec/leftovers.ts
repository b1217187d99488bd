// The commands a run has started, kept on disk while they run. Each leads a process group of its own (so Ctrl-C can
// stop it with its children), so a run killed outright (SIGKILL, an out-of-memory kill) leaves them running, a
// `kubectl port-forward` for good. The next run stops those still alive. A process is known by its pid and its start
// time (/proc/<pid>/stat), so a later process given the same pid is never touched; where there is no /proc (macOS),
// nothing is kept and nothing is stopped.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunLog } from '../base/log.ts';

interface Process {
  pid: number;
  /** Clock ticks after boot at which it started (field 22 of /proc/<pid>/stat). */
  start: string;
}
interface RunRecord {
  owner: Process;
  children: (Process & { line: string })[];
}

/** When the process `pid` started, or undefined when it is gone (or there is no /proc). */
export function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const alive = (p: Process) => p.start !== undefined && startOf(p.pid) === p.start;

/** This run's commands, written to `<dir>/<pid>.json` as each starts and ends. */
export class RunningCommands {
  private readonly dir: string;
  private readonly file: string;
  private readonly owner: Process | undefined;
  private readonly children = new Map<number, RunRecord['children'][number]>();

  constructor(dir: string) {
    this.dir = dir;
    this.file = path.join(dir, `${process.pid}.json`);
    const start = startOf(process.pid);
    this.owner = start === undefined ? undefined : { pid: process.pid, start };
  }

  started(pid: number, line: string): void {
    const start = startOf(pid);
    if (!this.owner || start === undefined) return;
    this.children.set(pid, { pid, start, line });
    this.write();
  }

  ended(pid: number): void {
    if (!this.children.delete(pid)) return;
    if (this.children.size) this.write();
    else
      try {
        rmSync(this.file, { force: true });
      } catch {
        // best effort, as write()
      }
  }

  /** Best effort: a cache that cannot be written (full, read-only) must not stop or hide a command. */
  private write(): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const record: RunRecord = { owner: this.owner as Process, children: [...this.children.values()] };
      writeFileSync(`${this.file}.tmp`, JSON.stringify(record), { mode: 0o600 });
      renameSync(`${this.file}.tmp`, this.file);
    } catch {
      // the next run then has nothing to stop for this one
    }
  }
}

/**
 * Stops the commands that runs no longer alive left running (each one's process group, SIGKILL), and forgets them.
 * Returns their command lines. A run still going on beside this one keeps its commands.
 */
export function stopLeftovers(dir: string, kill: (pid: number, signal: NodeJS.Signals) => void = process.kill): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  // A record a killed run was writing when it died.
  for (const tmp of files.filter((f) => /^\d+\.json\.tmp$/.test(f)))
    if (startOf(Number.parseInt(tmp, 10)) === undefined) removeQuietly(path.join(dir, tmp));
  files = files.filter((f) => /^\d+\.json$/.test(f));
  const stopped: string[] = [];
  for (const file of files) {
    let record: RunRecord | undefined;
    try {
      record = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as RunRecord;
    } catch {
      // A record cut short (written under another name and renamed, so only by hand): nothing to go by.
    }
    if (record && alive(record.owner)) continue;
    for (const child of record?.children ?? []) {
      if (!alive(child)) continue;
      try {
        kill(-child.pid, 'SIGKILL');
        stopped.push(child.line);
      } catch {
        // gone meanwhile
      }
    }
    removeQuietly(path.join(dir, file));
  }
  return stopped;
}

/** Best effort, as the records themselves: what cannot be removed (a folder by that name) must not stop the run. */
function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // left as it is
  }
}

/** Stops what killed runs left running (said in the log and in one line), and keeps this run's commands on disk. */
export function trackRunning(dir: string, log: RunLog, err: (t: string) => void): RunningCommands {
  const stopped = stopLeftovers(dir);
  for (const line of stopped) log.write(`# stopped, left running by a run that was killed: ${line}`);
  const programs = stopped.map((line) => path.basename(line.split(' ')[0]));
  if (stopped.length) err(`note: stopped ${stopped.length} command(s) a killed run left running (${programs.join(', ')})\n`);
  return new RunningCommands(dir);
}
