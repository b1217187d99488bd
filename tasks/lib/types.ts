import type { ListrRendererFactory, ListrTask, ListrTaskWrapper } from 'listr2';
import type { Config } from '../config.ts';
import type { RunLog } from './log.ts';
import type { Shell } from './shell.ts';

export interface Options {
  dryRun: boolean;
  yes: boolean;
  verbose: boolean;
  keepSample: boolean;
  keepCluster: boolean;
}

/** What every task receives: the configuration, the one shell, the options and the run log. */
export interface Ctx {
  config: Config;
  sh: Shell;
  options: Options;
  log: RunLog;
  signal: AbortSignal;
  /** Standard output of the run (results of versions, check, kube-inject). */
  out: (text: string) => void;
}

export type Task = ListrTask<Ctx, ListrRendererFactory, ListrRendererFactory>;
export type TaskHandle = ListrTaskWrapper<Ctx, ListrRendererFactory, ListrRendererFactory>;

export type Flag = 'keep-sample' | 'keep-cluster';

/** An entry point: a chapter (a task list) or a plain action (versions, check). */
export interface Command {
  name: string;
  summary: string;
  /** The commands it runs, for --help. */
  details?: string;
  flags?: Partial<Record<Flag, string>>;
  tasks?: (ctx: Ctx) => Task[];
  /** A question to confirm before anything runs (destructive commands). */
  confirm?: (ctx: Ctx) => string | undefined;
  /** For commands that are not task lists; returns the exit code. */
  action?: (ctx: Ctx, args: string[]) => Promise<number>;
  /** Positional arguments, for --help (only `check` takes any). */
  args?: string;
}
