// Bookinfo on the sidecar track, as istio.io's getting started deploys it: its Deployments, its way in through the
// ingress gateway (Istio's API), the destination rules the tasks route to, and the product page through the gateway.
// The bookinfo chapter runs them in its injected namespace; the upgrade chapters in one labelled with a revision tag.
import { durationSeconds } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { applyFile } from '../istio/routing.ts';
import { inNamespace, listObjects, onObjects } from '../kube/kube.ts';
import { untilSettled } from '../run/poll.ts';
import { step } from '../run/step.ts';
import type { Ctx } from '../run/types.ts';
import { bookinfoFile, namespace, throughIngress } from './bookinfo.ts';
import { productPage } from './bookinfo-client.ts';
import { judgePage, troubleOn } from './bookinfo-page.ts';

const app = bookinfoFile('platform/kube/bookinfo.yaml');
const deploymentsOf = (ctx: Ctx) => app(ctx).docs.filter((d) => d.kind === 'Deployment');

export const deployBookinfo = step('Deploy Bookinfo (samples/bookinfo/platform/kube/bookinfo.yaml)', {
  done: async (ctx) => {
    const wanted = deploymentsOf(ctx).map((d) => d.metadata?.name);
    const found = (await listObjects(ctx, inNamespace(namespace, 'deployment'))).map((d) => d.metadata?.name);
    return wanted.length > 0 && wanted.every((n) => found.includes(n)) && `its ${wanted.length} Deployments exist`;
  },
  run: async (ctx) => {
    const { docs, label } = app(ctx);
    await onObjects(ctx, 'apply', docs, { label });
  },
});

export const exposeBookinfo = applyFile(
  'Expose it through the ingress gateway (networking/bookinfo-gateway.yaml)',
  bookinfoFile('networking/bookinfo-gateway.yaml'),
);
export const applyDestinationRules = applyFile(
  'Apply the destination rules: subsets v1, v2, v3 (networking/destination-rule-all.yaml)',
  bookinfoFile('networking/destination-rule-all.yaml'),
);

/**
 * Whole pages in a row that prove the app answers as before. Bookinfo has no readiness probes: a restarted pod is Ready
 * with its sidecar while its app still starts, so whole pages come between failed ones for a while (a JVM: 20-30 s).
 */
export const wholePagesInARow = 5;

interface PagesInARow {
  whole: number;
  /** The last page, or why there was none. */
  html: string;
}

export const proveProductPage = step(
  `Prove the product page answers through the ingress gateway (${wholePagesInARow} whole pages in a row)`,
  {
    run: async (ctx, task) => {
      // kubectl port-forward ends with "lost connection to pod" when the gateway's pod refuses a connection while it
      // comes up or is replaced: a new one is started, within the wait.
      const deadline = ctx.clock.now() + durationSeconds(ctx.config.waitTimeout) * 1000;
      for (;;) {
        try {
          return await proveThroughIngress(ctx, task);
        } catch (e) {
          if (!/lost connection to pod/.test(String(e)) || ctx.clock.now() > deadline) throw e;
          ctx.sh.note(`the port-forward lost its connection to the gateway's pod: a new one`);
          await ctx.clock.sleep(1000, ctx.signal);
        }
      }
    },
  },
);

async function proveThroughIngress(ctx: Ctx, task: Parameters<typeof throughIngress>[1]): Promise<void> {
  await throughIngress(ctx, task, async (base) => {
    // The gateway serves the route once istiod has pushed it, and the apps answer once started: ask until
    // the pages come whole or the wait times out.
    const ask = async (): Promise<PagesInARow> => {
      for (let whole = 0; whole < wholePagesInARow; whole++) {
        const html = await productPage(base, { signal: ctx.signal, clock: ctx.clock }).catch((e: Error) => e.message);
        if (troubleOn(judgePage(html)).length) return { whole, html };
      }
      return { whole: wholePagesInARow, html: '' };
    };
    const says = (p: PagesInARow) => `waiting for whole product pages: ${p.whole} in a row`;
    const seen = await untilSettled(ctx, ask, (p) => p.whole === wholePagesInARow, { waiting: { task, says } });
    if (seen.whole < wholePagesInARow) {
      const view = judgePage(seen.html);
      if (view.kind === 'not-product-page')
        throw new StepError(`${base}/productpage is not the product page: ${seen.html.trim().slice(0, 80)}`);
      throw new StepError(
        `${base}/productpage: ${seen.whole} whole pages in a row, not ${wholePagesInARow}; then one that says ${troubleOn(view).join(' and ')}`,
      );
    }
    return `${base}/productpage: ${wholePagesInARow} whole pages in a row`;
  });
}
