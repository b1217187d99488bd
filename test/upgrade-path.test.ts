// The canary upgrade after its start, through a scripted cluster that behaves as the real one did on the lab
// (istioctl install moves the gateway in place, a restart re-injects pods from the tag's revision, uninstall removes
// a revision), and each chapter shown failing in a world wrong in exactly one way: no tag, a failing precheck, a
// gateway left behind, a tag that does not move, a workload left on the old revision, a revision that does not go.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, pins } from '../tasks/config.ts';
import { discoveryAddressOf, imageVersion } from '../tasks/lib/istio/revisions.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import { asks, fakeRunner, jsonpathOf, nodesJson, type Reply, runCli, tmpDir } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const page = readFileSync(path.join(import.meta.dirname, 'fixtures', 'bookinfo', 'reviews-v1.html'), 'utf8');
const server = createServer((_req, res) => res.end(page));
let port = 0;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

const previousHome = tmpDir('fwi-previous-');
mkdirSync(path.join(previousHome, 'bin'));
writeFileSync(path.join(previousHome, 'bin', 'istioctl'), '');
writeFileSync(path.join(previousHome, 'manifest.yaml'), `version: ${pins.istioPrevious}\n`);
const currentIstioctl = path.join(release, 'bin', 'istioctl');

const env = { ISTIO_HOME: release, ISTIO_PREVIOUS_HOME: previousHome, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' };
const { cluster, addons } = loadConfig({ env: { ...env, CACHE_DIR: tmpDir() }, envFile: '/nonexistent/.env' });
const modelConfig = { kubernetesVersion: pins.kubernetes, istioVersion: pins.istio, cluster, addons };
type Rev = { revision: string; version: string };
const previous: Rev = { revision: '1-30-5', version: pins.istioPrevious };
const current: Rev = { revision: '1-31-1', version: pins.istio };
const apps = ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'];

/** A pod its revision's injector made (or, `rendered`, a gateway istioctl rendered with its revision label). */
function pod(name: string, rev: Rev, rendered = false) {
  const proxy = {
    name: 'istio-proxy',
    restartPolicy: 'Always',
    image: `docker.io/istio/proxyv2:${rev.version}`,
    env: [{ name: 'CA_ADDR', value: discoveryAddressOf(rev.revision) }],
  };
  return {
    metadata: rendered
      ? { name, labels: { 'istio.io/rev': rev.revision } }
      : { name, annotations: { 'sidecar.istio.io/status': JSON.stringify({ revision: rev.revision }) } },
    spec: rendered ? { containers: [proxy] } : { initContainers: [proxy], containers: [{ name: 'app' }] },
    status: { containerStatuses: [{ name: 'app', ready: true }], initContainerStatuses: [{ name: 'istio-proxy', ready: true }] },
  };
}

/** Where things stand, and how the world is wrong (each in one way). */
interface World {
  tag?: Rev;
  revisions: Rev[];
  bookinfo: Rev;
  gateway: Rev;
  defaultTag?: Rev;
  /** `istioctl x precheck` finds what stops the upgrade. */
  precheckFails?: boolean;
  /** The install of a revision leaves the gateway where it was. */
  gatewayStays?: boolean;
  /** `tag set` succeeds but the tag stays where it was. */
  tagStuck?: boolean;
  /** One Bookinfo pod that a restart leaves on the revision it had. */
  podLeft?: boolean;
  /** A webhook of the uninstalled revision that stays. */
  webhookLeft?: boolean;
  /** An uninstall of the previous revision cut short: its istiod gone, its validating webhook left (until uninstalled). */
  cutShort?: boolean;
  /** An old Bookinfo pod on the previous revision, still terminating. */
  terminating?: boolean;
  /** A workload in a namespace of its own, injected by the previous revision directly (not through the tag). */
  legacy?: boolean;
  /** Another tag, left on this revision. */
  otherTag?: Rev;
}

function upgradeCluster(w: World) {
  const model = new DryRunCluster(modelConfig, 'fresh');
  const mine = (ref: { kind: string; name?: string }, kind: string, name: string) => ref.kind === kind && ref.name === name;
  const webhook = (kind: string, name: string, labels: Record<string, string>) => ({ kind, metadata: { name, labels } });
  const webhooks = () => [
    ...w.revisions.map((r) =>
      webhook('MutatingWebhookConfiguration', `istio-sidecar-injector-${r.revision}`, { 'istio.io/rev': r.revision }),
    ),
    ...(w.webhookLeft || w.cutShort
      ? [webhook('ValidatingWebhookConfiguration', 'istio-validator-1-30-5-istio-system', { 'istio.io/rev': previous.revision })]
      : []),
    ...(w.tag
      ? [webhook('MutatingWebhookConfiguration', 'istio-revision-tag-prod-stable', tagLabels('prod-stable', w.tag))]
      : []),
    ...(w.defaultTag
      ? [webhook('MutatingWebhookConfiguration', 'istio-revision-tag-default', tagLabels('default', w.defaultTag))]
      : []),
    ...(w.otherTag
      ? [webhook('MutatingWebhookConfiguration', 'istio-revision-tag-canary', tagLabels('canary', w.otherTag))]
      : []),
  ];
  const tagLabels = (tag: string, r: Rev) => ({ 'istio.io/tag': tag, 'istio.io/rev': r.revision });
  const fake = fakeRunner((argv, input, query): Reply | undefined => {
    const cmd = argv.join(' ');
    if (argv[0] === currentIstioctl || argv[0].startsWith(previousHome)) {
      const [, , , sub, ...rest] = argv;
      if (sub === 'x')
        return w.precheckFails
          ? { code: 1, stdout: 'Error [IST0169] the upgrade changes behaviour\n' }
          : { stdout: '✔ No issues found\n' };
      if (sub === 'install') {
        w.revisions.push(current);
        if (!w.gatewayStays) w.gateway = current;
      }
      if (sub === 'tag' && !w.tagStuck) {
        const to = rest[rest.indexOf('--revision') + 1] === current.revision ? current : previous;
        if (rest[1] === 'default') w.defaultTag = to;
        else w.tag = to;
      }
      if (sub === 'uninstall') {
        w.revisions = w.revisions.filter((r) => r.revision !== previous.revision);
        w.cutShort = false;
      }
      return { stdout: '✔ done\n' };
    }
    if (cmd.includes(' rollout restart ')) {
      if (w.tag) w.bookinfo = w.tag;
      return { stdout: '' };
    }
    if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson('containerd://2.1.4') };
    if (query?.op === 'get' && mine(query.ref, 'mutatingwebhookconfiguration', 'istio-revision-tag-prod-stable'))
      return {
        stdout: w.tag ? JSON.stringify(webhook('MutatingWebhookConfiguration', 'x', tagLabels('prod-stable', w.tag))) : '',
      };
    if (query?.op === 'get' && mine(query.ref, 'mutatingwebhookconfiguration', 'istio-revision-tag-default'))
      return {
        stdout: w.defaultTag
          ? JSON.stringify(webhook('MutatingWebhookConfiguration', 'x', tagLabels('default', w.defaultTag)))
          : '',
      };
    if (asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' }))
      return {
        stdout: JSON.stringify({
          items: w.revisions.map((r) => ({
            kind: 'Deployment',
            metadata: { name: `istiod-${r.revision}` },
            spec: { template: { spec: { containers: [{ image: `docker.io/istio/pilot:${r.version}` }] } } },
          })),
        }),
      };
    if (query?.op === 'get' && query.ref.kind === 'deployment' && query.ref.name?.startsWith('istiod-')) {
      const r = w.revisions.find((x) => `istiod-${x.revision}` === query.ref.name);
      return { stdout: r ? JSON.stringify({ kind: 'Deployment', metadata: { name: query.ref.name } }) : '' };
    }
    if (query?.op === 'list' && /webhookconfiguration$/.test(query.ref.kind)) {
      const kind = query.ref.kind.startsWith('mutating') ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration';
      return { stdout: JSON.stringify({ items: webhooks().filter((h) => h.kind === kind) }) };
    }
    if (asks(query, 'list', { kind: 'pods', namespace: 'bookinfo' }))
      return {
        stdout: JSON.stringify({
          items: apps.map((a, i) => pod(`${a}-x`, w.podLeft && i === 4 ? previous : w.bookinfo)),
        }),
      };
    if (asks(query, 'list', { kind: 'pods', namespace: 'istio-system' }))
      return { stdout: JSON.stringify({ items: [pod('istio-ingressgateway-1', w.gateway, true)] }) };
    if (asks(query, 'list', { kind: 'namespace' }))
      return {
        stdout: JSON.stringify({
          items: ['bookinfo', 'istio-system', ...(w.legacy ? ['legacy'] : [])].map((name) => ({
            kind: 'Namespace',
            metadata: { name },
          })),
        }),
      };
    if (
      w.terminating &&
      query?.op === 'list' &&
      !query.selector &&
      asks(query, 'list', { kind: 'pods', namespace: 'bookinfo' })
    ) {
      const old = pod('reviews-v2-old', previous);
      const leaving = { ...old, metadata: { ...old.metadata, deletionTimestamp: '2026-11-30T12:00:00Z' } };
      return { stdout: JSON.stringify({ items: [...apps.map((a) => pod(`${a}-x`, w.bookinfo)), leaving] }) };
    }
    if (w.legacy && asks(query, 'list', { kind: 'pods', namespace: 'legacy' }))
      return { stdout: JSON.stringify({ items: [pod('sleep-x', previous)] }) };
    if (argv.includes('port-forward')) return { hold: true, stdout: `Forwarding from 127.0.0.1:${port} -> 80\n` };
    if (jsonpathOf(query)) return { stdout: '' };
    const a = model.answer({ argv, input, query });
    return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
  });
  return fake;
}

async function chapter(name: string, w: World) {
  const fake = upgradeCluster(w);
  const r = await runCli([name], { env: { ...env, CACHE_DIR: tmpDir() }, runner: fake.runner });
  const istioctl = fake.calls
    .map((c) => c.argv)
    .filter((a) => a[0] === currentIstioctl || a[0].startsWith(previousHome))
    .map((a) => `${a[0] === currentIstioctl ? 'current' : 'previous'} ${a.slice(3).join(' ')}`);
  const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
  return { ...r, istioctl, log, calls: fake.calls.map((c) => c.argv.join(' ')) };
}

const started = (): World => ({ tag: previous, revisions: [previous], bookinfo: previous, gateway: previous });
const canaried = (): World => ({ ...started(), revisions: [previous, current], gateway: current });
const switched = (): World => ({ ...canaried(), tag: current, bookinfo: current });

describe('imageVersion', () => {
  it('the tag, without a variant or a pinned digest; none without a tag', () => {
    assert.equal(imageVersion('docker.io/istio/pilot:1.30.5-distroless@sha256:abcd'), '1.30.5');
    assert.equal(imageVersion('localhost:5000/istio/pilot'), '');
    assert.equal(imageVersion('localhost:5000/istio/pilot:1.31.1'), '1.31.1');
  });
});

describe('upgrade-canary', () => {
  it('prechecks, installs the pinned Istio beside the previous one; the gateway moves, Bookinfo stays', async () => {
    const r = await chapter('upgrade-canary', started());
    assert.equal(r.code, 0, r.err);
    assert.equal(r.istioctl[0], 'current x precheck');
    assert.match(r.istioctl[1], /^current install --set profile=demo .* --set revision=1-31-1 --readiness-timeout 300s -y$/);
    assert.match(r.log, /# shown: 1 proxies: revision 1-31-1, Istio 1\.31\.1/);
    assert.match(r.log, /# shown: 6 proxies: revision 1-30-5, Istio 1\.30\.5/);
  });

  it('before upgrade-start: refused, naming it', async () => {
    const r = await chapter('upgrade-canary', { ...started(), tag: undefined });
    assert.equal(r.code, 1);
    assert.match(r.err, /no revision tag prod-stable/);
    assert.match(r.err, /run `npm run upgrade-start` first/);
    assert.deepEqual(r.istioctl, []);
  });

  it('a precheck that finds a problem stops the upgrade with its finding, nothing installed', async () => {
    const r = await chapter('upgrade-canary', { ...started(), precheckFails: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /istioctl x precheck found what stops the upgrade: Error \[IST0169\] the upgrade changes behaviour/);
    assert.deepEqual(r.istioctl, ['current x precheck']);
  });

  it('a gateway the install left on the previous revision fails the proof, naming it', async () => {
    const r = await chapter('upgrade-canary', { ...started(), gatewayStays: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /not on revision 1-31-1 .*istio-ingressgateway-1: revision 1-30-5, version 1\.30\.5/);
  });

  it('a second run installs nothing', async () => {
    const r = await chapter('upgrade-canary', canaried());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.istioctl, []);
  });
});

describe('upgrade-switch', () => {
  it('moves the tag with the pinned istioctl, restarts Bookinfo, proves every proxy the new revision’s', async () => {
    const r = await chapter('upgrade-switch', canaried());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.istioctl, ['current tag set prod-stable --revision 1-31-1 --overwrite']);
    assert.ok(
      r.calls.some((c) => c.endsWith('-n bookinfo rollout restart deployment -l app in (details,productpage,ratings,reviews)')),
      'Bookinfo restarted',
    );
    assert.match(r.log, /# shown: 7 proxies: revision 1-31-1, Istio 1\.31\.1, istiod-1-31-1\.istio-system\.svc:15012/);
  });

  it('before the canary: refused, naming upgrade-canary', async () => {
    const r = await chapter('upgrade-switch', started());
    assert.equal(r.code, 1);
    assert.match(r.err, /istiod-1-31-1 is not installed/);
    assert.match(r.err, /run `npm run upgrade-canary` first/);
  });

  it('a tag that did not move: the restarted pods are the old revision’s, and the proof names them', async () => {
    const r = await chapter('upgrade-switch', { ...canaried(), tagStuck: true });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /not on revision 1-31-1 .*details-v1-x: revision 1-30-5, version 1\.30\.5, discoveryAddress istiod-1-30-5/,
    );
  });

  it('a workload left on the old revision fails the proof, naming it alone', async () => {
    const r = await chapter('upgrade-switch', { ...canaried(), podLeft: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /not on revision 1-31-1 \([^)]*\): reviews-v2-x: revision 1-30-5/);
    assert.doesNotMatch(r.err, /details-v1-x/);
  });

  it('done already: no tag moved, nothing restarted', async () => {
    const r = await chapter('upgrade-switch', switched());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.istioctl, []);
    assert.ok(!r.calls.some((c) => c.includes('rollout restart')), 'no restart');
  });
});

describe('upgrade-rollback', () => {
  it('moves the tag back, restarts Bookinfo onto the previous revision; the gateway stays on the new one', async () => {
    const r = await chapter('upgrade-rollback', switched());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.istioctl, ['current tag set prod-stable --revision 1-30-5 --overwrite']);
    assert.match(r.log, /# shown: 6 proxies: revision 1-30-5, Istio 1\.30\.5/);
    assert.match(r.log, /# shown: 1 proxies: revision 1-31-1, Istio 1\.31\.1/);
  });

  it('a tag that did not move back fails the proof, naming the pods', async () => {
    const r = await chapter('upgrade-rollback', { ...switched(), tagStuck: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /not on revision 1-30-5 .*details-v1-x: revision 1-31-1, version 1\.31\.1/);
  });
});

describe('upgrade-finish', () => {
  it('moves the default tag, uninstalls the previous revision, proves nothing points at it', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), defaultTag: previous });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.istioctl, [
      'current tag set default --revision 1-31-1 --overwrite',
      'current uninstall --revision 1-30-5 -y',
    ]);
    assert.match(r.log, /# shown: no istiod or webhook of revision 1-30-5; tags prod-stable, default on 1-31-1/);
  });

  it('the tag still on the previous revision: refused before anything is removed, naming upgrade-switch', async () => {
    const r = await chapter('upgrade-finish', canaried());
    assert.equal(r.code, 1);
    assert.match(r.err, /the tag prod-stable points at revision 1-30-5, not 1-31-1/);
    assert.match(r.err, /run `npm run upgrade-switch` first/);
    assert.deepEqual(r.istioctl, []);
  });

  it('a workload left on the previous revision: refused before the uninstall, naming it', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), podLeft: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /reviews-v2-x: revision 1-30-5/);
    assert.ok(!r.istioctl.some((c) => c.includes('uninstall')), 'nothing uninstalled');
  });

  it('a workload elsewhere still on the previous revision: refused before the uninstall, naming it and what to do', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), legacy: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /proxies still on revision 1-30-5: legacy\/sleep-x/);
    assert.match(r.err, /restart them onto the new revision/);
    assert.ok(!r.istioctl.some((c) => c.includes('uninstall')), 'nothing uninstalled');
  });

  it('a webhook of the previous revision that stays fails the proof after the wait, naming it', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), webhookLeft: true });
    assert.equal(r.code, 1);
    assert.match(r.err, /still there for revision 1-30-5: ValidatingWebhookConfiguration istio-validator-1-30-5-istio-system/);
  });

  it('another tag left on the previous revision fails the proof, naming it', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), otherTag: previous });
    assert.equal(r.code, 1);
    assert.match(r.err, /still there for revision 1-30-5: MutatingWebhookConfiguration istio-revision-tag-canary \(tag canary\)/);
  });

  it('a tag on a third revision fails the proof too: every tag must be on the new one', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), otherTag: { revision: '1-29-4', version: '1.29.4' } });
    assert.equal(r.code, 1);
    assert.match(r.err, /tags not on revision 1-31-1: canary -> 1-29-4/);
  });

  it('an uninstall cut short (istiod gone, a webhook left) is run again, not taken for done', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), revisions: [current], defaultTag: current, cutShort: true });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.istioctl, ['current uninstall --revision 1-30-5 -y']);
  });

  it('an old pod still terminating after the switch is not a proxy left behind', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), terminating: true });
    assert.equal(r.code, 0, r.err);
  });

  it('done already: nothing moved or uninstalled', async () => {
    const r = await chapter('upgrade-finish', { ...switched(), revisions: [current], defaultTag: current });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.istioctl, []);
  });
});
