// The verify steps of the Istio-task chapters: product pages loaded as a user would (through the ingress gateway),
// judged by what they show. A new route reaches the gateway's and the sidecars' Envoys a moment after it is
// applied, so each check asks until what it expects holds (or the wait times out), then judges a full sample.

import { StepError } from '../base/errors.ts';
import type { EndState } from '../istio/routing.ts';
import type { ObjectRef } from '../kube/kube.ts';
import { untilSettled } from '../run/poll.ts';
import { progress } from '../run/progress.ts';
import { step } from '../run/step.ts';
import type { Task } from '../run/types.ts';
import { throughIngress } from './bookinfo.ts';
import { productPages } from './bookinfo-client.ts';
import { type Bucket, bucketOf, judgePage, type PageView, shareWithin, tally } from './bookinfo-page.ts';

/** What one user should see on every page. */
export interface Sees {
  /** Signed in as (istio.io's tasks use `jason`); anonymous without. */
  user?: string;
  /** For the step's output and the error: "black stars (reviews v2)". */
  what: string;
  ok: (view: PageView) => boolean;
}

/** Per user, this many pages in a row must show what is expected. */
const pagesPerUser = 5;

const who = (s: Sees) => s.user ?? 'anonymous';
const summary = (views: PageView[]) =>
  Object.entries(tally(views))
    .filter(([, n]) => n > 0)
    .map(([bucket, n]) => `${bucket} ${n}`)
    .join(', ');

/**
 * A step: each user sees what they should on every one of `pagesPerUser` pages in a row. A check of a state on
 * the way (`onTheWay`) is not repeated once the task's end state is kept in place.
 */
export function checkPages(title: string, expected: Sees[], onTheWay?: EndState): Task {
  return step(title, {
    done: async (ctx) => (await onTheWay?.reached(ctx)) ?? false,
    run: async (ctx, task) => {
      await throughIngress(ctx, task, async (base) => {
        const lines: string[] = [];
        for (const sees of expected) {
          // A page for jason that does not say jason is signed in proves nothing about jason's route.
          const ok = (v: PageView) => sees.ok(v) && (!sees.user || (v.kind === 'product-page' && v.signedInAs === sees.user));
          const load = async () =>
            (await productPages(base, pagesPerUser, { user: sees.user, signal: ctx.signal, clock: ctx.clock })).map(judgePage);
          const views = await untilSettled(ctx, load, (v) => v.every(ok));
          if (!views.every(ok)) throw new StepError(`${who(sees)}: expected ${sees.what}, saw ${summary(views)}`);
          lines.push(`${who(sees)}: ${sees.what} on ${views.length} of ${views.length} pages`);
          progress(ctx, task, lines.join('\n'));
        }
        return lines.join('\n');
      });
    },
  });
}

/** Up to this many rounds of SHIFT_REQUESTS pages are counted together before a share is judged wrong. */
const shareRounds = 3;

/** The pages a weight is counted on: their bucket, how it reads, and where the pages come from. */
export interface Share {
  bucket: Bucket;
  /** "red stars" */
  what: string;
  percent: number;
  /** The way in (default: the ingress gateway). */
  via?: ObjectRef;
  /** Buckets every page must be in (e.g. only v1 and v2 stars): a page of another fails the count at once. */
  only?: Bucket[];
}

/**
 * A step: `share.what` on `percent`% of SHIFT_REQUESTS anonymous pages, within 10 points, and (below 100%) on at
 * least one. Weighted routing is random: a share just outside the band by chance (3.5% of runs at 50% and 100
 * pages) gets another round counted with it; a wrong weight stays outside however many pages are counted.
 */
export function checkShare(title: string, share: Share, onTheWay?: EndState): Task {
  const { percent, what } = share;
  return step(title, {
    done: async (ctx) => (await onTheWay?.reached(ctx)) ?? false,
    run: async (ctx, task) => {
      const look = async (base: string) => {
        const counted = (view: PageView) => bucketOf(view) === share.bucket;
        // First until the new weights show (all for 100%, some otherwise), so old routing is not counted.
        const sample = async () =>
          (await productPages(base, pagesPerUser, { signal: ctx.signal, clock: ctx.clock })).map(judgePage);
        const says = () => `waiting for the new weights to show (${what} on ${percent >= 100 ? 'every page' : 'some pages'})`;
        await untilSettled(ctx, sample, (v) => (percent >= 100 ? v.every(counted) : v.some(counted)), {
          waiting: { task, says },
        });
        const views: PageView[] = [];
        for (let round = 1; round <= shareRounds; round++) {
          progress(ctx, task, `counting ${what} on ${ctx.config.shiftRequests} pages (round ${round})`);
          views.push(
            ...(await productPages(base, ctx.config.shiftRequests, { signal: ctx.signal, clock: ctx.clock })).map(judgePage),
          );
          const stray = views.filter((v) => share.only && !share.only.includes(bucketOf(v)));
          if (stray.length) throw new StepError(`expected only ${share.only?.join(' and ')} pages, saw ${summary(views)}`);
          const n = views.filter(counted).length;
          const seen = `${what} on ${n} of ${views.length} pages (${summary(views)})`;
          if (shareWithin(n, views.length, percent, 10) && n > 0) return `${seen}: within 10 points of ${percent}%`;
          if (round === shareRounds) throw new StepError(`expected ${percent}% ± 10 points of pages with ${what}, saw ${seen}`);
        }
        return undefined as never;
      };
      await throughIngress(ctx, task, look, share.via);
    },
  });
}

/** A step: red stars (reviews v3) on `percent`% of SHIFT_REQUESTS anonymous pages, within 10 points. */
export const checkRedShare = (title: string, percent: number, onTheWay?: EndState): Task =>
  checkShare(title, { bucket: 'red', what: 'red stars', percent }, onTheWay);

/** Page judgements the tasks expect. */
export const sees = {
  noStars: (v: PageView) => bucketOf(v) === 'none',
  blackStars: (v: PageView) => bucketOf(v) === 'black',
  reviewsUnavailable: (v: PageView) => v.kind === 'product-page' && v.reviewsUnavailable,
  ratingsUnavailable: (v: PageView) => v.kind === 'product-page' && v.ratingsUnavailable && !v.reviewsUnavailable,
};
