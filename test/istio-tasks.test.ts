// The Istio-task chapters' verify steps, end to end on this machine: the scripted shell answers kubectl, its
// port-forward points at a local server that plays Bookinfo's productpage behind the gateway (pages rendered from
// the pinned release's template, test/fixtures/bookinfo), choosing reviews v1/v2/v3 and faults from the
// VirtualServices the chapter applied. What the real istiod makes of those VirtualServices is test/e2e's (xDS).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dump, loadAll } from 'js-yaml';
import { loadConfig, pins } from '../tasks/config.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import { FakeApi } from './fake-api.ts';
import { asks, fakeRunner, nodesJson, type Reply, runCli, tmpDir, virtualClock } from './helpers.ts';

const pages = path.join(import.meta.dirname, 'fixtures', 'bookinfo');
const page = (name: string) => readFileSync(path.join(pages, `${name}.html`), 'utf8');
const release = path.join(import.meta.dirname, 'fixtures', 'release');

interface Route {
  spec?: {
    http?: {
      match?: unknown[];
      fault?: { delay?: unknown; abort?: unknown };
      route?: { destination: { subset: string }; weight?: number }[];
    }[];
  };
}

/** How an emulated mesh can be wrong, each in exactly one way: what the failure tests hand the chapters. */
interface Wrong {
  /** Routes jason like everyone else (the jason match is ignored). */
  ignoresJasonRoute?: boolean;
  /** Does not inject this fault. */
  ignoresFault?: 'delay' | 'abort';
  /** Splits reviews otherwise than the applied weights say (subset -> weight). */
  split?: (applied: Record<string, number>) => Record<string, number>;
  /** Every fifth page for jason takes the route everyone else takes. */
  fifthPageIgnoresJasonRoute?: boolean;
  /** Routes jason as jason, but the page does not say he is signed in. */
  pageForgetsUser?: boolean;
  /** Ratings is down for everyone (no fault applied): reviews v2 and v3 show no stars. */
  ratingsDown?: boolean;
  /** Not wrong, slow: a new reviews VirtualService reaches the proxies only after this many pages. */
  lateBy?: number;
  /** Pages (by number, from 0) that say "Error fetching product reviews": a reviews pod whose app is not up. */
  reviewsDownOn?: (page: number) => boolean;
}

/** What the mesh does now, as the applied VirtualServices say (the emulation's istiod), unless it is `wrong`. */
class Mesh {
  reviews: Route | undefined;
  ratings: Route | undefined;
  wrong: Wrong = {};
  private served = 0;
  /** Pages served per subset, per set of weights: each followed exactly (a page to the subset furthest below its share). */
  private counts = new Map<string, Map<string, number>>();

  /** The reviews routing the proxies still follow while a new one is on its way, and for how many more pages. */
  private before: Route | undefined;
  private late = 0;

  apply(input: string): void {
    for (const doc of loadAll(input) as ({ kind?: string; metadata?: { name?: string } } & Route)[]) {
      if (doc?.kind !== 'VirtualService') continue;
      if (doc.metadata?.name === 'reviews') {
        this.before = this.reviews;
        this.late = this.wrong.lateBy ?? 0;
        this.reviews = doc;
        this.counts.clear(); // new weights: the proxies keep no tally of the old ones
      }
      if (doc.metadata?.name === 'ratings') this.ratings = doc;
    }
  }

  private pick(weights: Record<string, number>): string {
    const key = JSON.stringify(weights);
    const counts = this.counts.get(key) ?? new Map<string, number>();
    this.counts.set(key, counts);
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    const all = [...counts.values()].reduce((a, b) => a + b, 0) + 1;
    const deficit = (subset: string) => (weights[subset] / total) * all - (counts.get(subset) ?? 0);
    const subset = Object.keys(weights).reduce((a, b) => (deficit(b) > deficit(a) ? b : a));
    counts.set(subset, (counts.get(subset) ?? 0) + 1);
    return subset;
  }

  /** The page productpage renders for `user`. */
  render(user: string | undefined): string {
    const n = this.served++;
    if (this.wrong.reviewsDownOn?.(n)) return page('reviews-unavailable');
    const jason = user === 'jason';
    const fault = jason ? this.ratings?.spec?.http?.find((h) => h.match)?.fault : undefined;
    const ratingsFault = fault && this.wrong.ignoresFault ? { ...fault, [this.wrong.ignoresFault]: undefined } : fault;
    const reviews = this.late > 0 ? this.before : this.reviews;
    if (this.late > 0) this.late--;
    const reviewsRules = reviews?.spec?.http ?? [];
    const routedAsJason = jason && !this.wrong.ignoresJasonRoute && !(this.wrong.fifthPageIgnoresJasonRoute && n % 5 === 4);
    const rule = (routedAsJason ? reviewsRules.find((h) => h.match) : undefined) ?? reviewsRules.find((h) => !h.match);
    const routes = rule?.route ?? [];
    const applied = Object.fromEntries(routes.map((r) => [r.destination.subset, r.weight ?? 100]));
    // No VirtualService: round robin over v1, v2, v3.
    const subset = routes.length ? this.pick(this.wrong.split?.(applied) ?? applied) : ['v1', 'v2', 'v3'][n % 3];
    if (subset !== 'v1' && ratingsFault?.delay) return page('reviews-unavailable');
    if (subset !== 'v1' && (ratingsFault?.abort || (jason && this.wrong.ratingsDown))) return page('ratings-unavailable');
    if (subset === 'v2') return page(jason && !this.wrong.pageForgetsUser ? 'reviews-v2-jason' : 'reviews-v2');
    return page(subset === 'v3' ? 'reviews-v3' : 'reviews-v1');
  }
}

let server: Server;
/** When it says so, a page request gets no answer (a user's Ctrl-C comes while it is on its way). */
let holdPage: ((req: IncomingMessage) => boolean) | undefined;
let port = 0;
let mesh = new Mesh();
before(async () => {
  server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/login') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const user = new URLSearchParams(body).get('username') ?? '';
        res.writeHead(302, { location: '/productpage', 'set-cookie': `session=${user}; HttpOnly; Path=/` }).end();
      });
      return;
    }
    if (holdPage?.(req)) return; // no answer: the request stays open until the client gives up
    const user = /session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    res.writeHead(200, { 'content-type': 'text/html' }).end(mesh.render(user));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const { cluster, addons } = loadConfig({ env: {}, envFile: '/nonexistent/.env' });
const modelConfig = { kubernetesVersion: pins.kubernetes, istioVersion: pins.istio, cluster, addons };

/** Bookinfo's pods, each READY 2/2 with its native sidecar, but those named in `bare` (no sidecar, READY 1/1). */
const bookinfoPods = (bare: string[] = []) =>
  JSON.stringify({
    items: ['productpage-v1', 'details-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'].map((name) => ({
      metadata: { name: `${name}-x` },
      spec: {
        containers: [{ name: 'app' }],
        initContainers: bare.includes(name) ? [] : [{ name: 'istio-proxy', restartPolicy: 'Always' }],
      },
      status: {
        containerStatuses: [{ name: 'app', ready: true }],
        initContainerStatuses: bare.includes(name) ? [] : [{ name: 'istio-proxy', ready: true }],
      },
    })),
  });

/** A cluster with a data plane: the model's answers, the gateway's port-forward to the emulation, curl by exec. */
function meshCluster(
  o: {
    outsideGetsIn?: (mode: string) => boolean;
    /** What the client inside gets instead of the page (default: the page), for its first `insideFor` calls. */
    insideGets?: Reply;
    insideFor?: number;
    /** kubectl's own failure to exec (not curl's). */
    execFails?: string;
    /** What kubectl exec adds after curl's output (a terminal's line end). */
    execEnds?: string;
    /** Bookinfo's pods that run without a sidecar (deployed before injection was on). */
    bare?: string[];
    /** The namespaces whose Deployments are Available as soon as they are applied. */
    availableIn?: string[];
    runtime?: string;
    lag?: number;
    forwardFails?: string;
    /** The first port-forwards end at once with this (the gateway's pod refused), the later ones work. */
    forwardLost?: { times: number; stderr: string };
  } = {},
) {
  const model = new DryRunCluster(modelConfig, 'fresh');
  /** What the chapters create, change and delete (their snapshots, routing, policies, clients), kept as the API server would. */
  const api = new FakeApi();
  let mode = 'PERMISSIVE';
  let lagging = 0;
  let insideCalls = 0;
  const fake = fakeRunner((argv, input, query): Reply | undefined => {
    if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson(o.runtime ?? 'containerd://2.1.4') };
    // A port-forward and an exec ask nothing of the API server's objects: they are told by their command line.
    if (argv.includes('port-forward') && o.forwardLost && o.forwardLost.times-- > 0)
      return { code: 1, stderr: `${o.forwardLost.stderr}\n` };
    if (argv.includes('port-forward'))
      return o.forwardFails
        ? { code: 1, stderr: `${o.forwardFails}\n` }
        : { hold: true, stdout: `Forwarding from 127.0.0.1:${port} -> 8080\n` };
    if (query?.op === 'send' && query.verb === 'apply') {
      mesh.apply(input);
      const before = mode;
      mode = /mode: (\w+)/.exec(input)?.[1] ?? mode;
      if (mode !== before) lagging = o.lag ?? 0;
    }
    if (asks(query, 'list', { kind: 'pods', namespace: 'bookinfo' })) return { stdout: bookinfoPods(o.bare) };
    if (argv.includes('exec')) {
      if (o.execFails !== undefined) return { code: 1, stderr: `${o.execFails}\n` };
      const outside = argv.includes('fun-with-istio-outside');
      if (!outside && o.insideGets && insideCalls++ < (o.insideFor ?? Number.POSITIVE_INFINITY)) return o.insideGets;
      const getsIn = !outside || (o.outsideGetsIn ?? ((m) => m !== 'STRICT'))(mode);
      // A new mode reaches the proxies late: the first `lag` calls from outside after a change see the old one.
      const late = lagging > 0 && outside;
      if (late) lagging--;
      const open = late ? !getsIn : getsIn;
      const ends = o.execEnds ?? '';
      return open
        ? { stdout: `200${ends}` }
        : { stdout: `000${ends}`, stderr: 'command terminated with exit code 56\n', code: 56 };
    }
    const kept = api.answer(query);
    if (kept && (query?.op === 'send' || query?.op === 'delete')) {
      for (const d of api.objects.values())
        if (d.kind === 'Deployment' && o.availableIn?.includes(d.metadata?.namespace ?? ''))
          d.status = { conditions: [{ type: 'Available', status: 'True' }] };
      return kept;
    }
    // What the chapters did not make is as the model's fresh cluster has it.
    if (kept && !kept.code && !/^\{"items":\[\]\}$/.test(kept.stdout ?? '')) return kept;
    const a = model.answer({ argv, input, query });
    return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
  });
  return Object.assign(fake, { api });
}

const env = (extra: Record<string, string> = {}) => ({
  CACHE_DIR: tmpDir('fwi-tasks-'),
  ISTIO_HOME: release,
  CLUSTER: 'existing',
  KUBE_CONTEXT: 'lab',
  WAIT_TIMEOUT: '2s',
  ...extra,
});
type MeshCluster = ReturnType<typeof meshCluster>;
/** A run of `chapter` (with `flags`) on a mesh that starts from the routing the cluster's API server holds. */
const run = async (chapter: string, fake: MeshCluster, extra: Record<string, string> = {}, flags: string[] = []) => {
  const wrong = mesh.wrong;
  mesh = new Mesh();
  mesh.apply(
    fake.api
      .list('virtualservice', 'bookinfo')
      .map((o) => dump(o))
      .join('---\n'),
  ); // in place, not late
  mesh.wrong = wrong;
  return runCli([chapter, ...flags], { env: env(extra), runner: fake.runner });
};
/** A chapter run on a mesh that is wrong in exactly one way. */
async function runWrong(chapter: string, wrong: Wrong, extra: Record<string, string> = {}) {
  mesh.wrong = wrong;
  try {
    return await run(chapter, meshCluster(), extra);
  } finally {
    mesh.wrong = {};
  }
}
const logOf = (err: string) => readFileSync(/\(log: (.*\.log)\)/.exec(err)?.[1] ?? '', 'utf8');

describe('the Istio-task chapters judge what a user sees', () => {
  it('bookinfo: the product page answers through the gateway', async () => {
    const r = await run('bookinfo', meshCluster());
    assert.equal(r.code, 0, r.err);
  });

  it('bookinfo: a page without reviews between whole ones starts the count again; five whole in a row pass', async () => {
    const r = await runWrong('bookinfo', { reviewsDownOn: (n) => n === 3 });
    assert.equal(r.code, 0, r.err);
    assert.match(logOf(r.err), /^# progress: waiting for whole product pages: 3 in a row$/m);
  });

  it('bookinfo: a reviews pod that never answers (every third page) fails the proof, saying what the page says', async () => {
    const r = await runWrong('bookinfo', { reviewsDownOn: (n) => n % 3 === 2 });
    assert.equal(r.code, 1);
    assert.match(r.err, /productpage: 2 whole pages in a row, not 5; then one that says "Error fetching product reviews" \(log/);
  });

  it('bookinfo: a pod without its sidecar fails the wait, named with what it shows', async () => {
    const r = await run('bookinfo', meshCluster({ bare: ['details-v1'] }));
    assert.equal(r.code, 1);
    assert.match(r.err, /: not READY 2\/2 with istio-proxy: details-v1-x 1\/1 no sidecar \(log/);
  });

  it("a port-forward that ends on its own ends the check with kubectl's reason", async () => {
    const why = 'error: unable to forward port because pod is not running. Current status=Pending';
    const r = await run('bookinfo', meshCluster({ forwardFails: why }));
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Prove the product page answers through the ingress gateway \(5 whole pages in a row\): kubectl exited with 1: error: unable to forward port because pod is not running/m,
    );
  });

  it('bookinfo: a port-forward that lost its connection to the pod is started again, within the wait', async () => {
    const fake = meshCluster({ forwardLost: { times: 1, stderr: 'error: lost connection to pod' } });
    const r = await run('bookinfo', fake, { WAIT_TIMEOUT: '30s' });
    assert.equal(r.code, 0, r.err);
    assert.equal(fake.calls.filter((c) => c.argv.includes('port-forward')).length, 2);
    assert.match(logOf(r.err), /^# the port-forward lost its connection to the gateway's pod: a new one$/m);
  });

  it('request-routing: jason sees black stars, everyone else none; the routing is put back', async () => {
    const fake = meshCluster();
    const r = await run('request-routing', fake);
    assert.equal(r.code, 0, r.err);
    const changes = fake.calls.map((c) => c.argv.join(' ')).filter((c) => / (create|apply|delete) /.test(c));
    // The snapshot first (kept until the routing is back), the two files, then the routing and the snapshot removed.
    assert.equal(changes.length, 5, changes.join('\n'));
    assert.match(changes[0], / create -f -$/);
    assert.match(
      changes[3],
      /delete virtualservice\/productpage virtualservice\/reviews virtualservice\/ratings virtualservice\/details/,
    );
    assert.match(changes[4], /delete configmap fun-with-istio-virtualservice-before/);
    const log = logOf(r.err);
    assert.match(
      log,
      /^# jason: black stars \(reviews v2\) on 5 of 5 pages; anonymous: no stars \(reviews v1\) on 5 of 5 pages$/m,
    );
    // Each user's verdict is on screen (and in the log) as soon as it is known, one line each.
    assert.deepEqual(log.match(/^# progress: .*$/gm), [
      '# progress: anonymous: no stars (reviews v1) on 5 of 5 pages',
      '# progress: jason: black stars (reviews v2) on 5 of 5 pages',
      '# progress: jason: black stars (reviews v2) on 5 of 5 pages',
      '# progress: anonymous: no stars (reviews v1) on 5 of 5 pages',
    ]);
  });

  it('request-routing and traffic-shifting: a route that reaches the proxies late is waited for, not failed', async () => {
    // 30 pages late: more than a sample, so a check that stopped waiting at the first red star would count old ones.
    for (const chapter of ['request-routing', 'traffic-shifting']) {
      const r = await runWrong(chapter, { lateBy: 30 }, { WAIT_TIMEOUT: '60s' });
      assert.equal(r.code, 0, `${chapter}: ${r.err}`);
    }
  });

  it('traffic-shifting: all of reviews to v3 is counted only once every page of a sample is red', async () => {
    // 100 pages late: the 50/50 split shows red stars long before v3 serves them all; counting those pages would
    // put the 100% share near 68%.
    const r = await runWrong('traffic-shifting', { lateBy: 100 }, { WAIT_TIMEOUT: '60s', SHIFT_REQUESTS: '50' });
    assert.equal(r.code, 0, r.err);
    const log = logOf(r.err);
    assert.match(log, /^# red stars on 50 of 50 pages \(red 50\): within 10 points of 100%$/m);
    // What it waited for, and what it counted, in the log.
    const waits = log.match(/^# progress: waiting for the new weights.*$/gm);
    assert.deepEqual(waits, [
      '# progress: waiting for the new weights to show (red stars on some pages)',
      '# progress: waiting for the new weights to show (red stars on every page)',
    ]);
    assert.match(log, /^# progress: counting red stars on 50 pages \(round 1\)$/m);
  });

  it('a task whose end state was kept (--keep-routing) checks, on a re-run, only what is not on the way there', async () => {
    // Each chapter's steps on the way to its end state: applying its files and checking the states between them.
    const onTheWay = { 'request-routing': 3, 'traffic-shifting': 4, mtls: 3 };
    for (const [chapter, skipped] of Object.entries(onTheWay)) {
      const fake = meshCluster({ availableIn: ['bookinfo', 'fun-with-istio-outside'] });
      const first = await run(chapter, fake, { SHIFT_REQUESTS: '50' }, ['--keep-routing']);
      assert.equal(first.code, 0, `${chapter}: ${first.err}`);
      const again = await run(chapter, fake, { SHIFT_REQUESTS: '50' }, ['--keep-routing']);
      assert.equal(again.code, 0, `${chapter}: ${again.err}`);
      const kept = logOf(again.err).match(/^# skip: the task's end state is in place \(kept\)$/gm) ?? [];
      assert.equal(kept.length, skipped, `${chapter}: steps skipped as on the way to the kept end`);
    }
  });

  it('Ctrl-C while a page is on its way ends the count at once, as an interruption', { timeout: 30_000 }, async () => {
    const split = () =>
      mesh.reviews?.spec?.http
        ?.find((h) => !h.match)
        ?.route?.map((r) => r.weight)
        .join('/');
    // The first page after 50/50 is applied (the new weights awaited), then the sixth (the first one counted).
    for (const nth of [1, 6]) {
      const stop = new AbortController();
      let asked = 0;
      mesh = new Mesh();
      let gaveUp: Promise<void> | undefined;
      holdPage = (req) => {
        if (split() !== '50/50' || ++asked !== nth) return false;
        gaveUp = new Promise((resolve) => req.on('close', resolve));
        stop.abort();
        return true;
      };
      try {
        const r = await runCli(['traffic-shifting'], {
          env: env({ SHIFT_REQUESTS: '50' }),
          runner: meshCluster().runner,
          signal: stop.signal,
        });
        assert.equal(r.code, 130, `page ${nth}: ${r.err}`);
        assert.match(r.err, /interrupted/);
        // The page on its way was given up, not left to finish after the run ended (the test's timeout says if not).
        await gaveUp;
      } finally {
        holdPage = undefined;
      }
    }
  });

  it('on a mesh that does what it was told, no check waits out its timeout', async () => {
    for (const chapter of ['request-routing', 'fault-injection', 'traffic-shifting', 'mtls']) {
      mesh = Object.assign(new Mesh(), { wrong: {} });
      const clock = virtualClock();
      const r = await runCli([chapter], { env: env({ WAIT_TIMEOUT: '300s' }), runner: meshCluster().runner, clock });
      assert.equal(r.code, 0, `${chapter}: ${r.err}`);
      const waited = clock.slept.reduce((a, b) => a + b, 0);
      assert.ok(waited < 30_000, `${chapter} waited ${waited / 1000} s of its 300 s`);
    }
  });

  it('request-routing: a mesh that ignores the jason route fails, naming what jason saw', async () => {
    const r = await runWrong('request-routing', { ignoresJasonRoute: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /jason: expected black stars \(reviews v2\), saw none 5/);
  });

  it('request-routing: a mesh that keeps round-robin under all-v1 fails the first check, with what anonymous saw', async () => {
    const roundRobin = (w: Record<string, number>) => (w.v1 === 100 && Object.keys(w).length === 1 ? { v1: 1, v2: 1, v3: 1 } : w);
    const r = await runWrong('request-routing', { split: roundRobin });
    assert.equal(r.code, 1);
    assert.match(r.err, /anonymous: expected no stars \(reviews v1\), saw none \d+, black \d+, red \d+/);
  });

  it('request-routing: with ratings down, jason on v2 sees no black stars, and the check says so', async () => {
    const r = await runWrong('request-routing', { ratingsDown: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /jason: expected black stars \(reviews v2\), saw ratingsUnavailable 5/);
  });

  it('request-routing: one page in five off the route fails it: every page must show the route', async () => {
    const r = await runWrong('request-routing', { fifthPageIgnoresJasonRoute: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /jason: expected black stars \(reviews v2\), saw none 1, black 4/);
  });

  it('request-routing: pages for jason that do not say he is signed in prove nothing about his route', async () => {
    const r = await runWrong('request-routing', { pageForgetsUser: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /jason: expected black stars \(reviews v2\), saw black 5/);
  });

  it('a task stopped midway is followed by a run that puts back what was there before it', async () => {
    const fake = meshCluster();
    mesh.wrong = { ignoresJasonRoute: true };
    try {
      assert.equal((await run('request-routing', fake)).code, 1); // stopped at the jason check, routing applied
    } finally {
      mesh.wrong = {};
    }
    const calls = fake.calls.length;
    const r = await run('request-routing', fake);
    assert.equal(r.code, 0, r.err);
    const changes = fake.calls
      .slice(calls)
      .map((c) => c.argv.join(' '))
      .filter((c) => / (delete|create) /.test(c));
    // Before the stopped run there was no VirtualService: this run removes the four, then its snapshot.
    assert.deepEqual(changes, [
      'kubectl --context lab -n bookinfo delete virtualservice/productpage virtualservice/reviews virtualservice/ratings virtualservice/details --ignore-not-found',
      'kubectl --context lab -n bookinfo delete configmap fun-with-istio-virtualservice-before --ignore-not-found',
    ]);
    assert.match(logOf(r.err), /as before a run that stopped midway/);
    // The snapshot is a plain ConfigMap (the API server refuses unknown metadata fields, as the lab showed).
    const notes = fake.calls.find((c) => c.input.includes('kind: ConfigMap'));
    const meta = (loadAll(notes?.input ?? '')[0] as { metadata: object }).metadata;
    assert.deepEqual(Object.keys(meta).sort(), ['labels', 'name', 'namespace']);
  });

  it('fault-injection: jason loses the reviews, then the ratings; others are unaffected', async () => {
    const r = await run('fault-injection', meshCluster());
    assert.equal(r.code, 0, r.err);
    const log = logOf(r.err);
    assert.match(log, /jason: "Error fetching product reviews" on 5 of 5 pages/);
    assert.match(log, /jason: "Ratings service is currently unavailable" on 5 of 5 pages/);
  });

  it("fault-injection: a mesh that ignores the abort fails: jason's normal page is no lost rating", async () => {
    const r = await runWrong('fault-injection', { ignoresFault: 'abort' });
    assert.equal(r.code, 1);
    assert.match(r.err, /jason: expected "Ratings service is currently unavailable", saw black 5/);
  });

  it('fault-injection: a mesh that ignores the delay fails: jason still gets his reviews', async () => {
    const r = await runWrong('fault-injection', { ignoresFault: 'delay' });
    assert.equal(r.code, 1);
    assert.match(r.err, /jason: expected "Error fetching product reviews", saw black 5/);
  });

  it('traffic-shifting: counts red stars within 10 points of 50%, then of 100%', async () => {
    const r = await run('traffic-shifting', meshCluster(), { SHIFT_REQUESTS: '50' });
    assert.equal(r.code, 0, r.err);
    const log = logOf(r.err);
    assert.match(log, /red stars on 25 of 50 pages .*: within 10 points of 50%/);
    assert.match(log, /red stars on 50 of 50 pages .*: within 10 points of 100%/);
  });

  it('traffic-shifting: a mesh that splits 80/20 where 50/50 was applied fails, with the share it saw', async () => {
    const skewed = (w: Record<string, number>) => (w.v1 === 50 && w.v3 === 50 ? { v1: 80, v3: 20 } : w);
    const r = await runWrong('traffic-shifting', { split: skewed }, { SHIFT_REQUESTS: '50' });
    assert.equal(r.code, 1);
    assert.match(r.err, /expected 50% ± 10 points of pages with red stars, saw red stars on 30 of 150 pages/);
  });

  it('traffic-shifting: a share just outside the band fails (61%), just inside passes (60%)', async () => {
    const at = (red: number) => (w: Record<string, number>) => (w.v1 === 50 ? { v1: 100 - red, v3: red } : w);
    const outside = await runWrong('traffic-shifting', { split: at(61) }, { SHIFT_REQUESTS: '100' });
    assert.equal(outside.code, 1, outside.err);
    assert.match(outside.err, /saw red stars on 183 of 300 pages/);
    const inside = await runWrong('traffic-shifting', { split: at(60) }, { SHIFT_REQUESTS: '100' });
    assert.equal(inside.code, 0, inside.err);
    assert.match(logOf(inside.err), /red stars on 60 of 100 pages .*: within 10 points of 50%/);
  });

  it('traffic-shifting: a mesh that never serves v3 fails the 100% step', async () => {
    const neverV3 = (w: Record<string, number>) => (w.v3 === 100 ? { v1: 100 } : w);
    const r = await runWrong('traffic-shifting', { split: neverV3 }, { SHIFT_REQUESTS: '50' });
    assert.equal(r.code, 1);
    assert.match(r.err, /expected 100% ± 10 points of pages with red stars, saw red stars on 0 of 150 pages/);
  });

  it('mtls: STRICT refuses the client outside the mesh; PERMISSIVE lets it in; a STRICT that lets it in fails', async () => {
    // The new mode reaches the proxies two calls late: the check asks again instead of failing.
    const ok = await run('mtls', meshCluster({ lag: 2 }));
    assert.equal(ok.code, 0, ok.err);
    const log = logOf(ok.err);
    assert.match(log, /inside: HTTP 200; outside: refused \(HTTP 000, curl exit 56\)/);
    // What each check waited for is on screen and in the log: the old mode still answering from outside.
    assert.match(log, /^# progress: waiting for the mode to reach the proxies \(outside: HTTP 200\)$/m);
    assert.match(log, /^# progress: waiting for the mode to reach the proxies \(outside: HTTP 000, curl exit 56\)$/m);
    const leaky = await run('mtls', meshCluster({ outsideGetsIn: () => true }));
    assert.equal(leaky.code, 1);
    assert.match(leaky.err, /the client outside the mesh \(fun-with-istio-outside\) got through, though mTLS is STRICT/);
  });

  it('mtls: a client inside the mesh that is refused fails the check, with what curl got', async () => {
    const refused = await run(
      'mtls',
      meshCluster({ insideGets: { stdout: '000', stderr: 'command terminated with exit code 56\n', code: 56 } }),
    );
    assert.equal(refused.code, 1);
    assert.match(
      refused.err,
      /^error: Check the client inside .*: the client inside the mesh \(bookinfo\) was refused: HTTP 000, curl exit 56 \(log/m,
    );
    const unavailable = await run('mtls', meshCluster({ insideGets: { stdout: '503' } }));
    assert.match(unavailable.err, /the client inside the mesh \(bookinfo\) was refused: HTTP 503 \(log/);
    const silent = await run(
      'mtls',
      meshCluster({ insideGets: { stdout: '', stderr: 'command terminated with exit code 7\n', code: 7 } }),
    );
    assert.equal(silent.code, 1, silent.err);
    assert.match(silent.err, /was refused: HTTP 000, curl exit 7 \(log/);
  });

  it('mtls: a client inside refused only at first (its proxy not ready yet) is asked again, and the check passes', async () => {
    const late = await run('mtls', meshCluster({ insideGets: { stdout: '503' }, insideFor: 2 }));
    assert.equal(late.code, 0, late.err);
    assert.match(logOf(late.err), /^# shown: inside: HTTP 200; outside: refused \(HTTP 000, curl exit 56\)$/m);
    assert.match(logOf(late.err), /^# shown: inside: HTTP 200; outside: HTTP 200$/m);
  });

  it('mtls: clients already Available are not waited for; one that is not yet is', async () => {
    const rollouts = (fake: MeshCluster) => fake.calls.filter((c) => c.argv.includes('rollout')).length;
    const both = meshCluster({ availableIn: ['bookinfo', 'fun-with-istio-outside'] });
    const ready = await run('mtls', both);
    assert.equal(ready.code, 0, ready.err);
    assert.match(logOf(ready.err), /^# skip: both are Available$/m);
    assert.equal(rollouts(both), 0);
    const one = meshCluster({ availableIn: ['bookinfo'] });
    assert.equal((await run('mtls', one)).code, 0);
    assert.equal(rollouts(one), 2, 'each client is waited for when one is not Available');
  });

  it("mtls: curl's answer with a line end is still read; a 200 from a kubectl that failed is kubectl's failure", async () => {
    const ended = await run('mtls', meshCluster({ execEnds: '\r\n' }));
    assert.equal(ended.code, 0, ended.err);
    assert.match(logOf(ended.err), /^# shown: inside: HTTP 200; outside: refused \(HTTP 000, curl exit 56\)$/m);
    const refused = await run('mtls', meshCluster({ insideGets: { stdout: '503\n' } }));
    assert.match(refused.err, /was refused: HTTP 503 \(log/);
    const broken = await run(
      'mtls',
      meshCluster({ insideGets: { stdout: '200', stderr: 'error: error reading from error stream\n', code: 1 } }),
    );
    assert.equal(broken.code, 1);
    assert.match(broken.err, /: kubectl exec into curl in bookinfo: error: error reading from error stream \(log/);
    const silent = await run('mtls', meshCluster({ execFails: '' }));
    assert.equal(silent.code, 1, silent.err);
    assert.match(silent.err, /: kubectl exec into curl in bookinfo: exit 1 \(log/);
  });

  it('mtls: under PERMISSIVE a client outside that is refused fails the check', async () => {
    const r = await run('mtls', meshCluster({ outsideGetsIn: () => false }));
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Check both clients .*: the client outside the mesh \(fun-with-istio-outside\) was refused: HTTP 000, curl exit 56 \(log/m,
    );
  });

  it("mtls: kubectl's own failure to exec is said as kubectl's, not taken for a refusal", async () => {
    const why = 'error: unable to upgrade connection: container not found ("curl")';
    const r = await run('mtls', meshCluster({ execFails: why }));
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /: kubectl exec into curl in bookinfo: error: unable to upgrade connection: container not found \("curl"\) \(log/,
    );
  });

  it('on nodes that run no containers, each check says so and sends nothing', async () => {
    const fake = meshCluster({ runtime: 'kwok://v0.8.0' });
    const r = await run('request-routing', fake);
    assert.equal(r.code, 0, r.err);
    assert.ok(!fake.calls.some((c) => c.argv.includes('port-forward')), 'no port-forward was started');
    assert.match(logOf(r.err), /no data plane \(kwok nodes\): not here/);
  });
});
