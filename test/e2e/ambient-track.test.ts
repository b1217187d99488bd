// End to end: the ambient track as a user runs it (`ISTIO_MODE=ambient npm run all`) against the lab's real API server
// and istiod. The install with the product's own flags (the ambient profile: istiod, istio-cni, ztunnel), the Gateway
// API CRDs from the lab's file (the module's, checked against the product's pinned digest), Bookinfo enrolled without a
// restart and exposed by a Gateway that istiod programs; what istiod then serves the node's ztunnel (lab/xds); a
// re-run that changes nothing; and a teardown that leaves nothing. The lab has no data plane: the chapter's redirection
// and page checks say "not here", so the CNI agent's part is played here (as test/e2e/ambient-xds.test.ts explains).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { bin } from '../../lab/base/common.ts';
import { podOf, type XdsDump, xdsDump, ztunnelDump, ztunnelPod } from '../../lab/xds/xds.ts';
import type { RouteView } from '../../lab/xds/xds-routes.ts';
import { type RbacView, rbacOf, waypointRoutesOf } from '../../lab/xds/xds-waypoint.ts';
import { type AuthorizationView, authorizationsOf } from '../../lab/xds/xds-workloads.ts';
import { gatewayApi, names } from '../../tasks/config.ts';
import { notHere } from '../../tasks/lib/kube/data-plane.ts';
import { tmpDir } from '../helpers.ts';
import { ambientOnLab, writes } from './ambient-client.ts';
import { commandsOf, type List, lab, labKubectl, type Obj, readLabEnv, runProduct } from './lab-client.ts';

const ns = names.bookinfo.namespace;
const cache = tmpDir('fwi-e2e-ambient-');
let labEnv: Record<string, string> = {};
const timings: [string, number][] = [];
const { run, kubectl, kjson, listNames } = labKubectl(() => labEnv);
const { bookinfoPods, servedProtocols, captureAsCni } = ambientOnLab({ kjson, kubectl });
const ours = 'app.kubernetes.io/managed-by=fun-with-istio';

/** Runs the product in ambient mode; it must succeed. Returns its output and the commands its log lists. */
async function product(...args: string[]) {
  const r = await runProduct([...args, '--yes'], { ...labEnv, ISTIO_MODE: 'ambient', CACHE_DIR: cache, WAIT_TIMEOUT: '120s' });
  timings.push([args.join(' '), r.ms]);
  assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}\n${r.out.slice(-3000)}\n${r.err}`);
  const logFile = /log: (\S+\.log)/.exec(r.out + r.err)?.[1] ?? assert.fail(`no log named: ${r.err}`);
  return { ...r, commands: commandsOf(readFileSync(logFile, 'utf8')) };
}

function istioctl(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(bin('istioctl'), ['--kubeconfig', labEnv.KUBECONFIG, '--context', 'lab', ...args], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What `read` sees of a fresh dump, once it equals `want` or after 20 s (istiod debounces a change before it pushes). */
async function served<D, T>(dump: () => Promise<D>, read: (d: D) => T, want: T): Promise<T | string> {
  for (const deadline = Date.now() + 20_000; ; await delay(250)) {
    let seen: T | string;
    try {
      seen = read(await dump());
    } catch (e) {
      seen = (e as Error).message;
    }
    if (isDeepStrictEqual(seen, want) || Date.now() > deadline) return seen;
  }
}
const host = (svc: string) => `${svc}.${ns}.svc.cluster.local`;
const principal = (sa: string) => `cluster.local/ns/${ns}/sa/${sa}`;
const asZtunnel = async () => ztunnelDump(await ztunnelPod());
const asWaypoint = async (): Promise<XdsDump> =>
  xdsDump(await podOf(ns, 'gateway.networking.k8s.io/gateway-name=waypoint'), 'waypoint');
/** The L4 policy on productpage as ztunnel is told it. */
const l4 = (d: Parameters<typeof authorizationsOf>[0]) =>
  authorizationsOf(d).filter((a) => a.namespace === ns && a.name === 'productpage-ztunnel');
const l4Want = (...accounts: string[]): AuthorizationView[] => [
  {
    namespace: ns,
    name: 'productpage-ztunnel',
    scope: 'WORKLOAD_SELECTOR',
    action: 'ALLOW',
    principals: accounts.map(principal),
  },
];
/** The check must fail on what the changed object makes istiod serve: proof that it tells the change apart. */
const mustFail = (check: () => void, what: string) =>
  assert.throws(check, assert.AssertionError, `the check did not notice: ${what}`);

const condition = (o: Obj, type: string) =>
  (o.status?.conditions as { type: string; status: string; reason?: string }[] | undefined)?.find((c) => c.type === type);

describe('the ambient track on the lab (ISTIO_MODE=ambient npm run all)', { timeout: 10 * 60_000 }, () => {
  before(() => {
    lab('up', '--fresh');
    labEnv = readLabEnv();
    assert.ok(labEnv.GATEWAY_API_CRDS, 'the lab names its Gateway API file');
    assert.deepEqual(listNames('namespace', names.istioNamespace, ns), [], 'a fresh cluster');
  });

  after(() => {
    console.log(`wall times on the lab: ${timings.map(([c, ms]) => `${c} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
    lab('down');
  });

  it('installs the ambient profile with the verified Gateway API CRDs, and enrols Bookinfo without a restart', async () => {
    const r = await product('all');
    // Istio's ambient data plane, from the product's own flags.
    const istiod = kjson<Obj>('-n', 'istio-system', 'get', 'deployment', 'istiod');
    const env = istiod.spec?.template.spec.containers[0].env as { name: string; value?: string }[];
    assert.ok(
      env.some((e) => e.name === 'PILOT_ENABLE_AMBIENT' && e.value === 'true'),
      'istiod runs with ambient support',
    );
    for (const agent of [names.ambient.ztunnel, names.ambient.cniAgent])
      assert.equal(kjson<Obj>('-n', 'istio-system', 'get', 'daemonset', agent).status?.numberReady, 1, `${agent} ready`);
    // The Gateway API: the pinned version's ten CRDs and its upgrade policy, each the tool's.
    const crds = kjson<List>('get', 'customresourcedefinitions', '-l', ours).items.map((c) => c.metadata.name);
    assert.equal(crds.filter((n) => n.endsWith('.gateway.networking.k8s.io')).length, 10, crds.join(', '));
    const gatewayCrd = kjson<Obj>('get', 'customresourcedefinition', names.gatewayApiCrd);
    assert.equal(gatewayCrd.metadata.annotations?.['gateway.networking.k8s.io/bundle-version'], gatewayApi.version);
    assert.deepEqual(
      kjson<List>('get', 'validatingadmissionpolicies', '-l', ours).items.map((p) => p.metadata.name),
      ['safe-upgrades.gateway.networking.k8s.io'],
    );
    // Bookinfo: no sidecar, enrolled by the label.
    const namespace = kjson<Obj>('get', 'namespace', ns);
    assert.equal(namespace.metadata.labels?.[names.ambient.dataplaneLabel], 'ambient');
    const pods = bookinfoPods();
    assert.equal(pods.length, 6, 'six Bookinfo pods');
    for (const p of pods)
      assert.deepEqual(
        ((p.spec?.containers ?? []) as { name: string }[]).map((c) => c.name),
        [p.metadata.labels?.app],
        `${p.metadata.name}: its app alone, no istio-proxy`,
      );
    // The gateway: programmed by the real istiod, its Service a ClusterIP (no LoadBalancer address needed).
    const gateway = kjson<Obj>('-n', ns, 'get', 'gateways.gateway.networking.k8s.io', names.ambient.gateway);
    assert.equal(condition(gateway, 'Programmed')?.status, 'True', JSON.stringify(gateway.status));
    assert.equal(kjson<Obj>('-n', ns, 'get', 'service', names.ambient.gatewayService).spec?.type, 'ClusterIP');
    // Where nothing runs, the checks that would look say so, and are not drawn as passed.
    assert.match(
      r.out,
      new RegExp(`Prove the CNI agent redirected every Bookinfo pod to ztunnel, none restarted \\[SKIPPED: ${notHere}\\]`),
    );
    assert.match(
      r.out,
      new RegExp(`Prove the product page answers through the gateway, over the mesh \\[SKIPPED: ${notHere}\\]`),
    );
  });

  it("istioctl analyze finds no error (istio.io's ClusterIP annotation, copied onto the gateway's objects, only warns)", () => {
    const a = istioctl('analyze', '-n', ns);
    assert.equal(a.code, 0, a.out);
    assert.doesNotMatch(a.out, /^Error/m, a.out);
    for (const w of a.out.split('\n').filter((l) => l.startsWith('Warning')))
      assert.match(w, /^Warning \[IST0107\] \(\w+ bookinfo\/bookinfo-gateway-istio[-\w]*\) Misplaced annotation/, w);
  });

  it('istiod serves the enrolled pods to ztunnel as HBONE once the CNI agent has captured them; not before', async () => {
    const pods = bookinfoPods().map((p) => p.metadata.name);
    const as = (protocol: string) => Object.fromEntries(pods.map((p) => [p, protocol]));
    assert.deepEqual(await servedProtocols(as('NONE')), as('NONE'), 'labelled, not yet captured');
    // The CNI agent's part (cni/pkg/util AnnotateEnrolledPod), which the lab's kwok pod does not play.
    for (const p of pods) captureAsCni(p);
    assert.deepEqual(await servedProtocols(as('HBONE')), as('HBONE'), 'captured: HBONE');
  });

  it('a re-run changes nothing', async () => {
    const r = await product('all');
    assert.deepEqual(writes(r.commands), [], 'no command that writes');
    assert.match(r.out, /already done: Gateway API v1\.6\.0 is installed/);
    assert.match(r.out, /already done: namespace bookinfo is in the ambient mesh/);
  });

  it('ambient-l4-policy: ztunnel is told that only the gateway may connect to productpage; a re-run writes nothing', async () => {
    await product('ambient-l4-policy');
    const want = l4Want('bookinfo-gateway-istio');
    assert.deepEqual(await served(asZtunnel, l4, want), want);
    // Negative: another principal in the policy, and the same reading changes; the chapter puts it back.
    kubectl(
      '-n',
      ns,
      'patch',
      'authorizationpolicy',
      'productpage-ztunnel',
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'replace', path: '/spec/rules/0/from/0/source/principals/0', value: principal('curl') }]),
    );
    const changed = await served(asZtunnel, l4, l4Want('curl'));
    mustFail(() => assert.deepEqual(changed, want), 'the principal changed');
    const again = await product('ambient-l4-policy');
    assert.deepEqual(
      writes(again.commands).map((c) => c.replace(/^\$ \S+ --context lab /, '')),
      ['apply -f - # stdin: AuthorizationPolicy/productpage-ztunnel (L4: from bookinfo-gateway-istio)'],
      'only the policy',
    );
    assert.deepEqual(await served(asZtunnel, l4, want), want, 'put back');
    assert.deepEqual(writes((await product('ambient-l4-policy')).commands), [], 'a third run writes nothing');
  });

  it('ambient-waypoint: a programmed waypoint; at it the L7 policy (curl may GET); ztunnel lets the waypoint in', async () => {
    const r = await product('ambient-waypoint');
    assert.ok(
      r.commands.some((c) => c.endsWith(`waypoint apply -n ${ns} --enroll-namespace --wait --waypoint-timeout 120s`)),
      r.commands.join('\n'),
    );
    const waypoint = kjson<Obj>('-n', ns, 'get', 'gateways.gateway.networking.k8s.io', names.ambient.waypoint);
    assert.equal(condition(waypoint, 'Programmed')?.status, 'True');
    assert.equal(kjson<Obj>('get', 'namespace', ns).metadata.labels?.[names.ambient.useWaypointLabel], names.ambient.waypoint);
    const want: RbacView[] = [
      {
        policy: `ns[${ns}]-policy[productpage-waypoint]-rule[0]`,
        action: 'ALLOW',
        methods: ['GET'],
        principals: [`spiffe://${principal('curl')}`],
      },
    ];
    const rbac = (d: XdsDump) => rbacOf(d, host('productpage'), 9080);
    assert.deepEqual(await served(asWaypoint, rbac, want), want);
    const both = l4Want('bookinfo-gateway-istio', 'waypoint');
    assert.deepEqual(await served(asZtunnel, l4, both), both);
    // Negative: POST instead of GET, and the same reading changes.
    kubectl(
      '-n',
      ns,
      'patch',
      'authorizationpolicy',
      'productpage-waypoint',
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'replace', path: '/spec/rules/0/to/0/operation/methods/0', value: 'POST' }]),
    );
    const changed = await served(asWaypoint, rbac, [{ ...want[0], methods: ['POST'] }]);
    mustFail(() => assert.deepEqual(changed, want), 'the method changed');
    await product('ambient-waypoint');
    assert.deepEqual(await served(asWaypoint, rbac, want), want, 'put back by a re-run');
    assert.deepEqual(writes((await product('ambient-waypoint')).commands), [], 'then a run writes nothing');
  });

  it('ambient-split: the waypoint carries reviews 90/10 to v1 and v2; a re-run writes nothing', async () => {
    await product('ambient-split');
    const v = (n: number) => `inbound-vip|9080|http|${host(`reviews-v${n}`)}`;
    const split = (a: number, b: number): RouteView[] => [{ match: 'prefix /', to: { [v(1)]: a, [v(2)]: b } }];
    const reviews = (d: XdsDump) => waypointRoutesOf(d, host('reviews'), 9080);
    assert.deepEqual(await served(asWaypoint, reviews, split(90, 10)), split(90, 10));
    // Negative: 50/50, and the same reading changes.
    kubectl(
      '-n',
      ns,
      'patch',
      'httproutes.gateway.networking.k8s.io',
      'reviews',
      '--type=json',
      '-p',
      JSON.stringify([
        { op: 'replace', path: '/spec/rules/0/backendRefs/0/weight', value: 50 },
        { op: 'replace', path: '/spec/rules/0/backendRefs/1/weight', value: 50 },
      ]),
    );
    const changed = await served(asWaypoint, reviews, split(50, 50));
    mustFail(() => assert.deepEqual(changed, split(90, 10)), 'the weights changed');
    await product('ambient-split');
    assert.deepEqual(await served(asWaypoint, reviews, split(90, 10)), split(90, 10), 'put back by a re-run');
    assert.deepEqual(writes((await product('ambient-split')).commands), [], 'then a run writes nothing');
  });

  it('without the ClusterIP annotation a Gateway stays Programmed=False here (no LoadBalancer address): why the chapter sets it', async () => {
    const plain = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'plain', namespace: ns },
      spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
    };
    assert.equal(run(['apply', '-f', '-'], JSON.stringify(plain)).status, 0);
    let seen: { status: string; reason?: string } | undefined;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await delay(250)) {
      // First AddressNotUsable (no Service yet), then AddressNotAssigned: the Service waits for an address.
      seen = condition(kjson<Obj>('-n', ns, 'get', 'gateways.gateway.networking.k8s.io', 'plain'), 'Programmed');
      if (seen?.status === 'True' || seen?.reason === 'AddressNotAssigned') break;
    }
    assert.deepEqual([seen?.status, seen?.reason], ['False', 'AddressNotAssigned']);
    kubectl('-n', ns, 'delete', 'gateways.gateway.networking.k8s.io', 'plain', '--wait=true');
  });

  it('a sidecar chapter is refused in ambient mode before it touches anything', async () => {
    const r = await runProduct(['bookinfo', '--yes'], { ...labEnv, ISTIO_MODE: 'ambient', CACHE_DIR: cache });
    assert.equal(r.code, 2, r.err);
    assert.match(
      r.err,
      /^error: bookinfo is a chapter of the sidecar track and ISTIO_MODE=ambient: run `npm run ambient-bookinfo` instead/,
    );
  });

  it('teardown leaves nothing: Bookinfo, Istio with ztunnel and the CNI agent, the Gateway API CRDs it installed', async () => {
    await product('teardown');
    assert.deepEqual(listNames('namespace', names.istioNamespace, ns), []);
    assert.deepEqual(
      kjson<List>('get', 'customresourcedefinitions').items.map((c) => c.metadata.name),
      [],
    );
    assert.deepEqual(kjson<List>('get', 'validatingadmissionpolicies').items, []);
    assert.deepEqual(kjson<List>('get', 'daemonsets', '-A').items, []);
  });
});
