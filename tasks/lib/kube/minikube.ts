// What the minikube chapter, versions and teardown share: which tools a cluster kind needs, and minikube's status.
import { minikubeOf } from '../../config.ts';
import { type MinikubeStatus, parseMinikubeStatus } from '../exec/tool-output.ts';
import type { Ctx } from '../run/types.ts';

/** The driver's own command line tool, for the drivers that have one to look for. */
export const driverTool = (ctx: Ctx): string | undefined => {
  const driver = minikubeOf(ctx.config)?.driver;
  return driver === 'docker' || driver === 'podman' ? driver : undefined;
};

export function requiredTools(ctx: Ctx): string[] {
  if (ctx.config.cluster.kind === 'existing') return ['kubectl'];
  const driver = driverTool(ctx);
  return ['minikube', 'kubectl', ...(driver ? [driver] : [])];
}

export function missingTools(ctx: Ctx, tools: string[]): string[] {
  return tools.filter((t) => !ctx.sh.has(t));
}

/** `minikube status -o json` for the configured profile (its exit code is a bit mask, so never a failure here). */
export async function minikubeStatus(ctx: Ctx): Promise<MinikubeStatus> {
  const r = await ctx.sh.minikube(['status', '-o', 'json'], {
    allowFailure: true,
    read: true,
    query: { op: 'profile-status' },
  });
  return parseMinikubeStatus(r.stdout);
}
