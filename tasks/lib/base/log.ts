import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
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

  /** A new log for one run in `logDir`, keeping only the newest `keep` logs there. */
  static forRun(logDir: string, command: string, keep: number, now = new Date()): RunLog {
    const stamp = now.toISOString().replace(/[:.]/g, '-');
    const log = new RunLog(path.join(logDir, `${stamp}-${command}.log`));
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

/** Deletes all but the newest `keep` logs (their names start with a sortable timestamp). */
function pruneLogs(dir: string, keep: number): void {
  const logs = readdirSync(dir)
    .filter((f) => /^\d{4}-\d\d-\d\dT.*\.log$/.test(f))
    .sort();
  for (const old of logs.slice(0, Math.max(0, logs.length - keep))) rmSync(path.join(dir, old), { force: true });
}
