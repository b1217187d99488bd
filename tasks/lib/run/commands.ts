// What a step may run, and how: the seam between the runner and the one shell that runs programs (exec/shell.ts).
// A dry run answers from a model of a cluster (kube/dry-run.ts) instead of running anything.

import type { Query, Request } from './requests.ts';

export interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Bytes for stdin. Never logged or printed: describe them in `inputLabel`. */
  input?: string;
  /** What stdin carries, e.g. "Secret/cacerts"; shown as `# stdin: ...` in dry-run and the log. */
  inputLabel?: string;
  /** Return the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  /** Called with each line of output, e.g. to show progress in a task. */
  onLine?: (line: string) => void;
  timeoutMs?: number;
  /**
   * A read-only question: asked once until anything else runs. Until another command starts (a change, a wait, a
   * poll), the same argv gets the same answer without a second round trip. Never for a question asked to see change.
   */
  read?: boolean;
  /** A failure whose stderr matches means "nothing there" (e.g. a kind the server does not serve): empty output. */
  nothingIf?: RegExp;
  /** Stops this command alone (e.g. a port-forward that is no longer needed); the run's signal stops every one. */
  signal?: AbortSignal;
  /** What the command asks, when kube/ built it: a dry run and the tests answer this, not the command line. */
  query?: Query;
}

/** Where a step runs its commands (ctx.sh). */
export interface Commands {
  readonly dryRun: boolean;
  /** The kube context every kubectl and istioctl command is pinned to. */
  readonly context: string;
  kubectl(args: string[], opts?: RunOptions): Promise<Result>;
  istioctl(args: string[], opts?: RunOptions): Promise<Result>;
  minikube(args: string[], opts?: RunOptions): Promise<Result>;
  run(cmd: string, args: string[], opts?: RunOptions): Promise<Result>;
  /** Starts a program the user keeps (a browser), not waited for. */
  launch(cmd: string, args: string[]): void;
  /** Whether a program is on the PATH the commands run with. */
  has(tool: string): boolean;
  /** A remark in the log (and, in a dry run, in the listing). */
  note(text: string): void;
}

/** What a dry run answers for a command instead of running it. */
export interface CommandModel {
  answer(request: Request): Partial<Result>;
}

/** How a program ended, with all it printed. */
export interface Exit {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Set when no program ran: the API server answered the read in-process (the log says so). */
  via?: 'in-process';
}

/** A program started by a `Runner`: its process group (when it has one) and its end. */
export interface Started {
  pid?: number;
  exit: Promise<Exit>;
}

/**
 * What starts programs under the shell: processes for real (exec/processes.ts), or a script in the tests. It gets
 * the request (with what it asks), streams the output as it comes, and stops the program when `signal` aborts.
 */
export type Runner = (
  request: Request,
  io: { env: NodeJS.ProcessEnv; signal?: AbortSignal; output: (stream: 'stdout' | 'stderr', text: string) => void },
) => Started;

/** What the shell starts commands with: a `Runner`, or one that decides first what answers (kube/api-reads.ts). */
export type Starter = (...args: Parameters<Runner>) => Started | Promise<Started>;

/**
 * What a dry run stands for: 'fresh', a cluster where nothing has been done; 'finished', one where `all` has run
 * (teardown's view, so its dry run lists every removal).
 */
export type ClusterView = 'fresh' | 'finished';
