import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * Append-only run log: a header with the configuration, every command with its output and exit code, and how the
 * run ended. Written synchronously so a crash keeps it.
 */
export class RunLog {
  private fd: number | undefined;
  readonly file: string | undefined;
  private readonly started: number;
  private where: () => string | undefined = () => undefined;
  constructor(file: string | undefined, now: () => number = Date.now) {
    this.file = file;
    this.now = now;
    this.started = now();
    if (!file) return;
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o600);
  }

  /**
   * What to say of the run before this one when its log has no outcome (killed, the machine stopped, or still running
   * beside this one); nothing when it ended or there was none.
   */
  unfinishedBefore: string | undefined;

  /** A new log for one run in `logDir`, keeping only the newest `keep` logs there. */
  static forRun(logDir: string, command: string, keep: number, now = new Date()): RunLog {
    const stamp = now.toISOString().replace(/[:.]/g, '-');
    const previous = logsIn(logDir).pop();
    const log = new RunLog(path.join(logDir, `${stamp}-${command}.log`));
    if (previous && !endsWithOutcome(path.join(logDir, previous)))
      log.unfinishedBefore = `# the run before this one (log: ${previous}) has no outcome: it was killed, or it is still running`;
    pruneLogs(logDir, keep);
    return log;
  }

  write(text: string): void {
    if (this.fd !== undefined) writeSync(this.fd, text.endsWith('\n') ? text : `${text}\n`);
  }

  private readonly now: () => number;

  /** Names the step each command belongs to (the runner gives the step running now). */
  attributeTo(where: () => string | undefined): void {
    this.where = where;
  }

  /** `+12.345s [step] `: when in the run a command started or ended, and in which step (branches run side by side). */
  private stamp(): string {
    const where = this.where();
    return `+${((this.now() - this.started) / 1000).toFixed(3)}s ${where ? `[${where}] ` : ''}`;
  }

  command(line: string): void {
    this.write(`${this.stamp()}$ ${line}`);
  }

  /** How a command ended (`exit 0 (120 ms)`), stamped as its start was. */
  ended(text: string): void {
    this.write(`${this.stamp()}> ${text}`);
  }

  output(stream: 'stdout' | 'stderr', text: string): void {
    if (!text) return;
    const mark = stream === 'stdout' ? '| ' : '! ';
    this.write(
      text
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => mark + l)
        .join('\n'),
    );
  }

  /** The last line of the log: how the run ended. */
  outcome(text: string): void {
    this.write(`# outcome: ${text}`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The run logs in `dir`, oldest first (their names start with a sortable timestamp); none where there is no dir. */
function logsIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /^\d{4}-\d\d-\d\dT.*\.log$/.test(f))
      .sort();
  } catch {
    return [];
  }
}

/** Whether a log's last line says how its run ended (read from its end: a log can be long). */
function endsWithOutcome(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return true; // pruned meanwhile by a run beside this one: nothing to say of it
  }
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    const lines = tail.toString('utf8').trimEnd().split('\n');
    return lines[lines.length - 1].startsWith('# outcome: ');
  } finally {
    closeSync(fd);
  }
}

/** Deletes all but the newest `keep` logs. */
function pruneLogs(dir: string, keep: number): void {
  const logs = logsIn(dir);
  for (const old of logs.slice(0, Math.max(0, logs.length - keep))) rmSync(path.join(dir, old), { force: true });
}
