import type { ListrRendererFactory, ListrTask, ListrTaskWrapper } from 'listr2';
import type { Config, MeshModeName, SettingTopic } from '../../config.ts';
import type { Clock } from '../base/clock.ts';
import type { RunLog } from '../base/log.ts';
import type { ClusterView, Commands } from './commands.ts';
import type { OptionalFlag, Options } from './flags.ts';
import type { RunState } from './run-state.ts';

export type { Options };

/** What every task receives: the configuration, the one shell, the options, the run log and the clock. */
export interface Ctx {
  config: Config;
  sh: Commands;
  options: Options;
  log: RunLog;
  signal: AbortSignal;
  /** The time the waits count (a test's own clock lets them pass at once). */
  clock: Clock;
  /** The steps working now, and why the run is being cancelled. */
  run: RunState;
  /** Standard output of the run (results of versions, check, kube-inject). */
  out: (text: string) => void;
  /** Every chapter's own namespaces (CommandBase.owns), in the order the chapters come. */
  ownNamespaces: string[];
}

export type Task = ListrTask<Ctx, ListrRendererFactory, ListrRendererFactory>;
export type TaskHandle = ListrTaskWrapper<Ctx, ListrRendererFactory, ListrRendererFactory>;

interface CommandBase {
  name: string;
  summary: string;
  /** What it does and the commands it runs, for --help. */
  details?: string;
  /** The optional flags it takes besides the common ones. */
  flags?: OptionalFlag[];
  /** A question to confirm before anything runs (destructive commands). */
  confirm?: (ctx: Ctx) => string | undefined;
  /** What its exit codes mean, when not the chapters' 0 done, 1 failed, 2 usage, 130 interrupted. */
  exitCodes?: string;
  /** Command lines shown under Examples in --help (default: the plain run and its dry run). */
  examples?: string[];
  /** The settings it reads besides those every command reads (see SettingTopic); help lists only those. */
  reads?: readonly SettingTopic[];
  /** Runs no external program and changes nothing (check): no log, no --dry-run or --yes, no cluster settings. */
  local?: true;
  /** What its dry run stands for (see dry-run.ts); a fresh cluster unless said otherwise. */
  dryRunView?: ClusterView;
  /**
   * What the chapter makes as its own, whole: namespaces with the tool's label. Teardown deletes them together, and
   * a finished cluster (teardown's dry run) has them.
   */
  owns?: { namespaces: string[] };
  /**
   * The track a chapter belongs to, when it needs one mesh mode (ISTIO_MODE): run in the other, it is refused before
   * anything runs, naming `instead` (the other track's chapter for the same lesson) when there is one.
   */
  track?: { mode: MeshModeName; instead?: string };
}

/** A chapter: named steps run through listr2. */
export interface TaskCommand extends CommandBase {
  kind: 'tasks';
  tasks: (ctx: Ctx) => Task[];
}

/** A plain action (versions, check, kube-inject); returns the exit code. */
export interface ActionCommand extends CommandBase {
  kind: 'action';
  action: (ctx: Ctx, args: string[]) => Promise<number>;
  /** Positional arguments, for --help; an action without them takes none. */
  args?: string;
  /** Refuses bad arguments (a UsageError) before anything runs or a log is written. */
  checkArgs?: (args: string[]) => void;
}

/** An entry point. */
export type Command = TaskCommand | ActionCommand;
