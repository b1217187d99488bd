// End to end on the real-node lab: the release's own Bookinfo (images assembled from samples/bookinfo/src) behind the
// real ingress gateway, and istio.io's four task chapters judged as a user judges them: on real product pages loaded
// through a real `kubectl port-forward`, through real sidecars. Each chapter must pass on its own page checks, and fail
// with its own message when one resource is changed (a release file edited, or a policy the chapter did not set).
// The unit tests' page fixtures are compared with the pages the real productpage serves.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual as isDeepEqual } from 'node:util';
import { releaseImages } from '../../lab/images/bookinfo/release.ts';
import { names } from '../../tasks/config.ts';
import { productPage } from '../../tasks/lib/apps/bookinfo-client.ts';
import { judgePage, type PageView } from '../../tasks/lib/apps/bookinfo-page.ts';
import { systemClock } from '../../tasks/lib/base/clock.ts';
import { ourLabels } from '../../tasks/lib/kube/kube.ts';
import type { K8sObject } from '../../tasks/lib/kube/manifests.ts';
import { tmpDir } from '../helpers.ts';
import {
  bookinfoNetworking,
  dashboardUrl,
  type List,
  lab,
  labKubectl,
  readLabEnv,
  realNodeUnavailable,
  runProduct,
} from './lab-client.ts';
import { releaseWith, structureOf, tracesThrough, withForward } from './real-pages.ts';

const cache = tmpDir('fwi-bookinfo-real-');
const ns = names.bookinfo.namespace;
const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'bookinfo');
let labEnv: Record<string, string> = {};
const { kubectl, kjson, apply } = labKubectl(() => labEnv);
/** What the suite measured, printed at its end (the closing note and lab/NOTES.md quote it). */
const measured: string[] = [];

/** A chapter as a user runs it on this lab: Zipkin for the trace, JVM-sized waits (three Liberty servers, two cores). */
const product = (args: string[], env: Record<string, string> = {}) =>
  runProduct(args, { ...labEnv, CACHE_DIR: cache, ADDONS: 'zipkin', WAIT_TIMEOUT: '300s', ...env });

/** The run log a chapter names on its last line. */
const runLog = (r: { out: string; err: string }): string => {
  const file = /\(log: (\S+\.log)\)/.exec(r.out + r.err)?.[1];
  assert.ok(file, `no log named in ${r.out.slice(-500)}${r.err}`);
  return readFileSync(file, 'utf8');
};

async function chapter(...args: string[]) {
  const r = await product([...args, '--yes']);
  measured.push(`${args.join(' ')} ${(r.ms / 1000).toFixed(1)} s`);
  assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}\n${r.out.slice(-3000)}\n${r.err}`);
  assert.doesNotMatch(r.out, /not here/, `${args.join(' ')} looked at real pages`);
  return { ...r, log: runLog(r) };
}

/**
 * A chapter run with one release file changed must fail, on its own page check, with its own message. The wait for a
 * page that never comes is shortened (WAIT_TIMEOUT): the check gives up when it ends, as it would after 5 minutes.
 */
async function failsWith(chapterName: string, file: string, change: (text: string) => string, message: RegExp) {
  const home = releaseWith(labEnv.ISTIO_HOME, tmpDir('fwi-release-'), `samples/bookinfo/networking/${file}`, change);
  const r = await product([chapterName, '--yes'], { ISTIO_HOME: home, WAIT_TIMEOUT: '20s' });
  measured.push(`${chapterName} with ${file} changed: exit ${r.code} in ${(r.ms / 1000).toFixed(1)} s`);
  assert.equal(r.code, 1, `${chapterName} with ${file} changed: exit ${r.code}\n${r.out.slice(-2000)}\n${r.err}`);
  assert.match(r.err, message);
  return r;
}

/** What a chapter's page checks saw, as its log keeps it ("# jason: ... on 5 of 5 pages; anonymous: ..."). */
const seenLines = (log: string) =>
  log
    .split('\n')
    .filter((l) => /^# ((jason|anonymous): .* on \d+ of \d+ pages|red stars on \d+ of \d+ pages)/.test(l))
    .flatMap((l) => l.slice(2).split('; '));

/** Loads the product page as `user` through the gateway; its time and its verdict. */
async function timedPage(user?: string): Promise<{ ms: number; view: PageView; html: string }> {
  return withForward(labEnv, names.istioNamespace, names.bookinfo.ingress.service, names.bookinfo.ingress.port, async (base) => {
    const t = Date.now();
    const html = await productPage(base, { user, timeoutMs: 30_000, clock: systemClock });
    return { ms: Date.now() - t, view: judgePage(html), html };
  });
}

const sample = (file: string): K8sObject[] => bookinfoNetworking(labEnv.ISTIO_HOME, file);
const route = (host: string, http: object[]): K8sObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: host, namespace: ns, labels: ourLabels() },
  spec: { hosts: [host], http },
});
const to = (host: string, subset: string) => ({ destination: { host, subset } });
const jason = { headers: { 'end-user': { exact: 'jason' } } };

/** Where the real node cannot run, the suite is skipped with the reason (never drawn as a pass). */
const cannotRun = realNodeUnavailable();

describe('Bookinfo on the real node: the task chapters judged on real pages', { timeout: 40 * 60_000, skip: cannotRun }, () => {
  before(async () => {
    lab('up', '--fresh', '--node=real');
    labEnv = readLabEnv();
    for (const c of ['webhook-certs', 'install-istio', 'addons']) await chapter(c);
  });
  after(() => {
    console.log(`bookinfo on the real node: ${measured.join('; ')}`);
    lab('down');
  });

  it("bookinfo: the release's six images, every pod READY 2/2, the product page through the real gateway", async (t) => {
    const r = await chapter('bookinfo');
    assert.match(r.out, /✔ Prove the product page answers through the ingress gateway \(5 whole pages in a row\)\n/);
    const pods = kjson<List>('-n', ns, 'get', 'pods').items;
    const release = releaseImages(
      readFileSync(path.join(labEnv.ISTIO_HOME, 'samples/bookinfo/platform/kube/bookinfo.yaml'), 'utf8'),
    );
    const running = Object.fromEntries(
      pods.map((p) => [`${p.metadata.labels?.app}-${p.metadata.labels?.version}`, p.spec?.containers[0].image]),
    );
    assert.deepEqual(running, Object.fromEntries(release));
    const started = pods.map((p) => {
      const s = p.status?.containerStatuses?.find((c: { name: string }) => c.name === p.metadata.labels?.app);
      return `${p.metadata.labels?.app}-${p.metadata.labels?.version} ${s?.restartCount ?? '?'} restarts`;
    });
    t.diagnostic(`bookinfo ${(r.ms / 1000).toFixed(1)} s: ${started.join(', ')}`);
  });

  it('request-routing: no stars for everyone on v1, black stars for jason on v2; jason to v3 fails it', async () => {
    const r = await chapter('request-routing');
    assert.deepEqual(seenLines(r.log), [
      'anonymous: no stars (reviews v1) on 5 of 5 pages',
      'jason: black stars (reviews v2) on 5 of 5 pages',
      'anonymous: no stars (reviews v1) on 5 of 5 pages',
    ]);
    await failsWith(
      'request-routing',
      'virtual-service-reviews-test-v2.yaml',
      (s) => s.replace(/subset: v2/, 'subset: v3'),
      /jason: expected black stars \(reviews v2\), saw red \d+/,
    );
  });

  it('fault-injection: reviews unavailable to jason after the 7 s delay, then ratings after the abort; 1 s fails it', async (t) => {
    const r = await chapter('fault-injection', '--keep-routing');
    assert.deepEqual(seenLines(r.log), [
      'jason: "Error fetching product reviews" on 5 of 5 pages',
      'anonymous: the reviews, no stars (unaffected) on 5 of 5 pages',
      'jason: "Ratings service is currently unavailable" on 5 of 5 pages',
      'anonymous: the reviews, no stars (unaffected) on 5 of 5 pages',
    ]);
    const aborted = await timedPage('jason');
    assert.equal(aborted.view.kind === 'product-page' && aborted.view.ratingsUnavailable, true);
    apply(sample('virtual-service-ratings-test-delay.yaml'));
    // Until the sidecars serve the delay (about a second), then one page timed.
    const lostReviews = (p: { view: PageView }) => p.view.kind === 'product-page' && p.view.reviewsUnavailable;
    for (let i = 0; i < 10 && !lostReviews(await timedPage('jason')); i++);
    const delayed = await timedPage('jason');
    assert.ok(lostReviews(delayed), `jason, after the 7 s delay: ${JSON.stringify(delayed.view)}`);
    measured.push(`jason's page: ${aborted.ms} ms after the abort, ${delayed.ms} ms after the 7 s delay`);
    t.diagnostic(measured.at(-1) ?? '');
    await failsWith(
      'fault-injection',
      'virtual-service-ratings-test-delay.yaml',
      (s) => s.replace(/fixedDelay: 7s/, 'fixedDelay: 1s'),
      /jason: expected "Error fetching product reviews", saw black \d+/,
    );
  });

  it('traffic-shifting: red stars within 10 points of 50%, then of 100%; 80/20 weights fail it', async (t) => {
    const r = await chapter('traffic-shifting');
    const shares = seenLines(r.log);
    assert.equal(shares.length, 2, r.out);
    assert.match(shares[0], /: within 10 points of 50%$/);
    assert.match(shares[1], /: within 10 points of 100%$/);
    measured.push(`shares: ${shares.join('; ')}`);
    t.diagnostic(measured.at(-1) ?? '');
    await failsWith(
      'traffic-shifting',
      'virtual-service-reviews-50-v3.yaml',
      (s) => s.replace(/weight: 50\n([\s\S]*?)weight: 50/, 'weight: 80\n$1weight: 20'),
      /expected 50% ± 10 points of pages with red stars, saw red stars on \d+ of \d+ pages/,
    );
  });

  it('mtls: the client outside refused under STRICT, let in under PERMISSIVE; a PERMISSIVE policy it did not set fails it', async () => {
    const r = await chapter('mtls');
    assert.match(r.out, /inside: HTTP 200; outside: refused \(HTTP 000, curl exit \d+\)/);
    assert.match(r.out, /inside: HTTP 200; outside: HTTP 200/);
    // Someone's namespace-wide PERMISSIVE policy in bookinfo outranks the chapter's mesh-wide STRICT one.
    const theirs = {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'theirs', namespace: ns },
      spec: { mtls: { mode: 'PERMISSIVE' } },
    };
    apply([theirs]);
    try {
      const failed = await product(['mtls', '--yes'], { WAIT_TIMEOUT: '20s' });
      measured.push(`mtls under a PERMISSIVE policy it did not set: exit ${failed.code} in ${(failed.ms / 1000).toFixed(1)} s`);
      assert.equal(failed.code, 1, failed.out);
      assert.match(failed.err, /the client outside the mesh \(fun-with-istio-outside\) got through, though mTLS is STRICT/);
    } finally {
      kubectl('-n', ns, 'delete', 'peerauthentication', 'theirs');
    }
    assert.equal((await chapter('mtls')).code, 0, 'the next run puts everything back');
  });

  it("the unit tests' page fixtures have the structure of the pages the real productpage serves", async (t) => {
    const reviews = (subset: string) => route('reviews', [{ route: [to('reviews', subset)] }]);
    const ratings = (fault: object) =>
      route('ratings', [{ match: [jason], fault, route: [to('ratings', 'v1')] }, { route: [to('ratings', 'v1')] }]);
    const cases: [string, K8sObject[], string | undefined][] = [
      ['reviews-v1.html', [reviews('v1')], undefined],
      ['reviews-v2.html', [reviews('v2')], undefined],
      ['reviews-v3.html', [reviews('v3')], undefined],
      ['reviews-v2-jason.html', [reviews('v2')], 'jason'],
      ['ratings-unavailable.html', [reviews('v2'), ratings({ abort: { httpStatus: 500, percentage: { value: 100 } } })], 'jason'],
      [
        'reviews-unavailable.html',
        [reviews('v2'), ratings({ delay: { fixedDelay: '7s', percentage: { value: 100 } } })],
        'jason',
      ],
      [
        'details-unavailable.html',
        [
          reviews('v1'),
          route('details', [{ fault: { abort: { httpStatus: 555, percentage: { value: 100 } } }, route: [to('details', 'v1')] }]),
        ],
        undefined,
      ],
    ];
    const expected = (name: string) => judgePage(readFileSync(path.join(fixtures, name), 'utf8'));
    assert.deepEqual(
      cases.map(([n]) => n).sort(),
      readdirSync(fixtures)
        .filter((f) => f.endsWith('.html'))
        .sort(),
    );
    const differ: string[] = [];
    for (const [name, docs, user] of cases) {
      kubectl('-n', ns, 'delete', 'virtualservice', 'reviews', 'ratings', 'details', '--ignore-not-found');
      apply(docs);
      // Until the gateway's and the sidecars' Envoys serve the new routes: the page the fixture stands for.
      let page = await timedPage(user);
      for (
        const deadline = Date.now() + 60_000;
        !isDeepEqual(page.view, expected(name)) && Date.now() < deadline;
        await delay(500)
      )
        page = await timedPage(user);
      assert.deepEqual(page.view, expected(name), `${name}: the real page's verdict`);
      const fixture = readFileSync(path.join(fixtures, name), 'utf8');
      if (process.env.UPDATE_FIXTURES) writeFileSync(path.join(fixtures, name), page.html);
      else if (!isDeepEqual(structureOf(page.html), structureOf(fixture))) differ.push(name);
      // The comparison can tell: no other case's fixture has this real page's structure.
      const alike = cases
        .map(([other]) => other)
        .filter(
          (other) =>
            other !== name && isDeepEqual(structureOf(page.html), structureOf(readFileSync(path.join(fixtures, other), 'utf8'))),
        );
      assert.deepEqual(alike, [], `${name}: the real page has the structure of other fixtures too`);
    }
    kubectl('-n', ns, 'delete', 'virtualservice', 'reviews', 'ratings', 'details', '--ignore-not-found');
    assert.deepEqual(differ, [], 'fixtures whose structure differs from the real page (UPDATE_FIXTURES=1 takes the real ones)');
    t.diagnostic(`${cases.length} real pages, each with its fixture's structure and verdict`);
  });

  it('dashboard zipkin shows a trace that crosses productpage, reviews and ratings', async (t) => {
    // Pages for jason on reviews v2 cross ratings: one more makes sure a fresh trace exists.
    apply([route('reviews', [{ route: [to('reviews', 'v2')] }])]);
    for (let i = 0; i < 3; i++) await timedPage('jason');
    const run = product(['dashboard', 'zipkin']);
    try {
      const url = await dashboardUrl(run);
      const want = ['productpage', 'reviews', 'ratings'].map((s) => `${s}.${ns}`);
      let crossing: Set<string> | undefined;
      for (const deadline = Date.now() + 30_000; !crossing && Date.now() < deadline; await delay(1000))
        crossing = (await tracesThrough(url, `ratings.${ns}`)).find((services) => want.every((s) => services.has(s)));
      assert.ok(crossing, `no trace in Zipkin crosses ${want.join(', ')}`);
      t.diagnostic(`a trace crosses ${[...crossing].sort().join(', ')}`);
    } finally {
      run.child.kill('SIGINT');
      await run;
      kubectl('-n', ns, 'delete', 'virtualservice', 'reviews', '--ignore-not-found');
    }
  });
});
