// End to end: from the sidecar track to ambient on one cluster, as istio.io's migration guide does it and as a user
// runs it: `npm run all` and `npm run bookinfo` (sidecar mode), then `ISTIO_MODE=ambient npm run ambient-migrate`,
// against the lab's real API server and istiod. The plain mode switch (install-istio) is refused under the sidecar
// apps; the migration adds the ambient components in place with the ingress gateway kept, moves Bookinfo's namespace
// and restarts its pods without sidecars; what istiod then serves the node's ztunnel is read by value (lab/xds).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { names } from '../../tasks/config.ts';
import { tmpDir } from '../helpers.ts';
import { ambientOnLab, writes } from './ambient-client.ts';
import { commandsOf, type List, lab, labKubectl, type Obj, readLabEnv, runProduct } from './lab-client.ts';

const ns = names.bookinfo.namespace;
const cache = tmpDir('fwi-e2e-migrate-');
let labEnv: Record<string, string> = {};
const timings: [string, number][] = [];
const { kubectl, kjson, listNames } = labKubectl(() => labEnv);
const { bookinfoPods, servedProtocols, captureAsCni } = ambientOnLab({ kjson, kubectl });

/** Runs the product in `mode`; returns its exit code, output and the commands its log lists. */
async function product(mode: 'sidecar' | 'ambient', ...args: string[]) {
  const r = await runProduct([...args, '--yes'], { ...labEnv, ISTIO_MODE: mode, CACHE_DIR: cache, WAIT_TIMEOUT: '120s' });
  timings.push([`${mode} ${args.join(' ')}`, r.ms]);
  const logFile = /log: (\S+\.log)/.exec(r.out + r.err)?.[1];
  return { ...r, commands: logFile ? commandsOf(readFileSync(logFile, 'utf8')) : [] };
}
async function succeeds(mode: 'sidecar' | 'ambient', ...args: string[]) {
  const r = await product(mode, ...args);
  assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}\n${r.out.slice(-3000)}\n${r.err}`);
  return r;
}

const containers = (p: Obj) =>
  [...((p.spec?.containers ?? []) as { name: string }[]), ...((p.spec?.initContainers ?? []) as { name: string }[])].map(
    (c) => c.name,
  );

describe('from the sidecar track to ambient on one cluster (ambient-migrate)', { timeout: 10 * 60_000 }, () => {
  let sidecarPods: string[] = [];

  before(async () => {
    lab('up', '--fresh');
    labEnv = readLabEnv();
    assert.deepEqual(listNames('namespace', names.istioNamespace, ns), [], 'a fresh cluster');
    await succeeds('sidecar', 'all');
    await succeeds('sidecar', 'bookinfo');
    sidecarPods = bookinfoPods().map((p) => p.metadata.name);
    for (const p of bookinfoPods())
      assert.ok(containers(p).includes(names.sidecarContainer), `${p.metadata.name} has its sidecar`);
  });

  after(() => {
    console.log(`wall times on the lab: ${timings.map(([c, ms]) => `${c} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
    lab('down');
  });

  it('install-istio in ambient mode is refused under the sidecar apps, before istioctl runs', async () => {
    const r = await product('ambient', 'install-istio');
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      /^error: Install Istio: namespace .*bookinfo.* on the sidecar track, and the ambient profile has no ingress gateway/m,
    );
    assert.ok(!r.commands.some((c) => / install /.test(c) && c.includes('istioctl')), 'istioctl install did not run');
    assert.equal(
      kjson<Obj>('-n', 'istio-system', 'get', 'deployment', names.bookinfo.ingress.service).metadata.name,
      'istio-ingressgateway',
    );
  });

  it('ambient-migrate: the ambient components in place, the ingress gateway kept, Bookinfo moved without sidecars', async () => {
    await succeeds('ambient', 'ambient-migrate');
    const istiod = kjson<Obj>('-n', 'istio-system', 'get', 'deployment', 'istiod');
    const env = istiod.spec?.template.spec.containers[0].env as { name: string; value?: string }[];
    assert.ok(
      env.some((e) => e.name === 'PILOT_ENABLE_AMBIENT' && e.value === 'true'),
      'istiod runs with ambient support',
    );
    for (const agent of [names.ambient.ztunnel, names.ambient.cniAgent])
      assert.equal(kjson<Obj>('-n', 'istio-system', 'get', 'daemonset', agent).status?.numberReady, 1, `${agent} ready`);
    assert.deepEqual(
      listNames('deployment', '-n', 'istio-system', '-l', 'operator.istio.io/component=IngressGateways'),
      ['deployment.apps/istio-ingressgateway'],
      'the ingress gateway kept',
    );
    assert.deepEqual(listNames('deployment', '-n', 'istio-system', '-l', 'operator.istio.io/component=EgressGateways'), []);
    const labels = kjson<Obj>('get', 'namespace', ns).metadata.labels ?? {};
    assert.equal(labels[names.ambient.dataplaneLabel], 'ambient');
    assert.equal(labels[names.injection.namespaceLabel], undefined, 'injection off');
    const pods = bookinfoPods();
    assert.equal(pods.length, 6);
    for (const p of pods) {
      assert.ok(!sidecarPods.includes(p.metadata.name), `${p.metadata.name}: restarted`);
      assert.ok(!containers(p).includes(names.sidecarContainer), `${p.metadata.name}: no sidecar`);
    }
    const gateway = kjson<Obj>('-n', ns, 'get', 'gateways.gateway.networking.k8s.io', names.ambient.gateway);
    const conditions = (gateway.status?.conditions ?? []) as { type: string; status: string }[];
    const programmed = conditions.find((c) => c.type === 'Programmed');
    assert.equal(programmed?.status, 'True');
  });

  it('istiod serves the moved pods to ztunnel as HBONE once the CNI agent has captured them', async () => {
    const pods = bookinfoPods().map((p) => p.metadata.name);
    const as = (protocol: string) => Object.fromEntries(pods.map((p) => [p, protocol]));
    assert.deepEqual(await servedProtocols(as('NONE')), as('NONE'), 'not yet captured');
    for (const p of pods) captureAsCni(p);
    assert.deepEqual(await servedProtocols(as('HBONE')), as('HBONE'));
  });

  it('a second migration, and install-istio in ambient mode after it, change nothing (the ingress gateway stays)', async () => {
    assert.deepEqual(writes((await succeeds('ambient', 'ambient-migrate')).commands), []);
    assert.deepEqual(writes((await succeeds('ambient', 'install-istio')).commands), []);
    assert.deepEqual(listNames('deployment', '-n', 'istio-system', names.bookinfo.ingress.service), [
      'deployment.apps/istio-ingressgateway',
    ]);
  });

  it('the ambient chapters apply to the moved Bookinfo', async () => {
    await succeeds('ambient', 'ambient-l4-policy');
    assert.deepEqual(listNames('authorizationpolicy', '-n', ns), ['authorizationpolicy.security.istio.io/productpage-ztunnel']);
  });

  it('teardown leaves nothing', async () => {
    await succeeds('ambient', 'teardown');
    assert.deepEqual(listNames('namespace', names.istioNamespace, ns), []);
    assert.deepEqual(
      kjson<List>('get', 'customresourcedefinitions').items.map((c) => c.metadata.name),
      [],
    );
    assert.deepEqual(kjson<List>('get', 'daemonsets', '-A').items, []);
  });
});
