// Bookinfo on the sidecar track, as istio.io's getting started deploys it: its Deployments, its way in through the
// ingress gateway (Istio's API), the destination rules the tasks route to, and the product page through the gateway.
// The bookinfo chapter runs them in its injected namespace; the upgrade chapters in one labelled with a revision tag.
import { StepError } from '../base/errors.ts';
import { applyFile } from '../istio/routing.ts';
import { inNamespace, listObjects, onObjects } from '../kube/kube.ts';
import { untilSettled } from '../run/poll.ts';
import { step } from '../run/step.ts';
import type { Ctx } from '../run/types.ts';
import { bookinfoFile, namespace, throughIngress } from './bookinfo.ts';
import { productPage } from './bookinfo-client.ts';
import { judgePage } from './bookinfo-page.ts';

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

export const proveProductPage = step('Prove the product page answers through the ingress gateway', {
  run: async (ctx, task) => {
    await throughIngress(ctx, task, async (base) => {
      // The gateway serves the route once istiod has pushed it: ask until the page comes or the wait times out.
      const ask = () => productPage(base, { signal: ctx.signal, clock: ctx.clock }).catch((e: Error) => e.message);
      const isPage = (html: string) => judgePage(html).kind === 'product-page';
      const says = () => 'waiting for the gateway to serve /productpage';
      const html = await untilSettled(ctx, ask, isPage, { waiting: { task, says } });
      if (!isPage(html)) throw new StepError(`${base}/productpage is not the product page: ${html.trim().slice(0, 80)}`);
      return `${base}/productpage: <title>Simple Bookstore App</title>`;
    });
  },
});
