// End to end: the canary upgrade's start as a user runs it (`npm run upgrade-start`), against the lab's real API
// server and the real istiod of the previous Istio line (the lab builds 1.30 beside 1.31 and runs one pilot-discovery
// per revision). Its webhook, reached through the tag, injects Bookinfo's pods; what it injected is read back by value.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { names } from '../../tasks/config.ts';
import { proxyOf, revisionOf } from '../../tasks/lib/istio/revisions.ts';
import type { Pod } from '../../tasks/lib/kube/pods.ts';
import { tmpDir } from '../helpers.ts';
import { writes } from './ambient-client.ts';
import { commandsOf, type List, lab, labKubectl, type Obj, readLabEnv, runProduct } from './lab-client.ts';

const ns = names.bookinfo.namespace;
const cache = tmpDir('fwi-e2e-upgrade-');
let labEnv: Record<string, string> = {};
const timings: [string, number][] = [];
const { kubectl, kjson, listNames } = labKubectl(() => labEnv);

async function product(...args: string[]) {
  const r = await runProduct([...args, '--yes'], { ...labEnv, CACHE_DIR: cache, WAIT_TIMEOUT: '120s' });
  timings.push([args.join(' '), r.ms]);
  const logFile = /log: (\S+\.log)/.exec(r.out + r.err)?.[1];
  return { ...r, commands: logFile ? commandsOf(readFileSync(logFile, 'utf8')) : [] };
}
async function succeeds(...args: string[]) {
  const r = await product(...args);
  assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}\n${r.out.slice(-3000)}\n${r.err}`);
  return r;
}
const bookinfoPods = () => kjson<{ items: Pod[] }>('-n', ns, 'get', 'pods').items;

describe('the canary upgrade, started on the previous Istio (upgrade-start)', { timeout: 10 * 60_000 }, () => {
  let previous = '';
  let revision = '';

  before(async () => {
    lab('up', '--fresh');
    labEnv = readLabEnv();
    previous = labEnv.ISTIO_PREVIOUS_VERSION;
    revision = revisionOf(previous);
    assert.match(previous, /^1\.30\./, 'the lab names its previous Istio');
    assert.deepEqual(listNames('namespace', names.istioNamespace, ns), [], 'a fresh cluster');
  });

  after(() => {
    console.log(`wall times on the lab: ${timings.map(([c, ms]) => `${c} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
    lab('down');
  });

  it('installs the previous Istio as its own revision, run by that line’s pilot-discovery', async () => {
    const r = await succeeds('upgrade-start');
    assert.ok(
      r.commands.some((c) => c.includes(`${labEnv.ISTIO_PREVIOUS_HOME}/bin/istioctl --context lab install `)),
      'installed with the previous release’s own istioctl',
    );
    const istiods = kjson<List>('-n', 'istio-system', 'get', 'deployment', '-l', 'app=istiod').items;
    assert.deepEqual(
      istiods.map((d) => [d.metadata.name, (d.spec?.template.spec.containers[0] as { image?: string } | undefined)?.image]),
      [[`istiod-${revision}`, `docker.io/istio/pilot:${previous}`]],
    );
    const running = spawnSync('pgrep', ['-af', 'pilot-discovery'], { encoding: 'utf8' }).stdout;
    assert.match(running, /bin\/pilot-discovery-1\.30 discovery/, 'the 1.30 pilot-discovery serves it');
  });

  it('the tag points at it, and Bookinfo’s namespace names the tag', () => {
    const tag = kjson<Obj>('get', 'mutatingwebhookconfiguration', `istio-revision-tag-${names.upgrade.tag}`);
    assert.equal(tag.metadata.labels?.['istio.io/rev'], revision);
    const labels = kjson<Obj>('get', 'namespace', ns).metadata.labels ?? {};
    assert.equal(labels['istio.io/rev'], names.upgrade.tag);
    assert.equal(labels[names.injection.namespaceLabel], undefined);
  });

  it('the previous revision’s real webhook injected every Bookinfo pod: its proxy, pointed at its istiod', () => {
    const pods = bookinfoPods();
    assert.equal(pods.length, 6);
    const wanted = { revision, version: previous, discoveryAddress: `istiod-${revision}.istio-system.svc:15012` };
    for (const p of pods) assert.deepEqual(proxyOf(p), wanted, p.metadata.name);
  });

  it('a re-run changes nothing', async () => {
    assert.deepEqual(writes((await succeeds('upgrade-start')).commands), []);
  });

  it('a pod the tag’s webhook never saw (the tag removed meanwhile) fails the run, naming it; a re-run puts the tag back', async () => {
    kubectl('delete', 'mutatingwebhookconfiguration', `istio-revision-tag-${names.upgrade.tag}`);
    kubectl('-n', ns, 'delete', 'pod', '-l', 'app=ratings', '--wait=true');
    const r = await product('upgrade-start');
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /not READY 2\/2 with istio-proxy: ratings-v1-\S+ 1\/1 no sidecar/);
    assert.equal(
      kjson<Obj>('get', 'mutatingwebhookconfiguration', `istio-revision-tag-${names.upgrade.tag}`).metadata.labels?.[
        'istio.io/rev'
      ],
      revision,
      'the tag is set again',
    );
    kubectl('-n', ns, 'delete', 'pod', '-l', 'app=ratings', '--wait=true');
    await succeeds('upgrade-start');
  });

  /** Every Bookinfo pod's proxy as injected, by pod name. */
  const proxies = () => Object.fromEntries(bookinfoPods().map((p) => [p.metadata.name.replace(/-[^-]+-[^-]+$/, ''), proxyOf(p)]));
  const on = (rev: string, version: string) => ({
    revision: rev,
    version,
    discoveryAddress: `istiod-${rev}.istio-system.svc:15012`,
  });
  const allOn = (rev: string, version: string) =>
    Object.fromEntries(
      ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'].map((a) => [a, on(rev, version)]),
    );
  const gatewayProxy = () =>
    proxyOf(kjson<{ items: Pod[] }>('-n', 'istio-system', 'get', 'pods', '-l', 'app=istio-ingressgateway').items[0]);
  /** `istioctl tag list` as the user runs it (the pinned istioctl): tag -> revision. */
  const tagList = () =>
    Object.fromEntries(
      spawnSync(`${labEnv.ISTIO_HOME}/bin/istioctl`, ['--kubeconfig', labEnv.KUBECONFIG, '--context', 'lab', 'tag', 'list'], {
        encoding: 'utf8',
      })
        .stdout.split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 2)
        .map(([tag, rev]) => [tag, rev]),
    );
  let current = '';
  let canary = '';

  it('upgrade-finish before the switch is refused: the tag is not on the new revision', async () => {
    current = labEnv.ISTIO_VERSION;
    canary = revisionOf(current);
    const r = await product('upgrade-finish');
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /istiod-1-31-0 is not installed|the tag prod-stable points at revision/);
    assert.ok(!r.commands.some((c) => c.includes(' uninstall ')), 'nothing uninstalled');
  });

  it('upgrade-canary: precheck, then the pinned Istio beside it, run by the 1.31 pilot-discovery; the gateway moved in place, Bookinfo not', async () => {
    const r = await succeeds('upgrade-canary');
    assert.ok(
      r.commands.some((c) => c.endsWith(' x precheck')),
      'istioctl x precheck ran',
    );
    const istiods = kjson<List>('-n', 'istio-system', 'get', 'deployment', '-l', 'app=istiod').items;
    assert.deepEqual(istiods.map((d) => d.metadata.name).sort(), [`istiod-${revision}`, `istiod-${canary}`]);
    const running = spawnSync('pgrep', ['-af', 'pilot-discovery'], { encoding: 'utf8' }).stdout;
    assert.match(running, /bin\/pilot-discovery-1\.30 discovery/);
    assert.match(running, /bin\/pilot-discovery discovery/);
    assert.deepEqual(gatewayProxy(), on(canary, current));
    assert.deepEqual(proxies(), allOn(revision, previous));
    assert.deepEqual(tagList(), { default: revision, [names.upgrade.tag]: revision });
  });

  it('upgrade-switch: the tag moved; the 1.31 webhook injects every restarted pod', async () => {
    await succeeds('upgrade-switch');
    assert.deepEqual(proxies(), allOn(canary, current));
    assert.deepEqual(tagList(), { default: revision, [names.upgrade.tag]: canary });
  });

  it('upgrade-rollback: the tag moved back, every pod on 1.30 again; the gateway stays on 1.31', async () => {
    await succeeds('upgrade-rollback');
    assert.deepEqual(proxies(), allOn(revision, previous));
    assert.deepEqual(gatewayProxy(), on(canary, current));
    assert.deepEqual(tagList(), { default: revision, [names.upgrade.tag]: revision });
    await succeeds('upgrade-switch');
    assert.deepEqual(proxies(), allOn(canary, current));
  });

  it('a workload left on the old revision (its namespace names the revision, not the tag) stops upgrade-finish, naming it', async () => {
    kubectl('create', 'namespace', 'legacy');
    kubectl('label', 'namespace', 'legacy', `istio.io/rev=${revision}`);
    kubectl(
      '-n',
      'legacy',
      'create',
      'deployment',
      'sleep',
      '--image=docker.io/curlimages/curl:8.16.0',
      '--',
      'sleep',
      'infinity',
    );
    kubectl('-n', 'legacy', 'rollout', 'status', 'deployment', 'sleep', '--timeout=60s');
    const r = await product('upgrade-finish');
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, new RegExp(`proxies still on revision ${revision}: legacy/sleep-`));
    assert.ok(!r.commands.some((c) => c.includes(' uninstall ')), 'nothing uninstalled');
    kubectl('delete', 'namespace', 'legacy', '--wait=true');
  });

  it('upgrade-finish: the previous revision gone, nothing points at it, its pilot-discovery stopped', async () => {
    await succeeds('upgrade-finish');
    assert.deepEqual(
      kjson<List>('-n', 'istio-system', 'get', 'deployment', '-l', 'app=istiod').items.map((d) => d.metadata.name),
      [`istiod-${canary}`],
    );
    for (const kind of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'])
      assert.deepEqual(listNames(kind, '-l', `istio.io/rev=${revision}`), [], kind);
    assert.deepEqual(tagList(), { default: canary, [names.upgrade.tag]: canary });
    assert.deepEqual(proxies(), allOn(canary, current));
    assert.deepEqual(writes((await succeeds('upgrade-finish')).commands), [], 'a second finish changes nothing');
  });

  it('teardown leaves nothing: no revision, no tag, no webhook', async () => {
    await succeeds('teardown');
    assert.deepEqual(listNames('namespace', names.istioNamespace, ns), []);
    assert.deepEqual(kjson<List>('get', 'mutatingwebhookconfigurations').items, []);
    assert.deepEqual(kjson<List>('get', 'validatingwebhookconfigurations').items, []);
    assert.deepEqual(
      kjson<List>('get', 'customresourcedefinitions').items.map((c) => c.metadata.name),
      [],
    );
  });
});
