// Parses the command line, loads the configuration, runs one command's tasks through listr2 and turns
// the outcome into one clear line and an exit code. The renderer is chosen here and nowhere else.
import type { spawn as nodeSpawn } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { ListrRendererValue } from 'listr2';
import { loadConfig, settings, type LoadOptions } from '../config.ts';
import { AbortError, exitCodes, StepError, UsageError } from './errors.ts';
import { RunLog } from './log.ts';
import { Shell } from './shell.ts';
import { stepOf } from './step.ts';
import type { Command, Ctx, Flag, Options } from './types.ts';

export interface RunIO extends LoadOptions {
  out?: (text: string) => void;
  err?: (text: string) => void;
  spawn?: typeof nodeSpawn;
  renderer?: ListrRendererValue;
  /** Answers the confirmation question (tests); defaults to a TTY prompt. */
  ask?: (question: string) => Promise<boolean>;
  /** Lets a test abort the run as Ctrl-C would. */
  signal?: AbortSignal;
}

const commonFlags = {
  help: { type: 'boolean', short: 'h' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  verbose: { type: 'boolean', short: 'v' },
  'keep-sample': { type: 'boolean' },
  'keep-cluster': { type: 'boolean' },
} as const;

export function usage(commands: Command[], invokedAs = 'npm run'): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'fun-with-istio: the "Fun with Istio" tutorial as re-runnable tasks',
    '',
    `Usage: ${invokedAs} <command> [-- options]    (or: npx tsx Taskfile.ts <command> [options])`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    optionsHelp(),
    '',
    `Run \`${invokedAs} <command> -- --help\` for what a command does and runs.`,
  ].join('\n');
}

function optionsHelp(extra: Partial<Record<Flag, string>> = {}): string {
  const rows: [string, string][] = [
    ['--dry-run', 'print every command it would run on a fresh cluster; run and install nothing'],
    ['--yes, -y', 'never prompt (answer yes)'],
    ['--verbose, -v', 'show every command and its output as it runs'],
    ['--help, -h', 'this help'],
    ...Object.entries(extra).map(([f, d]) => [`--${f}`, d] as [string, string]),
  ];
  return ['Options:', ...rows.map(([f, d]) => `  ${f.padEnd(16)}${d}`)].join('\n');
}

export function commandHelp(c: Command): string {
  const lines = [`${c.name}${c.args ? ` ${c.args}` : ''}: ${c.summary}`];
  if (c.details) lines.push('', c.details.trim());
  lines.push('', optionsHelp(c.flags));
  lines.push('', 'Configuration (environment or .env; the environment wins):');
  for (const [k, v] of Object.entries(settings)) lines.push(`  ${k.padEnd(20)}${v}`);
  lines.push('', 'Exit codes: 0 done, 1 a step failed, 2 bad usage or configuration, 130 interrupted.');
  return lines.join('\n');
}

function parse(c: Command | undefined, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: commonFlags, allowPositionals: true, strict: true });
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec((e as Error).message);
    const what = unknown ? `unknown option ${unknown[1]}` : (e as Error).message.split('\n')[0];
    throw new UsageError(`${what}${c ? ` (see \`npm run ${c.name} -- --help\`)` : ''}`);
  }
}

async function askOnTty(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const interrupted = new Promise<never>((_, reject) => rl.once('SIGINT', () => reject(new AbortError())));
  try {
    return /^y(es)?$/i.test((await Promise.race([rl.question(`${question} [y/N] `), interrupted])).trim());
  } catch (e) {
    throw (e as Error).name === 'AbortError' ? new AbortError() : e;
  } finally {
    rl.close();
  }
}

/** Runs one command line; returns the exit code (never throws for a user mistake). */
export async function run(commands: Command[], argv: string[], io: RunIO = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const [name, ...rest] = argv;
  const command = commands.find((c) => c.name === name);
  let log: RunLog | undefined;
  let ctx: Ctx | undefined;
  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort());
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) {
      ctx?.sh.killRunning();
      process.exit(exitCodes.interrupted);
    }
    err('\ninterrupted: stopping child processes (Ctrl-C again to quit at once)\n');
    controller.abort();
  };

  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      out(`${usage(commands)}\n`);
      return name ? exitCodes.ok : exitCodes.usage;
    }
    if (!command) throw new UsageError(`unknown command '${name}'; commands: ${commands.map((c) => c.name).join(', ')}`);
    const { values, positionals } = parse(command, rest);
    if (values.help) {
      out(`${commandHelp(command)}\n`);
      return exitCodes.ok;
    }
    for (const flag of ['keep-sample', 'keep-cluster'] as const)
      if (values[flag] && !command.flags?.[flag]) throw new UsageError(`--${flag} is not an option of ${command.name}`);
    if (positionals.length && !command.args) throw new UsageError(`${command.name} takes no arguments (got ${positionals.join(' ')})`);

    const options: Options = {
      dryRun: Boolean(values['dry-run']),
      yes: Boolean(values.yes),
      verbose: Boolean(values.verbose),
      keepSample: Boolean(values['keep-sample']),
      keepCluster: Boolean(values['keep-cluster']),
    };
    const config = loadConfig(io);
    for (const w of config.warnings) err(`warning: ${w}\n`);
    log = options.dryRun ? new RunLog(undefined) : RunLog.forRun(config.logDir, command.name);
    log.write(`# fun-with-istio ${argv.join(' ')} (context ${config.context}) ${new Date().toISOString()}`);
    const sh = new Shell({
      config,
      log,
      dryRun: options.dryRun,
      echo: options.verbose,
      signal: controller.signal,
      spawn: io.spawn,
      env: io.env as NodeJS.ProcessEnv | undefined,
      print: (l) => out(`${l}\n`),
    });
    ctx = { config, sh, options, log, signal: controller.signal, out };

    const question = command.confirm?.(ctx);
    if (question && !options.yes && !options.dryRun) {
      const ask = io.ask ?? (process.stdin.isTTY ? askOnTty : undefined);
      if (!ask) throw new UsageError(`${command.name} needs confirmation: ${question} Re-run with --yes.`);
      if (!(await ask(question))) {
        err('nothing done\n');
        return exitCodes.ok;
      }
    }

    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    if (command.action) return await command.action(ctx, positionals);

    const renderer: ListrRendererValue = io.renderer ?? (options.dryRun ? 'silent' : options.verbose ? 'verbose' : 'default');
    const { Listr } = await import('listr2'); // not needed for --help, versions or check
    const list = new Listr<Ctx, ListrRendererValue, ListrRendererValue>(command.tasks!(ctx), {
      ctx,
      renderer,
      fallbackRenderer: 'simple',
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: { collapseSubtasks: false, collapseSkips: false, showErrorMessage: false },
    });
    await list.run();
    if (!options.dryRun) err(`done: ${command.name} (log: ${log.file})\n`);
    return exitCodes.ok;
  } catch (e) {
    controller.abort(); // stop whatever still runs beside the failed step
    return report(e, err, log);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    log?.close();
  }
}

function report(e: unknown, err: (t: string) => void, log: RunLog | undefined): number {
  const where = log?.file ? ` (log: ${log.file})` : '';
  if (e instanceof UsageError) {
    err(e.message.split('\n').map((l) => `error: ${l}\n`).join(''));
    return exitCodes.usage;
  }
  if (e instanceof AbortError) {
    err(`interrupted: child processes stopped; re-run to resume${where}\n`);
    return exitCodes.interrupted;
  }
  const step = stepOf(e);
  const message = e instanceof Error ? e.message : String(e);
  if (!(e instanceof StepError)) log?.write(e instanceof Error && e.stack ? e.stack : message);
  err(`error: ${step ? `${step}: ` : ''}${message.split('\n')[0]}${where}\n`);
  return exitCodes.failed;
}
