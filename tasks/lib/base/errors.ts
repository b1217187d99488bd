/** Bad usage or configuration, found before anything runs: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A step that could not be done: exit code 1, one line saying why (and, when known, one saying what to do). */
export class StepError extends Error {
  override name = 'StepError';
  readonly suggestion?: string;
  constructor(message: string, suggestion?: string) {
    super(message);
    this.suggestion = suggestion;
  }
}

/** An external command that exited non-zero (or never started). */
export class CommandError extends StepError {
  override name = 'CommandError';
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(command: string, exitCode: number | null, stderr: string, reason: string, suggestion?: string) {
    super(reason, suggestion);
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Ctrl-C: children are stopped, exit code 130, a re-run resumes. */
export class AbortError extends Error {
  override name = 'AbortError';
  constructor() {
    super('interrupted');
  }
}

/** Ctrl-C in any form: ours, or Node's own (an aborted timer, fetch or readline). */
export const isAbortError = (e: unknown): boolean => e instanceof AbortError || (e as Error | undefined)?.name === 'AbortError';

/**
 * Waits for `work` unless `signal` aborts first: for work that cannot be stopped midway (key generation), so
 * Ctrl-C ends the wait at once and the result is thrown away.
 */
export function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new AbortError());
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new AbortError());
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

export const exitCodes = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
