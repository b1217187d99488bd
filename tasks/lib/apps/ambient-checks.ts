// The checks of istio.io's ambient track, as a user would look: the product page through the Gateway-API gateway,
// and what the curl client inside the mesh gets from productpage. A policy reaches ztunnel and the waypoint a moment
// after it is applied, so each asks until what it expects holds (or the wait ends). Where no node runs containers,
// each says so and looks at nothing.
import { StepError } from '../base/errors.ts';
import { cannotLookHere } from '../kube/data-plane.ts';
import { observe, untilSettled } from '../run/poll.ts';
import { type StepDefinition, step } from '../run/step.ts';
import type { Task } from '../run/types.ts';
import { gatewayService, throughIngress } from './bookinfo.ts';
import { productPage } from './bookinfo-client.ts';
import { judgePage } from './bookinfo-page.ts';
import { curlFrom, describeReach, meshClient, type Reach } from './in-mesh-client.ts';

/** productpage as the curl client inside the mesh reaches it. */
export const productpageUrl = `http://productpage:9080/productpage`;

/** A step: the product page through the gateway, as a browser would get it. */
export function checkPageThroughGateway(title: string): Task {
  return step(title, {
    run: async (ctx, task) => {
      await throughIngress(
        ctx,
        task,
        async (base) => {
          const ask = () => productPage(base, { signal: ctx.signal, clock: ctx.clock }).catch((e: Error) => e.message);
          const isPage = (html: string) => judgePage(html).kind === 'product-page';
          const html = await untilSettled(ctx, ask, isPage, { waiting: { task, says: () => 'waiting for the gateway' } });
          if (!isPage(html)) throw new StepError(`${base}/productpage is not the product page: ${html.trim().slice(0, 80)}`);
          return `${base}/productpage through ${gatewayService.name}: <title>Simple Bookstore App</title>`;
        },
        gatewayService,
      );
    },
  });
}

/** What the client should get for one request. */
export interface Expect {
  method: string;
  /** "HTTP 200", "refused: connection reset (curl exit 56)". */
  what: string;
  ok: (r: Reach) => boolean;
}

export const expect = {
  page: { method: 'GET', what: 'HTTP 200', ok: (r: Reach) => r.status === '200' },
  reset: { method: 'GET', what: 'the connection reset (curl exit 56)', ok: (r: Reach) => r.curlExit === 56 },
  rbacDenied: (method: string): Expect => ({
    method,
    what: 'HTTP 403 (RBAC: access denied)',
    ok: (r) => r.status === '403' && r.body.startsWith('RBAC: access denied'),
  }),
};

/** A step: the curl client inside the mesh gets from productpage what each of `expected` says (unless `done` says why not). */
export function checkFromClient(title: string, expected: Expect[], done?: StepDefinition['done']): Task {
  const client = meshClient;
  const line = (e: Expect, r: Reach) => `${e.method} ${productpageUrl} from ${client.name}: ${describeReach(r)}`;
  return step(title, {
    done,
    run: async (ctx, task) => {
      if (await cannotLookHere(ctx, task)) return;
      const ask = async () => {
        const got: Reach[] = [];
        for (const e of expected) got.push(await curlFrom(ctx, client, productpageUrl, e.method));
        return got;
      };
      const wrong = (got: Reach[]) =>
        expected.flatMap((e, i) => (e.ok(got[i]) ? [] : [`${line(e, got[i])}, expected ${e.what}`]));
      await observe(
        ctx,
        ask,
        (got) => wrong(got).length === 0,
        (got) => {
          if (wrong(got).length) throw new StepError(wrong(got).join('; '));
          task.output = expected.map((e, i) => line(e, got[i])).join('\n');
          ctx.sh.note(task.output.replace(/\n/g, '; '));
        },
        { waiting: { task, says: (got) => `waiting for the policy to reach the proxies (${wrong(got)[0]})` } },
      );
    },
  });
}
