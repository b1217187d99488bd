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
