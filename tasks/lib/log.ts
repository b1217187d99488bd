import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Append-only run log: every command, its output and exit code. Written synchronously so a crash keeps it. */
export class RunLog {
  private fd: number | undefined;
  readonly file: string | undefined;
  constructor(file: string | undefined) {
    this.file = file;
    if (!file) return;
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o600);
  }

  static forRun(logDir: string, command: string, now = new Date()): RunLog {
    const stamp = now.toISOString().replace(/[:.]/g, '-');
    return new RunLog(path.join(logDir, `${stamp}-${command}.log`));
  }

  write(text: string): void {
    if (this.fd !== undefined) writeSync(this.fd, text.endsWith('\n') ? text : `${text}\n`);
  }

  command(line: string): void {
    this.write(`$ ${line}`);
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

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
