// End to end on the real-node lab: the canary upgrade's six chapters in a row, as a user runs them, with real Envoy
// sidecars of both Istio lines. At each step `istioctl proxy-status --revision <r>` (the pinned istioctl, as istio.io
// has the user run it) must show every proxy on the expected istiod and version, and while the tag moves (switch,
// rollback, switch) a user keeps loading the product page through the real ingress gateway: the failed requests are
// counted and reported, and the page must answer again when each chapter ends.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { names } from '../../tasks/config.ts';
import { revisionOf } from '../../tasks/lib/istio/revisions.ts';
import { tmpDir } from '../helpers.ts';
import { type List, lab, labKubectl, readLabEnv, realNodeUnavailable, runProduct } from './lab-client.ts';
import { withForward } from './real-pages.ts';

const ns = names.bookinfo.namespace;
const cache = tmpDir('fwi-upgrade-real-');
let labEnv: Record<string, string> = {};
const { kubectl, kjson } = labKubectl(() => labEnv);
const measured: string[] = [];

const product = (args: string[]) =>
  runProduct([...args, '--yes'], { ...labEnv, CACHE_DIR: cache, ADDONS: 'zipkin', WAIT_TIMEOUT: '300s' });

async function chapter(name: string) {
  const r = await product([name]);
  measured.push(`${name} ${(r.ms / 1000).toFixed(1)} s`);
  assert.equal(r.code, 0, `${name}: exit ${r.code}\n${r.out.slice(-3000)}\n${r.err}`);
  return r;
}

/** Pod (without its namespace) -> [istiod pod's revision, proxy version], from `istioctl proxy-status --revision`. */
function proxyStatus(revision: string): Map<string, [string, string]> {
  const r = spawnSync(
    `${labEnv.ISTIO_HOME}/bin/istioctl`,
    ['--kubeconfig', labEnv.KUBECONFIG, '--context', 'lab', 'proxy-status', '--revision', revision],
    { encoding: 'utf8' },
  );
  const seen = new Map<string, [string, string]>();
  // A revision without an istiod (not yet installed, or uninstalled) has no proxies.
  if (r.status === 1 && /no running Istio pods in "istio-system"/.test(r.stderr)) return seen;
  assert.equal(r.status, 0, `istioctl proxy-status --revision ${revision}: ${r.stderr}`);
  for (const line of r.stdout.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const at = fields.findIndex((f) => f.startsWith('istiod-'));
    if (at < 0) continue;
    const istiod = /^istiod-(.+)-[a-z0-9]+-[a-z0-9]+$/.exec(fields[at])?.[1] ?? fields[at];
    seen.set(fields[0].replace(/\.[^.]+$/, ''), [istiod, fields[at + 1]]);
  }
  return seen;
}

/** Pods that are running and not on their way out. */
const podNames = (namespace: string, selector: string) =>
  kjson<List>('-n', namespace, 'get', 'pods', '-l', selector, '--field-selector=status.phase=Running')
    .items.filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.metadata.name);

/** Each of Bookinfo's pods and the ingress gateway's must be on `revision` in version `version`, by proxy-status. */
function assertProxies(which: { bookinfo: [string, string]; gateway: [string, string] }) {
  const seen = new Map([
    ...proxyStatus(revisionOf(labEnv.ISTIO_PREVIOUS_VERSION)),
    ...proxyStatus(revisionOf(labEnv.ISTIO_VERSION)),
  ]);
  const want = new Map<string, [string, string]>();
  for (const p of podNames(ns, 'app')) want.set(p, which.bookinfo);
  for (const p of podNames(names.istioNamespace, 'app=istio-ingressgateway')) want.set(p, which.gateway);
  assert.equal(want.size, 7, 'six Bookinfo pods and the gateway');
  const got = new Map([...want.keys()].map((p) => [p, seen.get(p)]));
  assert.deepEqual(got, want);
}

/** A user reloading the product page through the gateway (one request every ~100 ms, 2 s each) until `done` settles. */
async function reloadWhile(done: Promise<unknown>): Promise<{ failed: number; total: number; lastOk: boolean }> {
  return withForward(labEnv, names.istioNamespace, names.bookinfo.ingress.service, names.bookinfo.ingress.port, async (base) => {
    let settled = false;
    void done.finally(() => (settled = true));
    let failed = 0;
    let total = 0;
    let lastOk = false;
    // Bounded: 6000 requests is over ten minutes, past the chapters' WAIT_TIMEOUT.
    while (!settled && total < 6000) {
      total++;
      lastOk = await fetch(`${base}/productpage`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (!lastOk) failed++;
      await delay(100);
    }
    return { failed, total, lastOk };
  });
}

const cannotRun = realNodeUnavailable();

describe('the canary upgrade on the real node: real proxies of both lines, a user reloading throughout', {
  timeout: 30 * 60_000,
  skip: cannotRun,
}, () => {
  let old: [string, string] = ['', ''];
  let next: [string, string] = ['', ''];

  before(() => {
    lab('up', '--fresh', '--node=real');
    labEnv = readLabEnv();
    old = [revisionOf(labEnv.ISTIO_PREVIOUS_VERSION), labEnv.ISTIO_PREVIOUS_VERSION];
    next = [revisionOf(labEnv.ISTIO_VERSION), labEnv.ISTIO_VERSION];
  });
  after(() => {
    console.log(`the canary upgrade on the real node: ${measured.join('; ')}`);
    lab('down');
  });

  it('upgrade-start: every proxy on the previous istiod', async () => {
    await chapter('upgrade-start');
    assertProxies({ bookinfo: old, gateway: old });
  });

  it('upgrade-canary: the gateway upgraded in place, Bookinfo still on the previous istiod', async () => {
    await chapter('upgrade-canary');
    assertProxies({ bookinfo: old, gateway: next });
  });

  for (const [name, bookinfo] of [
    ['upgrade-switch', 'next'],
    ['upgrade-rollback', 'old'],
    ['upgrade-switch', 'next'],
  ] as const)
    it(`${name}: Bookinfo's proxies on the ${bookinfo === 'next' ? 'new' : 'previous'} istiod; the page answers at the end`, async (t) => {
      const run = chapter(name);
      const requests = await reloadWhile(run);
      await run;
      const line = `${name}: ${requests.failed} of ${requests.total} product pages failed while it ran`;
      measured.push(line);
      t.diagnostic(line);
      assert.ok(requests.total > 10, 'the user reloaded throughout');
      assert.equal(requests.lastOk, true, 'the product page answers when the chapter ends');
      assertProxies({ bookinfo: bookinfo === 'next' ? next : old, gateway: next });
    });

  it('upgrade-finish: only the new istiod left, and every proxy on it', async () => {
    await chapter('upgrade-finish');
    const istiods = kubectl('-n', names.istioNamespace, 'get', 'deployments', '-l', 'app=istiod', '-o', 'name').trim();
    assert.equal(istiods, `deployment.apps/istiod-${next[0]}`);
    assert.deepEqual(proxyStatus(old[0]), new Map(), 'no proxy on the previous revision');
    assertProxies({ bookinfo: next, gateway: next });
  });

  it('teardown leaves no Istio', async () => {
    await chapter('teardown');
    assert.equal(kubectl('get', 'namespace', names.istioNamespace, ns, '--ignore-not-found', '-o', 'name'), '');
    assert.equal(kubectl('get', 'mutatingwebhookconfigurations,validatingwebhookconfigurations', '-o', 'name'), '');
  });
});
