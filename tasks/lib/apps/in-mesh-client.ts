// A client inside the mesh, as istio.io's tasks use one: the release's curl sample, asked with `kubectl exec ... curl`
// what a user would type. The answer is curl's own (the HTTP status and its exit code); kubectl's own failure throws.
import { names } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { releaseFile } from '../istio/release-file.ts';
import { applyFile } from '../istio/routing.ts';
import { available, execArgs, getObject, inNamespace, type ObjectRef, rolloutStatus } from '../kube/kube.ts';
import { step } from '../run/step.ts';
import type { Ctx, Task } from '../run/types.ts';
import { namespace } from './bookinfo.ts';

/** The curl client in Bookinfo's namespace (in the mesh with it). */
export const meshClient = inNamespace(namespace, 'deployment', names.bookinfo.client);

/** Steps: the release's curl sample deployed into Bookinfo's namespace, and ready. */
export const deployMeshClient = (): Task[] => [
  applyFile(`Deploy a client in the mesh (samples/curl/curl.yaml in ${namespace})`, (ctx: Ctx) =>
    releaseFile(ctx, 'curl/curl.yaml', namespace),
  ),
  step('Wait for the client to be ready', {
    done: async (ctx) => available(await getObject(ctx, meshClient)) && `deployment ${meshClient.name} is Available`,
    run: async (ctx) => {
      await rolloutStatus(ctx, meshClient);
    },
  }),
];

/** What curl got: a status ('000' when no response came) and its exit code (56: the connection was reset). */
export interface Reach {
  status: string;
  curlExit: number;
  /** The start of the body, for denials that say why ("RBAC: access denied"). */
  body: string;
}

const statusMark = 'HTTP_STATUS=';

/** Fetches `url` from `client` (a Deployment whose container is named like it) with `method`. */
export async function curlFrom(ctx: Ctx, client: ObjectRef, url: string, method: string): Promise<Reach> {
  const curl = ['curl', '-s', '-X', method, '--max-time', '5', '-w', `${statusMark}%{http_code}`, url];
  const r = await ctx.sh.kubectl(execArgs(client, client.name ?? names.bookinfo.client, curl), { allowFailure: true });
  const curlExit = Number(/command terminated with exit code (\d+)/.exec(r.stderr)?.[1] ?? (r.exitCode === 0 ? 0 : Number.NaN));
  if (Number.isNaN(curlExit))
    throw new StepError(`kubectl exec into ${client.name}: ${r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`}`);
  const at = r.stdout.lastIndexOf(statusMark);
  const status = at >= 0 ? r.stdout.slice(at + statusMark.length).trim() : '000';
  return { status, curlExit, body: (at >= 0 ? r.stdout.slice(0, at) : r.stdout).trim().slice(0, 80) };
}

/** How a reach reads in a step's output and errors: "HTTP 200", "HTTP 403 (RBAC: access denied)", "curl exit 56". */
export function describeReach(r: Reach): string {
  if (r.status === '000') return `no response (curl exit ${r.curlExit})`;
  return r.status === '200' || !r.body ? `HTTP ${r.status}` : `HTTP ${r.status} (${r.body})`;
}
