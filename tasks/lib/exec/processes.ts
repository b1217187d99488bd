// The runner of real programs: zx's `$`, each program in its own process group, fed its input on stdin.
import { $, type LogEntry } from 'zx/core';
import type { Runner } from '../run/commands.ts';

export const processes: Runner = ({ argv, input }, { env, signal, output }) => {
  const child = $({
    quiet: true,
    nothrow: true,
    prefix: '',
    postfix: '',
    detached: true, // own process group: Ctrl-C / abort kills the child and its children together
    env,
    signal,
    input,
    // No stdin unless there is input: a tool that unexpectedly reads it must not hang the run.
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    log: (entry: LogEntry) => {
      if (entry.kind === 'stdout' || entry.kind === 'stderr') output(entry.kind, entry.data.toString());
    },
  })`${argv}`;
  const exit = child.then((out) => ({ exitCode: out.exitCode, signal: out.signal, stdout: out.stdout, stderr: out.stderr }));
  return { pid: child.pid, exit };
};
