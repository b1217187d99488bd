// Runs one command line in stages: parse the arguments, build the run's context, confirm, execute through listr2,
// and report the outcome as one clear line and an exit code. The renderer is chosen here and nowhere else.
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { ListrRendererValue } from 'listr2';
import { type LoadOptions, loadConfig, type MeshModeName } from '../../config.ts';
import { type Clock, systemClock } from '../base/clock.ts';
import { didYouMean } from '../base/did-you-mean.ts';
import { AbortError, exitCodes, isAbortError, StepError, UsageError } from '../base/errors.ts';
import { RunLog } from '../base/log.ts';
import { trackRunning } from '../exec/leftovers.ts';
import { processes } from '../exec/processes.ts';
import { programEnv, Shell } from '../exec/shell.ts';
import { ApiReads, withApiReads } from '../kube/api-reads.ts';
import { DryRunCluster } from '../kube/dry-run.ts';
import type { Runner } from '../run/commands.ts';
import { type FlagName, flags, type Options, optionsFrom, parseArgsOptions } from '../run/flags.ts';
import { RunState } from '../run/run-state.ts';
import { currentStep, stepOf } from '../run/step.ts';
import type { Command, Ctx, TaskCommand } from '../run/types.ts';
import { commandHelp, flagsOf, usage, versionLine } from './help.ts';
import { npmTookFlags, withNpmFlags } from './npm-flags.ts';
import { runHeader } from './run-header.ts';

export interface RunIO extends LoadOptions {
  out?: (text: string) => void;
  err?: (text: string) => void;
  /** What starts the programs (a test's scripted cluster); real processes by default. */
  runner?: Runner;
  renderer?: ListrRendererValue;
  /** Answers the confirmation question (tests); defaults to a TTY prompt. */
  ask?: (question: string) => Promise<boolean>;
  /** Lets a test abort the run as Ctrl-C would. */
  signal?: AbortSignal;
  /** The time waits count (tests); defaults to the system's. */
  clock?: Clock;
  /** The operating system (tests); defaults to this process's. */
  platform?: NodeJS.Platform;
}

/** What the command line asks for: help, or one command with its options and arguments. */
export type Invocation =
  | { kind: 'version' }
  | { kind: 'usage'; code: number }
  | { kind: 'help'; command: Command }
  | { kind: 'run'; command: Command; options: Options; args: string[] };

function parseFlags(command: Command, rest: string[]) {
  try {
    return parseArgs({ args: rest, options: parseArgsOptions, allowPositionals: true, strict: true });
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec((e as Error).message)?.[1];
    const near =
      unknown &&
      didYouMean(
        unknown,
        flagsOf(command).map((f) => `--${f}`),
      );
    const what = unknown ? `unknown option ${unknown}${near}` : (e as Error).message.split('\n')[0];
    throw new UsageError(`${what}; see \`npm run ${command.name} -- --help\``);
  }
}

/** Stage 1: the command line, checked against the command's own flags and arguments (a UsageError when wrong). */
export function parseInvocation(commands: Command[], argv: string[]): Invocation {
  const [name, ...rest] = argv;
  if (name === '--version') return { kind: 'version' };
  if (!name || name === '--help' || name === '-h') return { kind: 'usage', code: name ? exitCodes.ok : exitCodes.usage };
  if (name === 'help') {
    const topic = rest.find((a) => !a.startsWith('-'));
    return topic ? { kind: 'help', command: commandNamed(commands, topic) } : { kind: 'usage', code: exitCodes.ok };
  }
  const command = commandNamed(commands, name);
  const { values, positionals } = parseFlags(command, rest);
  if (values.version) return { kind: 'version' };
  if (values.help) return { kind: 'help', command };
  for (const flag of Object.keys(flags) as FlagName[])
    if (values[flag] && !flagsOf(command).includes(flag) && flag !== 'version')
      throw new UsageError(`--${flag} is not an option of ${command.name}`);
  if (positionals.length && !(command.kind === 'action' && command.args))
    throw new UsageError(`${command.name} takes no arguments (got ${positionals.join(' ')})`);
  if (command.kind === 'action') command.checkArgs?.(positionals);
  return { kind: 'run', command, options: optionsFrom(values), args: positionals };
}

function commandNamed(commands: Command[], name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (command) return command;
  const near = didYouMean(
    name,
    commands.map((c) => c.name),
  );
  throw new UsageError(`unknown command '${name}'${near}; npm run help lists them`);
}

/** The context, with the shell itself where the runner needs more of it than a step (a second Ctrl-C kills). */
type ShellCtx = Ctx & { sh: Shell };

/** Every command's own namespaces, in the order the commands come (each once). */
export const ownNamespacesOf = (commands: Command[]): string[] => [...new Set(commands.flatMap((c) => c.owns?.namespaces ?? []))];

/** Why a chapter of one track (sidecar, ambient) does not run in the other mode; undefined when it may run. */
export function trackRefusal(command: Command, mode: MeshModeName): string | undefined {
  const { track } = command;
  if (!track || track.mode === mode) return undefined;
  const instead = track.instead ? `run \`npm run ${track.instead}\` instead, or ` : '';
  return `${command.name} is a chapter of the ${track.mode} track and ISTIO_MODE=${mode}: ${instead}set ISTIO_MODE=${track.mode}`;
}

/** Stage 2: configuration, log and shell for one run. */
export function buildContext(
  command: Command,
  ownNamespaces: string[],
  options: Options,
  argv: string[],
  io: RunIO,
  controller: AbortController,
  out: (t: string) => void,
  err: (t: string) => void,
): ShellCtx {
  const { signal } = controller;
  const config = loadConfig(io);
  const otherTrack = trackRefusal(command, config.mode);
  if (otherTrack) throw new UsageError(otherTrack);
  for (const w of config.warnings) err(`warning: ${w}\n`);
  // A dry run and a command that runs nothing (check) leave no log.
  const log =
    options.dryRun || command.local ? new RunLog(undefined) : RunLog.forRun(config.logDir, command.name, config.logKeep);
  for (const line of runHeader(config, argv)) log.write(line);
  if (log.unfinishedBefore) log.write(log.unfinishedBefore);
  // Real programs only: a test's scripted runner makes up its pids.
  const running = log.file && !io.runner ? trackRunning(path.join(config.cacheDir, 'running'), log, err) : undefined;
  log.attributeTo(currentStep);
  const env = (io.env ?? process.env) as NodeJS.ProcessEnv;
  const sh = new Shell({
    config,
    log,
    dryRun: options.dryRun ? new DryRunCluster(config, command.dryRunView, ownNamespaces) : undefined,
    echo: options.verbose,
    signal,
    // Real programs, kubectl's reads answered in-process where they can be (kube/api-reads.ts).
    runner: io.runner ?? withApiReads(new ApiReads(programEnv(config, env), config.context), processes),
    env,
    print: (l) => out(`${l}\n`),
    echoTo: (l) => err(`${l}\n`),
    running,
  });
  const clock = io.clock ?? systemClock;
  return { config, sh, options, log, signal, clock, out, run: new RunState(controller), ownNamespaces };
}

/** Stage 3: a destructive command asks first (never in a dry run or with --yes). Returns whether to go on. */
export async function confirmed(command: Command, ctx: Ctx, io: RunIO, err: (t: string) => void): Promise<boolean> {
  const question = command.confirm?.(ctx);
  if (!question || ctx.options.yes || ctx.options.dryRun) return true;
  const ask = io.ask ?? (process.stdin.isTTY ? askOnTty : undefined);
  if (!ask) throw new UsageError(`${command.name} needs confirmation: ${question} Re-run with --yes.`);
  if (await ask(question)) return true;
  err('nothing done\n');
  return false;
}

async function askOnTty(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const interrupted = new Promise<never>((_, reject) => rl.once('SIGINT', () => reject(new AbortError())));
  try {
    return /^y(es)?$/i.test((await Promise.race([rl.question(`${question} [y/N] `), interrupted])).trim());
  } catch (e) {
    throw isAbortError(e) ? new AbortError() : e;
  } finally {
    rl.close();
  }
}

/** Stage 4: a chapter's steps through listr2. */
export async function executeTasks(command: TaskCommand, ctx: Ctx, io: RunIO): Promise<void> {
  const { dryRun, verbose } = ctx.options;
  const renderer: ListrRendererValue = io.renderer ?? (dryRun ? 'silent' : verbose ? 'verbose' : 'default');
  const { Listr, color, ListrDefaultRendererLogLevels: Levels } = await import('listr2'); // not needed for --help, versions or check
  const list = new Listr<Ctx, ListrRendererValue, ListrRendererValue>(command.tasks(ctx), {
    ctx,
    renderer,
    fallbackRenderer: 'simple',
    exitOnError: true,
    registerSignalListeners: false,
    rendererOptions: {
      collapseSubtasks: false,
      collapseSkips: false,
      showErrorMessage: false,
      // Only a step stopped because another failed is skipped (done-before steps complete): dim, not a warning.
      icon: { [Levels.SKIPPED_WITH_COLLAPSE]: '◌', [Levels.SKIPPED_WITHOUT_COLLAPSE]: '◌' },
      color: { [Levels.SKIPPED_WITH_COLLAPSE]: color.dim, [Levels.SKIPPED_WITHOUT_COLLAPSE]: color.dim },
    },
  });
  await list.run();
}

/** Stage 5: the outcome as one line on stderr and an exit code. */
export function report(e: unknown, err: (t: string) => void, log: RunLog | undefined): number {
  const where = log?.file ? ` (log: ${log.file})` : '';
  if (e instanceof UsageError) {
    const lines = e.message.split('\n').map((l) => `error: ${l}`);
    log?.outcome(`usage error (exit ${exitCodes.usage}): ${lines.join('; ')}`);
    err(`${lines.join('\n')}\n`);
    return exitCodes.usage;
  }
  if (isAbortError(e)) {
    log?.outcome(`interrupted (exit ${exitCodes.interrupted})`);
    err(`interrupted: child processes stopped; re-run to resume${where}\n`);
    return exitCodes.interrupted;
  }
  const step = stepOf(e);
  const message = e instanceof Error ? e.message : String(e);
  // What is not a step's own failure (a bug, a download's ENOTFOUND) keeps its detail in the log.
  if (!(e instanceof StepError)) log?.write(e instanceof Error && e.stack ? e.stack : message);
  const line = `error: ${step ? `${step}: ` : ''}${message.split('\n')[0]}`;
  const suggestion = e instanceof StepError && e.suggestion ? `  suggestion: ${e.suggestion}` : undefined;
  log?.outcome(`failed (exit ${exitCodes.failed}): ${line}${suggestion ? `; ${suggestion.trim()}` : ''}`);
  err(`${line}${where}\n${suggestion ? `${suggestion}\n` : ''}`);
  return exitCodes.failed;
}

export const windows = 'Windows is not supported: run fun-with-istio in WSL 2, or on Linux or macOS';

/** Runs one command line; returns the exit code (never throws for a user mistake). */
export async function run(commands: Command[], argv: string[], io: RunIO = {}): Promise<number> {
  const controller = new AbortController();
  // A reader that went away (`| head -3`) ends the run quietly, as it would end any Unix tool.
  let stdoutClosed = false;
  const onStdoutError = (e: NodeJS.ErrnoException) => {
    // EIO: the terminal closed (SIGHUP follows).
    if (e.code !== 'EPIPE' && e.code !== 'EIO') throw e;
    stdoutClosed = true;
    controller.abort();
  };
  if (!io.out) process.stdout.on('error', onStdoutError);
  const out = io.out ?? ((t: string) => void (stdoutClosed || process.stdout.write(t)));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  let ctx: ShellCtx | undefined;
  io.signal?.addEventListener('abort', () => controller.abort());
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) {
      ctx?.sh.killRunning();
      ctx?.log.outcome(`interrupted twice: quit at once (exit ${exitCodes.interrupted})`);
      process.exit(exitCodes.interrupted);
    }
    err('\ninterrupted: stopping child processes (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  // The terminal went away: stop as for Ctrl-C (the commands lead groups of their own, which the hangup does not reach).
  const onHangup = () => controller.abort();
  // From the start: a Ctrl-C while the run is set up (or asks) ends it as one during a step does, with its outcome.
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  process.on('SIGHUP', onHangup);

  try {
    const invocation = parseInvocation(commands, argv);
    if (invocation.kind === 'version') {
      out(`${versionLine()}\n`);
      return exitCodes.ok;
    }
    if (invocation.kind === 'usage') {
      out(`${usage(commands)}\n`);
      return invocation.code;
    }
    if (invocation.kind === 'help') {
      out(`${commandHelp(invocation.command)}\n`);
      return exitCodes.ok;
    }
    if ((io.platform ?? process.platform) === 'win32') throw new UsageError(windows);
    const { command, args } = invocation;
    const npm = withNpmFlags(invocation.options, npmTookFlags(io.env ?? process.env), command);
    for (const note of npm.notes) err(`${note}\n`);
    const options = npm.options;
    ctx = buildContext(command, ownNamespacesOf(commands), options, argv, io, controller, out, err);
    if (!(await confirmed(command, ctx, io, err))) {
      ctx.log.outcome('nothing done (not confirmed)');
      return exitCodes.ok;
    }
    if (controller.signal.aborted) throw new AbortError(); // stopped before its first step
    if (command.kind === 'action') {
      const code = await command.action(ctx, args);
      ctx.log.outcome(`exit ${code}`);
      return code;
    }
    await executeTasks(command, ctx, io);
    if (controller.signal.aborted) throw new AbortError(); // every step stopped by Ctrl-C, none failed
    ctx.log.outcome('done (exit 0)');
    if (!options.dryRun) err(`done: ${command.name} (log: ${ctx.log.file})\n`);
    return exitCodes.ok;
  } catch (e) {
    controller.abort(); // stop whatever still runs beside the failed step
    if (!stdoutClosed) return report(e, err, ctx?.log);
    ctx?.log.outcome('stopped: the reader of stdout went away');
    return exitCodes.ok;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    process.off('SIGHUP', onHangup);
    // onStdoutError stays: writes still buffered when the run ends may fail after it.
    ctx?.log.close();
  }
}
