// Bookinfo, istio.io's getting-started app, as the Istio-task chapters share it: its namespace, the release's
// sample files applied there, the check that it runs, and how its product page is reached from this machine.
import { names } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { parseJson } from '../exec/tool-output.ts';
import { joins, type MeshMode, otherMode } from '../istio/mesh-mode.ts';
import { type ReleaseFile, releaseFile } from '../istio/release-file.ts';
import { cannotLookHere } from '../kube/data-plane.ts';
import {
  available,
  field,
  getJson,
  getObject,
  inNamespace,
  listObjects,
  namespaceRef,
  type ReadOptions,
  waitFor,
} from '../kube/kube.ts';
import { describePod, livePods, type Pod } from '../kube/pods.ts';
import { withPortForward } from '../kube/port-forward.ts';
import { judgeSeen } from '../run/poll.ts';
import { step } from '../run/step.ts';
import type { Ctx, Task, TaskHandle } from '../run/types.ts';

export const { namespace } = names.bookinfo;
export const productpage = inNamespace(namespace, 'deployment', 'productpage-v1');

/** Bookinfo's own pods (its four apps), not the clients the Istio tasks add to the namespace; its Deployments too. */
export const bookinfoPodSelector = 'app in (details,productpage,ratings,reviews)';
export const ingressService = inNamespace(names.istioNamespace, 'service', names.bookinfo.ingress.service);
/** The ambient track's way in: the Service istiod makes for Bookinfo's Gateway-API Gateway. */
export const gatewayService = inNamespace(namespace, 'service', names.ambient.gatewayService);

/** `samples/bookinfo/<file>` of the release, in the Bookinfo namespace. */
export const bookinfoFile =
  (file: string) =>
  (ctx: Ctx): ReleaseFile =>
    releaseFile(ctx, `bookinfo/${file}`, namespace);

/** Bookinfo's live pods (its four apps). */
export async function bookinfoPods(ctx: Ctx, o: ReadOptions = {}): Promise<Pod[]> {
  const listed = await getJson(ctx, inNamespace(namespace, 'pods'), bookinfoPodSelector, o);
  return livePods(parseJson<{ items: Pod[] }>(listed, 'pods').items);
}

/** The ingress gateway's pods (the demo profile's, which Bookinfo is reached through on the sidecar track). */
export async function ingressGatewayPods(ctx: Ctx): Promise<Pod[]> {
  const listed = await getJson(ctx, inNamespace(names.istioNamespace, 'pods'), `app=${names.bookinfo.ingress.service}`);
  return livePods(parseJson<{ items: Pod[] }>(listed, 'pods').items);
}

/** A step: every Bookinfo pod ready as the mesh mode wants it (with its sidecar: READY 2/2). */
export function bookinfoPodsReady(mode: MeshMode): Task {
  return step(`Wait until every Bookinfo pod is ${mode.ready} (${mode.readyWhy})`, {
    run: async (ctx, task) => {
      const deployments = await listObjects(ctx, inNamespace(namespace, 'deployment'));
      if (!deployments.length || !deployments.every(available))
        await waitFor(ctx, inNamespace(namespace, 'deployment'), 'condition=Available', (l) => (task.output = l));
      const pods = await bookinfoPods(ctx);
      await judgeSeen(ctx, pods, () => {
        const wrong = pods.filter((p) => !mode.podReady(p));
        if (!pods.length || wrong.length)
          throw new StepError(`not ${mode.wanted}: ${wrong.map(describePod).join(', ') || 'no pods'}`);
        task.output = `${pods.length} pods ${mode.ready}`;
      });
    },
  });
}

/** A step: Bookinfo's namespace is not the other track's (one Bookinfo per cluster, in one mode). */
export function notOnOtherTrack(mode: MeshMode): Task {
  const other = otherMode(mode.name);
  return step(`Check ${namespace} is not on the ${other.name} track`, {
    run: async (ctx, task) => {
      const found = await getObject(ctx, namespaceRef(namespace));
      if (joins(other, found)) {
        const labels = Object.entries(other.namespaceLabels).map(([k, v]) => `${k}=${v}`);
        throw new StepError(
          `namespace ${namespace} has ${labels.join(', ')}: it holds the ${other.name} track's Bookinfo`,
          `run \`npm run teardown\` first, or set ISTIO_MODE=${other.name}`,
        );
      }
      task.output = found
        ? `namespace ${namespace}: not on the ${other.name} track`
        : `namespace ${namespace} does not exist yet`;
    },
  });
}

/** A task chapter's prerequisite: Bookinfo deployed and its product page ready. */
export const bookinfoRunning = step('Check Bookinfo runs (productpage ready)', {
  run: async (ctx, task) => {
    const ready = await field(ctx, productpage, '{.status.readyReplicas}');
    if (!(Number(ready) >= 1))
      throw new StepError(`Bookinfo's productpage is not ready in ${namespace}`, 'run `npm run bookinfo` first');
    task.output = `productpage: ${ready} ready`;
  },
});

/**
 * Runs `look` with the product page's base URL, through a port-forward to the ingress gateway (what a user's browser
 * would reach), or to another way in (`via`). Where nothing runs (the test lab) it says so in the step's title and
 * looks at nothing.
 */
export async function throughIngress(
  ctx: Ctx,
  task: TaskHandle,
  look: (base: string) => Promise<string>,
  via = ingressService,
): Promise<void> {
  if (await cannotLookHere(ctx, task)) return;
  const seen = await withPortForward(ctx, via, names.bookinfo.ingress.port, look);
  if (!seen) return;
  task.output = seen;
  ctx.sh.note(seen.replace(/\n/g, '; ')); // what was seen stays in the log
}
