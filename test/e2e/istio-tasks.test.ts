// End to end: istio.io's tasks as the product's chapters (bookinfo, request-routing, fault-injection,
// traffic-shifting, mtls) against the lab, with `CLUSTER=existing`. The lab has no Envoy and no traffic, so the
// chapters' page checks say "not here"; what the tasks change is proven by what the real istiod then serves Bookinfo's
// sidecars (lab/xds/xds.ts), compared as values (lab/xds/xds-routes.ts) with what istio.io says each task does. Each value
// check is also shown to fail on a changed resource, so it can tell.
//
// Every object here reaches the cluster through `kubectl apply`, and Istio's validating webhooks on the lab are
// fail-close (failurePolicy Fail, asserted below): an apply that succeeds is one the real webhook (istiod's
// /validate) accepted. So every release file the chapters and this test apply passes Istio's validation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { bin } from '../../lab/base/common.ts';
import { type PodIdentity, podIdentity, type XdsDump, xdsDump } from '../../lab/xds/xds.ts';
import { inboundModes, type RouteView, routesOf } from '../../lab/xds/xds-routes.ts';
import { names } from '../../tasks/config.ts';
import { notHere } from '../../tasks/lib/kube/data-plane.ts';
import { ourLabels } from '../../tasks/lib/kube/kube.ts';
import type { K8sObject } from '../../tasks/lib/kube/manifests.ts';
import { tmpDir } from '../helpers.ts';
import {
  bookinfoNetworking,
  commandsOf,
  type List,
  lab,
  labKubectl,
  type Obj,
  type Run,
  readLabEnv,
  runProduct,
} from './lab-client.ts';

const cache = tmpDir('fwi-e2e-tasks-');
const ns = names.bookinfo.namespace;
let labEnv: Record<string, string> = {};
/** Wall time of each chapter run, in order, for the report. */
const timings: [string, number][] = [];
let dumps = 0;

// The release comes from ISTIO_HOME (.lab/env) instead of a download: lab.test.ts proves the download path.
const product = (args: string[]) => runProduct(args, { ...labEnv, CACHE_DIR: cache, WAIT_TIMEOUT: '120s' });

/** Runs a chapter that must succeed; returns its output and the commands its log lists (`$ ...` lines). */
async function chapter(...args: string[]): Promise<Run & { log: string; commands: string[] }> {
  const r = await product([...args, '--yes']);
  timings.push([args.join(' '), r.ms]);
  assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}\n${r.out.slice(-3000)}\n${r.err}`);
  const logFile = /log: (\S+\.log)/.exec(r.out + r.err)?.[1];
  assert.ok(logFile, `no log named in the output of ${args.join(' ')}`);
  const log = readFileSync(logFile, 'utf8');
  return { ...r, log, commands: commandsOf(log) };
}

const { run: kubectlRun, kubectl, kjson, listNames, apply } = labKubectl(() => labEnv);

const sample = (file: string): K8sObject[] => bookinfoNetworking(labEnv.ISTIO_HOME, file);
const patchVs = (name: string, ops: object[]) =>
  kubectl('-n', ns, 'patch', 'virtualservice', name, '--type', 'json', '-p', JSON.stringify(ops));

/** The live pod of a Bookinfo workload, as the xDS harness connects for it. */
async function podOf(app: string, version: string): Promise<PodIdentity> {
  const pods = kjson<List>('-n', ns, 'get', 'pods', '-l', `app=${app},version=${version}`).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );
  assert.equal(pods.length, 1, `one ${app}-${version} pod`);
  return podIdentity(ns, pods[0].metadata.name);
}

/**
 * What istiod serves `pod` as `read` sees it, once it equals `want` or after 20 s (istiod debounces a change before it
 * pushes; a fresh connection gets the push context in place). The caller compares the result with `want`.
 */
async function served<T>(pod: PodIdentity, read: (d: XdsDump) => T, want: T): Promise<T | string> {
  for (const deadline = Date.now() + 20_000; ; await delay(250)) {
    let seen: T | string;
    dumps++;
    try {
      seen = read(xdsDump(pod));
    } catch (e) {
      seen = (e as Error).message;
    }
    if (isDeepStrictEqual(seen, want) || Date.now() > deadline) return seen;
  }
}

/** The check must fail on `changed`: proof that it tells this change apart. */
function mustFail(check: () => void, what: string): void {
  assert.throws(check, assert.AssertionError, `the check did not notice: ${what}`);
}

const bookinfoApps = ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'];
const svc = (name: string) => `${name}.${ns}.svc.cluster.local`;
const cluster = (name: string, subset = '') => `outbound|9080|${subset}|${svc(name)}`;
const reviewsRoutes = (d: XdsDump) => routesOf(d, '9080', `${svc('reviews')}:9080`);
const ratingsRoutes = (d: XdsDump) => routesOf(d, '9080', `${svc('ratings')}:9080`);
const jasonMatch = 'prefix / & end-user exact jason';
/** A chapter's page checks on the lab: exactly these steps are skipped, saying why nothing was looked at; the log notes it. */
function saysNotHere(r: { out: string; log: string }, checks: string[]): void {
  const titles = r.out.split('\n').filter((l) => l.includes('not here'));
  assert.deepEqual(
    titles,
    checks.map((c) => `↓ ${c} [SKIPPED: ${notHere}]`),
  );
  assert.equal(r.log.split('\n').filter((l) => l === `# no data plane (kwok nodes): ${notHere}`).length, checks.length);
}
/** Commands that change something: none may run when a chapter finds everything in place. */
const changing = / (create|apply|delete|label|annotate|patch|replace|scale|set|rollout restart|install|uninstall) /;

/** A second run with --keep-routing finds the task's end state in place: it changes nothing, checks only the end. */
async function rerunChangesNothing(name: string): Promise<void> {
  const again = await chapter(name, '--keep-routing');
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(
    again.commands.filter((c) => changing.test(c)),
    [],
    `${name} re-run`,
  );
}
const proxyOf = (pod: Obj) =>
  [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c: { restartPolicy?: string }) => c.restartPolicy === 'Always'),
  ].find((c: { name: string }) => c.name === names.sidecarContainer);
const versionsOf = (kind: string) =>
  Object.fromEntries(
    kjson<List>('-n', ns, 'get', kind).items.map((o) => [`${kind}/${o.metadata.name}`, o.metadata.resourceVersion]),
  );

describe('Istio tasks on the lab: what the real istiod serves Bookinfo', { timeout: 10 * 60_000 }, () => {
  before(() => {
    // A lab left by an earlier suite is replaced: this one starts from an empty cluster.
    lab('up', '--fresh');
    labEnv = readLabEnv();
    assert.equal(labEnv.KUBE_CONTEXT, 'lab');
    assert.deepEqual(listNames('namespace', names.istioNamespace, ns), [], 'a fresh cluster');
  });

  after(() => {
    console.log(`chapter wall times on the lab: ${timings.map(([c, ms]) => `${c} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
    console.log(`xDS dumps: ${dumps}`);
    lab('down');
  });

  it('bookinfo: every pod carries the sidecar; a second run changes nothing', async (t) => {
    await chapter('webhook-certs');
    await chapter('install-istio');
    // Fail-close validation: an apply below that succeeds is one istiod's webhook accepted.
    for (const name of ['istio-validator-istio-system', 'istiod-default-validator'])
      for (const w of kjson<{ webhooks: { name: string; failurePolicy: string }[] }>(
        'get',
        'validatingwebhookconfiguration',
        name,
      ).webhooks)
        assert.equal(w.failurePolicy, 'Fail', `${name} ${w.name}`);

    const first = await chapter('bookinfo');
    saysNotHere(first, ['Prove the product page answers through the ingress gateway (5 whole pages in a row)']);
    const pods = kjson<List>('-n', ns, 'get', 'pods').items;
    assert.deepEqual(pods.map((p) => p.metadata.name.split('-').slice(0, 2).join('-')).sort(), bookinfoApps);
    for (const p of pods) {
      assert.ok(proxyOf(p), `${p.metadata.name} carries ${names.sidecarContainer}`);
      assert.ok(p.metadata.annotations?.['sidecar.istio.io/status'], `${p.metadata.name}: injected by the webhook`);
      assert.ok(
        (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'),
        `${p.metadata.name} is Ready`,
      );
    }
    assert.equal(kjson<Obj>('get', 'namespace', ns).metadata.labels?.[names.injection.namespaceLabel], 'enabled');
    assert.deepEqual(listNames('-n', ns, 'gateway,virtualservice').sort(), [
      'gateway.networking.istio.io/bookinfo-gateway',
      'virtualservice.networking.istio.io/bookinfo',
    ]);
    assert.deepEqual(
      listNames('-n', ns, 'destinationrule', '-l', `${names.managedBy.key}=${names.managedBy.value}`).sort(),
      ['details', 'productpage', 'ratings', 'reviews'].map((n) => `destinationrule.networking.istio.io/${n}`),
    );

    const kinds = ['deployment', 'service', 'serviceaccount', 'gateway', 'virtualservice', 'destinationrule'];
    const objects = Object.assign({}, ...kinds.map(versionsOf));
    assert.ok(
      first.commands.some((c) => changing.test(c)),
      'the first run changed the cluster (the filter below sees it)',
    );
    const again = await chapter('bookinfo');
    assert.deepEqual(
      again.commands.filter((c) => changing.test(c)),
      [],
    );
    assert.deepEqual(Object.assign({}, ...kinds.map(versionsOf)), objects, 'no object changed');
    t.diagnostic(
      `bookinfo ${first.ms} ms (${pods.length} pods injected); re-run ${again.ms} ms, ${again.commands.length} read-only commands`,
    );
  });

  it('request-routing: jason to reviews v2, everyone else v1; put back without --keep-routing', async (t) => {
    const productpage = await podOf('productpage', 'v1');
    // Without --keep-routing the chapter ends where it began: only Bookinfo's own VirtualService, untouched, and
    // istiod serves reviews its default route again.
    const before = versionsOf('virtualservice');
    const restoring = await chapter('request-routing');
    assert.match(restoring.out, /✔ Put the routing back as it was \(--keep-routing keeps it\)\n/);
    assert.deepEqual(versionsOf('virtualservice'), before);
    const unrouted: RouteView[] = [{ match: 'prefix /', to: { [cluster('reviews')]: 100 } }];
    assert.deepEqual(await served(productpage, reviewsRoutes, unrouted), unrouted);

    const r = await chapter('request-routing', '--keep-routing');
    saysNotHere(r, ['Check everyone sees reviews v1 (no stars)', 'Check jason sees black stars (v2), everyone else none (v1)']);
    await rerunChangesNothing('request-routing');
    const want: RouteView[] = [
      { match: jasonMatch, to: { [cluster('reviews', 'v2')]: 100 } },
      { match: 'prefix /', to: { [cluster('reviews', 'v1')]: 100 } },
    ];
    assert.deepEqual(await served(productpage, reviewsRoutes, want), want);

    // Negative: jason to v3 instead. istiod serves the change, and the same check fails on it.
    patchVs('reviews', [{ op: 'replace', path: '/spec/http/0/route/0/destination/subset', value: 'v3' }]);
    const jasonV3: RouteView[] = [{ ...want[0], to: { [cluster('reviews', 'v3')]: 100 } }, want[1]];
    const changed = await served(productpage, reviewsRoutes, jasonV3);
    assert.deepEqual(changed, jasonV3);
    mustFail(() => assert.deepEqual(changed, want), 'jason routed to v3');
    t.diagnostic(`served as productpage's sidecar: ${JSON.stringify(want)}`);
  });

  it('fault-injection: ratings for jason aborts with HTTP 500 at 100%; the delay file, 7 s at 100%', async (t) => {
    const r = await chapter('fault-injection', '--keep-routing');
    saysNotHere(r, [
      "Check jason's reviews are unavailable (the delay outlasts productpage's timeout), others' are not",
      "Check jason's ratings are unavailable, others' page is unaffected",
    ]);
    await rerunChangesNothing('fault-injection');
    const reviewsV2 = await podOf('reviews', 'v2');
    const v1 = { [cluster('ratings', 'v1')]: 100 };
    const abort: RouteView[] = [
      { match: jasonMatch, to: v1, fault: { abort: { httpStatus: 500, percent: 100 } } },
      { match: 'prefix /', to: v1 },
    ];
    assert.deepEqual(await served(reviewsV2, ratingsRoutes, abort), abort);
    // The chapter's routing also holds: jason to reviews v2 (the routing the task builds on).
    assert.deepEqual(reviewsRoutes(xdsDump(reviewsV2))[0], { match: jasonMatch, to: { [cluster('reviews', 'v2')]: 100 } });

    apply(sample('virtual-service-ratings-test-delay.yaml'));
    const delayed: RouteView[] = [{ ...abort[0], fault: { delay: { fixedDelay: '7s', percent: 100 } } }, abort[1]];
    assert.deepEqual(await served(reviewsV2, ratingsRoutes, delayed), delayed);

    // Negative: a 3 s delay (shorter than productpage's timeout: the task would show nothing).
    patchVs('ratings', [{ op: 'replace', path: '/spec/http/0/fault/delay/fixedDelay', value: '3s' }]);
    const short: RouteView[] = [{ ...abort[0], fault: { delay: { fixedDelay: '3s', percent: 100 } } }, abort[1]];
    const changed = await served(reviewsV2, ratingsRoutes, short);
    assert.deepEqual(changed, short);
    mustFail(() => assert.deepEqual(changed, delayed), 'a 3 s delay');
    t.diagnostic(`served as reviews-v2's sidecar: ${JSON.stringify(abort[0])}, then ${JSON.stringify(delayed[0].fault)}`);
  });

  it('traffic-shifting: reviews all to v3; the 50% file, v1 50 / v3 50', async (t) => {
    const r = await chapter('traffic-shifting', '--keep-routing');
    saysNotHere(r, ['Count red stars (v3): about 50% of the pages', 'Count red stars (v3): all of the pages']);
    await rerunChangesNothing('traffic-shifting');
    const productpage = await podOf('productpage', 'v1');
    const allV3: RouteView[] = [{ match: 'prefix /', to: { [cluster('reviews', 'v3')]: 100 } }];
    assert.deepEqual(await served(productpage, reviewsRoutes, allV3), allV3);

    apply(sample('virtual-service-reviews-50-v3.yaml'));
    const half: RouteView[] = [{ match: 'prefix /', to: { [cluster('reviews', 'v1')]: 50, [cluster('reviews', 'v3')]: 50 } }];
    assert.deepEqual(await served(productpage, reviewsRoutes, half), half);

    // Negative: 80/20.
    patchVs('reviews', [
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 80 },
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: 20 },
    ]);
    const skewed: RouteView[] = [{ match: 'prefix /', to: { [cluster('reviews', 'v1')]: 80, [cluster('reviews', 'v3')]: 20 } }];
    const changed = await served(productpage, reviewsRoutes, skewed);
    assert.deepEqual(changed, skewed);
    mustFail(() => assert.deepEqual(changed, half), 'weights 80/20');
    t.diagnostic(`served as productpage's sidecar: ${JSON.stringify(allV3)}, then ${JSON.stringify(half)}`);
  });

  it('mtls: STRICT leaves productpage mutual TLS only on 9080; PERMISSIVE (where the chapter ends) adds plaintext', async (t) => {
    const r = await chapter('mtls', '--keep-routing');
    saysNotHere(r, [
      'Check the client inside gets the product page, the one outside is refused',
      'Check both clients get the product page',
    ]);
    await rerunChangesNothing('mtls');
    const pa = kjson<Obj>('-n', names.istioNamespace, 'get', 'peerauthentication', names.bookinfo.peerAuthentication);
    assert.equal(pa.spec?.mtls?.mode, 'PERMISSIVE');
    assert.equal(pa.metadata.labels?.[names.managedBy.key], names.managedBy.value);
    const [inside] = kjson<List>('-n', ns, 'get', 'pods', '-l', `app=${names.bookinfo.client}`).items;
    const [outside] = kjson<List>('-n', names.bookinfo.outside, 'get', 'pods', '-l', `app=${names.bookinfo.client}`).items;
    assert.ok(proxyOf(inside), 'the client inside the mesh carries the sidecar');
    assert.equal(proxyOf(outside), undefined, 'the client outside the mesh does not');

    const productpage = await podOf('productpage', 'v1');
    const inbound9080 = (d: XdsDump) => inboundModes(d, 9080);
    const permissive = ['mutual TLS', 'plaintext'];
    assert.deepEqual(await served(productpage, inbound9080, permissive), permissive);

    // The chapter's own STRICT object (mesh-wide PeerAuthentication `default`, the tool's label).
    const strictPa = (mode: string): K8sObject => ({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: names.bookinfo.peerAuthentication, namespace: names.istioNamespace, labels: ourLabels() },
      spec: { mtls: { mode } },
    });
    apply([strictPa('STRICT')]);
    const strict = ['mutual TLS'];
    assert.deepEqual(await served(productpage, inbound9080, strict), strict);

    // Negative: back to PERMISSIVE, and the STRICT check fails (a plaintext chain for 9080 is served again).
    apply([strictPa('PERMISSIVE')]);
    const changed = await served(productpage, inbound9080, permissive);
    assert.deepEqual(changed, permissive);
    mustFail(() => assert.deepEqual(changed, strict), 'mode PERMISSIVE');
    t.diagnostic(
      `productpage's virtualInbound chains for 9080: STRICT ${JSON.stringify(strict)}, PERMISSIVE ${JSON.stringify(permissive)}`,
    );
  });

  it("Istio's webhook rejects invalid task objects; istioctl analyze finds only the sample's unused subsets", (t) => {
    const serverDryRun = (spec: object) =>
      kubectlRun(
        ['apply', '--dry-run=server', '-f', '-'],
        JSON.stringify({
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'bad', namespace: ns },
          spec,
        }),
      );
    const ratings = (fault: object) => ({
      hosts: ['ratings'],
      http: [{ fault, route: [{ destination: { host: 'ratings', subset: 'v1' } }] }],
    });
    const denied = (r: ReturnType<typeof kubectlRun>, why: RegExp) => {
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /admission webhook "validation\.istio\.io" denied the request: configuration is invalid: /);
      assert.match(r.stderr, why);
    };
    denied(serverDryRun(ratings({ delay: { fixedDelay: '7s', percentage: { value: 150 } } })), /percentage 150 is neither 0\.0/);
    denied(serverDryRun(ratings({ abort: { httpStatus: 700, percentage: { value: 100 } } })), /HTTP status 700 is not in range/);
    const weights = (w: number[]) => ({
      hosts: ['reviews'],
      http: [{ route: w.map((weight, i) => ({ destination: { host: 'reviews', subset: `v${i + 1}` }, weight })) }],
    });
    denied(serverDryRun(weights([-5, 105])), /weight -5 < 0/);
    // Weights are not required to add up to 100 (Envoy normalizes them): 150 alone, or 80 + 40, pass.
    assert.equal(serverDryRun(weights([150])).status, 0);
    assert.equal(serverDryRun(weights([80, 40])).status, 0);

    // The live cluster, as `istioctl analyze -n bookinfo` sees it after the tasks.
    const r = spawnSync(
      bin('istioctl'),
      ['--kubeconfig', labEnv.KUBECONFIG, '--context', 'lab', 'analyze', '-n', ns, '-o', 'json', '--output-threshold', 'Info'],
      { encoding: 'utf8' },
    );
    assert.ok(r.stdout.trim().startsWith('['), `istioctl analyze: ${r.stderr}`);
    const messages = JSON.parse(r.stdout) as { code: string; level: string; origin: string; message: string }[];
    const errors = messages.filter((m) => m.level === 'Error').map((m) => `${m.code} ${m.origin}: ${m.message}`);
    // destination-rule-all.yaml (applied by bookinfo, as istio.io's getting started does) defines ratings subsets
    // v2-mysql and v2-mysql-vm for workloads bookinfo.yaml does not deploy: Istio 1.31 reports that as an Error.
    // Nothing else is an error.
    assert.deepEqual(
      errors,
      ['v2-mysql', 'v2-mysql-vm'].map(
        (s) =>
          `IST0173 DestinationRule bookinfo/ratings: The Subset ${s} defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
      ),
    );
    t.diagnostic(`istioctl analyze -n ${ns}: ${messages.map((m) => `${m.level} ${m.code} ${m.origin}`).join('; ')}`);
  });

  it('teardown --keep-cluster: no Bookinfo, no client namespace, no PeerAuthentication', async (t) => {
    const r = await chapter('teardown', '--keep-cluster');
    assert.ok(
      r.commands.some((c) =>
        c.includes(
          `-n ${names.istioNamespace} delete peerauthentication ${names.bookinfo.peerAuthentication} --ignore-not-found`,
        ),
      ),
      r.commands.join('\n'),
    );
    assert.deepEqual(listNames('namespace', ns, names.bookinfo.outside, names.istioNamespace), []);
    // Istio went too (its CRDs with it), so no PeerAuthentication can be left anywhere.
    assert.deepEqual(
      listNames('customresourcedefinitions').filter((n) => n.includes('istio.io')),
      [],
    );
    t.diagnostic(`teardown ${r.ms} ms`);
  });
});
