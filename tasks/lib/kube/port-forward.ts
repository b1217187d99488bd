// A port-forward for as long as a step needs one: kubectl picks a free local port on 127.0.0.1, the step gets the
// base URL, and kubectl is stopped when the step is done with it (or the run is stopped).
import { StepError } from '../base/errors.ts';
import type { Ctx } from '../run/types.ts';
import { type ObjectRef, portForwardArgs } from './kube.ts';

/** The local port in kubectl port-forward's "Forwarding from 127.0.0.1:<port> -> ..." line. */
export const forwardedPort = (line: string): string | undefined => /^Forwarding from 127\.0\.0\.1:(\d+)/.exec(line)?.[1];

/**
 * Runs `use` with `http://127.0.0.1:<port>` forwarded to the Service's `port`, then stops the forward. A dry run
 * lists the port-forward and uses nothing (undefined).
 */
export async function withPortForward<T>(
  ctx: Ctx,
  service: ObjectRef,
  port: number,
  use: (base: string) => Promise<T>,
): Promise<T | undefined> {
  if (ctx.options.dryRun) {
    await ctx.sh.kubectl(portForwardArgs(service, port));
    ctx.sh.note('dry run: no request is sent through it');
    return undefined;
  }
  const stop = new AbortController();
  let ready: (base: string) => void = () => {};
  const forwarding = new Promise<string>((resolve) => (ready = resolve));
  const forward = ctx.sh
    .kubectl(portForwardArgs(service, port), {
      signal: stop.signal,
      onLine: (line) => {
        const local = forwardedPort(line);
        if (local) ready(`http://127.0.0.1:${local}`);
      },
    })
    .then(
      () => undefined,
      (e: unknown) => (stop.signal.aborted ? undefined : e),
    );
  // kubectl ending on its own, before or while the step uses it (e.g. "lost connection to pod"), ends the step.
  const ended = forward.then((e) => {
    throw e ?? new StepError(`kubectl port-forward to ${service.kind}/${service.name} ended`);
  });
  try {
    const base = await Promise.race([forwarding, ended]);
    return await Promise.race([use(base), ended]);
  } finally {
    stop.abort();
    await forward;
  }
}
