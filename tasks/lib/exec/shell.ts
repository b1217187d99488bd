// The only way the tool runs external programs: a zx `$` preset that pins the cluster context,
// logs every command with its output and exit code, honours dry-run and Ctrl-C.
import { spawn as spawnProcess } from 'node:child_process';
import { which } from 'zx/core';
import { type Config, minikubeOf } from '../../config.ts';
import { AbortError, CommandError } from '../base/errors.ts';
import type { RunLog } from '../base/log.ts';
import type { CommandModel, Commands, Result, RunOptions, Starter } from '../run/commands.ts';
import { type FailureReason, failureReason } from './failure.ts';
import { processes } from './processes.ts';

export interface ShellOptions {
  config: Pick<Config, 'context' | 'istioctl' | 'kubeconfig' | 'cluster'>;
  log: RunLog;
  /** Set for a dry run: print each command and answer it from this model instead of running it. */
  dryRun?: CommandModel;
  signal?: AbortSignal;
  /** What starts the programs: real processes, or a test's script of a cluster. */
  runner?: Starter;
  /** Where dry-run lines go (stdout by default). */
  print?: (line: string) => void;
  /** --verbose: also print each command and its output as it runs. */
  echo?: boolean;
  /** Where --verbose echoes go (stderr by default: stdout stays for results, e.g. kube-inject's manifest). */
  echoTo?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Told of each program as it starts and ends, so a run killed outright leaves nothing the next cannot stop. */
  running?: { started(pid: number, line: string): void; ended(pid: number): void };
}

/** One word as any POSIX shell reads it back: bare when safe, else in single quotes (zx's $'...' is bash-only). */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: string[], inputLabel?: string): string {
  return argv.map(shellQuote).join(' ') + (inputLabel ? ` # stdin: ${inputLabel}` : '');
}

/** The environment every program runs with: the user's, with the kubeconfig the configuration names. */
export function programEnv(config: Pick<Config, 'kubeconfig'>, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return config.kubeconfig ? { ...env, KUBECONFIG: config.kubeconfig } : { ...env };
}

export class Shell implements Commands {
  readonly dryRun: boolean;
  private readonly model: CommandModel | undefined;
  private readonly print: (line: string) => void;
  private readonly env: NodeJS.ProcessEnv;
  private readonly o: ShellOptions;
  /** Process groups of the commands running now (each child leads its own group). */
  private readonly running = new Set<number>();
  /** Answers to read-only questions since the last other command (see `RunOptions.read`). */
  private readonly answers = new Map<string, Promise<Result>>();

  constructor(o: ShellOptions) {
    this.o = o;
    this.dryRun = Boolean(o.dryRun);
    this.model = o.dryRun;
    this.print = o.print ?? ((line) => process.stdout.write(`${line}\n`));
    this.env = programEnv(o.config, o.env ?? process.env);
  }

  get context(): string {
    return this.o.config.context;
  }

  kubectl(args: string[], opts?: RunOptions): Promise<Result> {
    return this.run('kubectl', ['--context', this.o.config.context, ...args], opts);
  }

  istioctl(args: string[], opts?: RunOptions): Promise<Result> {
    return this.run(this.o.config.istioctl, ['--context', this.o.config.context, ...args], opts);
  }

  minikube(args: string[], opts?: RunOptions): Promise<Result> {
    // Pinned to the tool's own profile; with CLUSTER=existing only profile-less commands (version) are run.
    const mk = minikubeOf(this.o.config);
    return this.run('minikube', [...(mk ? ['-p', mk.profile] : []), ...args], opts);
  }

  private echoLine(line: string): void {
    (this.o.echoTo ?? ((l) => process.stderr.write(`${l}\n`)))(line);
  }

  /**
   * Starts a program that outlives the run (a browser): not waited for and not stopped by Ctrl-C. Logged, and
   * printed instead in a dry run. A program that cannot start is not the run's failure.
   */
  launch(cmd: string, args: string[]): void {
    const line = commandLine([cmd, ...args]);
    this.o.log.command(`${line} # launched, not waited for`);
    if (this.model) {
      this.print(`$ ${line}`);
      return;
    }
    if (this.o.echo) this.echoLine(`$ ${line}`);
    const child = spawnProcess(cmd, args, { detached: true, stdio: 'ignore', env: this.env });
    child.on('error', () => {});
    child.unref();
  }

  /** Last resort (a second Ctrl-C): SIGKILL every running command's whole process group. */
  killRunning(): void {
    for (const group of this.running) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Whether a program is on the PATH the commands will run with (looked up in-process, nothing runs). */
  has(tool: string): boolean {
    if (this.model) return true; // a dry run assumes the tools are installed
    return Boolean(which.sync(tool, { nothrow: true, path: this.env.PATH ?? '' }));
  }

  /** A remark in the dry-run listing (e.g. a task title or a download), as a `#` comment. */
  note(text: string): void {
    this.o.log.write(`# ${text}`);
    if (this.dryRun) this.print(`# ${text}`);
  }

  run(cmd: string, args: string[], opts: RunOptions = {}): Promise<Result> {
    const argv = [cmd, ...args];
    if (!opts.read) {
      // Anything but a read may change what a read would answer: forget every answer, before and after.
      this.answers.clear();
      return this.execute(argv, opts).finally(() => this.answers.clear());
    }
    // A failed answer kept for a caller that allowed it must not reach one that did not.
    const key = JSON.stringify([argv, Boolean(opts.allowFailure), String(opts.nothingIf)]);
    const known = this.answers.get(key);
    if (known) {
      this.o.log.write(`# asked before, same answer: ${commandLine(argv)}`);
      return known;
    }
    const asked = this.execute(argv, opts);
    this.answers.set(key, asked);
    asked.catch(() => this.answers.get(key) === asked && this.answers.delete(key));
    return asked;
  }

  private async execute(argv: string[], opts: RunOptions): Promise<Result> {
    const cmd = argv[0];
    const line = commandLine(argv, opts.inputLabel);
    const { log, signal } = this.o;
    log.command(line);
    const request = { argv, input: opts.input, query: opts.query };
    if (this.model) {
      this.print(`$ ${line}`);
      return { exitCode: 0, stdout: '', stderr: '', ...this.model.answer(request) };
    }
    if (signal?.aborted) throw new AbortError();

    // Output comes in chunks: a line is shown once whole, and the last one at the end, with or without its newline.
    let pending = '';
    const lines = (chunk: string) => {
      if (!opts.onLine) return;
      pending += chunk;
      const parts = pending.split(/\r?\n|\r/);
      pending = parts.pop() ?? '';
      for (const l of parts) if (l.trim()) opts.onLine(l);
    };
    if (this.o.echo) this.echoLine(`$ ${line}`);
    const output = (stream: 'stdout' | 'stderr', text: string) => {
      log.output(stream, text);
      // Lines a step shows as its progress are drawn by the renderer already: echo the rest once.
      if (this.o.echo && !opts.onLine) this.echoLine(text.replace(/\n$/, ''));
      lines(text);
    };
    const started = Date.now();
    // The command's own time limit is a signal too, so a failure can tell it from any other kill.
    const timeout = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
    const stops = [signal, opts.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const starting = (this.o.runner ?? processes)(request, {
      env: this.env,
      signal: stops.length > 1 ? AbortSignal.any(stops) : stops[0],
      output,
    });
    // A program started at once is counted as running at once (a second Ctrl-C may come before the next tick).
    const child = starting instanceof Promise ? await starting : starting;
    const group = child.pid; // started at once; the child leads its own process group
    if (group !== undefined) {
      this.running.add(group);
      this.o.running?.started(group, line);
    }
    let out: Awaited<typeof child.exit>;
    try {
      out = await child.exit;
    } finally {
      if (group !== undefined) {
        this.running.delete(group);
        this.o.running?.ended(group);
      }
    }
    if (pending.trim()) opts.onLine?.(pending);

    const exitCode = out.exitCode ?? -1;
    log.ended(`exit ${out.exitCode ?? out.signal} (${Date.now() - started} ms${out.via ? `, ${out.via}` : ''})`);
    if (signal?.aborted) throw new AbortError();
    const result = { exitCode, stdout: out.stdout, stderr: out.stderr };
    if (exitCode !== 0 && opts.nothingIf?.test(out.stderr)) return { exitCode: 0, stdout: '', stderr: out.stderr };
    if (exitCode === 0 || opts.allowFailure) return result;
    const why = describeFailure(
      cmd,
      out.exitCode,
      out.signal,
      out.stderr,
      // Stopped at its time limit, however it ended (a tool that traps SIGTERM exits with a code of its own).
      timeout?.aborted ? opts.timeoutMs : undefined,
    );
    throw new CommandError(commandLine(argv), out.exitCode, out.stderr, why.reason ?? '', why.suggestion);
  }
}

function describeFailure(
  cmd: string,
  code: number | null,
  sig: string | null,
  stderr: string,
  /** Set when the command was stopped because it ran out of its time. */
  timedOutAfterMs?: number,
): FailureReason {
  const tool = cmd.split('/').pop() ?? cmd;
  if (code === 127)
    return { reason: `${tool} is not installed (not found on PATH); run \`npm run versions\` to see what is missing` };
  if (timedOutAfterMs !== undefined) return { reason: `${tool} timed out after ${timedOutAfterMs / 1000}s` };
  const { reason, suggestion } = failureReason(tool, stderr);
  return { reason: `${tool} exited with ${code ?? sig}${reason ? `: ${reason}` : ''}`, suggestion };
}
