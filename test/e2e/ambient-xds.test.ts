// End to end: what the real istiod serves in ambient mode, read by value through the xDS harness (lab/xds) as the
// node's ztunnel (the workload API over delta xDS) and as a waypoint (Envoy's CDS/LDS). Every object is set up here
// with kubectl and istioctl, not through the product: Istio's ambient profile, the Gateway API CRDs, Bookinfo, a
// waypoint, an HTTPRoute and two AuthorizationPolicies. Each reading is also shown to change when the object does.
//
// The lab has no istio-cni node agent (its pod is a kwok pod): on a cluster, the agent sets up a pod's redirection
// and then annotates it `ambient.istio.io/redirection: enabled`, and that annotation, not the namespace label, is what
// istiod reads to serve the workload as HBONE. So the test does the agent's part (captureAsCni), as the agent does it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { bin, gatewayApiFile } from '../../lab/base/common.ts';
import { podOf, type WorkloadDump, type XdsDump, xdsDump, ztunnelDump, ztunnelPod } from '../../lab/xds/xds.ts';
import type { RouteView } from '../../lab/xds/xds-routes.ts';
import { type RbacView, rbacOf, waypointRoutesOf } from '../../lab/xds/xds-waypoint.ts';
import { type AuthorizationView, authorizationsOf, workloadsOf } from '../../lab/xds/xds-workloads.ts';
import { type List, lab, labKubectl, readLabEnv } from './lab-client.ts';

const ns = 'ambient-xds';
const host = (svc: string) => `${svc}.${ns}.svc.cluster.local`;
const redirection = 'ambient.istio.io/redirection';
let labEnv: Record<string, string> = {};
let dumps = 0;
const { run, kubectl, kjson } = labKubectl(() => labEnv);

function istioctl(...args: string[]): string {
  const r = spawnSync(bin('istioctl'), ['--kubeconfig', labEnv.KUBECONFIG, '--context', 'lab', ...args], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `istioctl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** `kubectl apply` of a YAML (or JSON) text, in `ns` unless it names another. */
function applyText(text: string, ...flags: string[]): void {
  const r = run(['-n', ns, 'apply', ...flags, '-f', '-'], text);
  assert.equal(r.status, 0, `kubectl apply: ${r.stderr}`);
}

/** Waits (60 s at most) for pods of `selector` to exist and be Ready: `kubectl wait` alone fails while none exists. */
async function podsReady(namespace: string, selector: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; ; await delay(250)) {
    if (run(['-n', namespace, 'get', 'pod', '-l', selector, '-o', 'name']).stdout.trim()) break;
    assert.ok(Date.now() < deadline, `no pod ${namespace} ${selector} after 60 s`);
  }
  kubectl('-n', namespace, 'wait', '--for=condition=Ready', 'pod', '-l', selector, '--timeout=60s');
}

/** The standard Gateway API CRDs of the version istio builds against: the release file lab:build joins from its module. */
const gatewayApiCrds = (): string => readFileSync(gatewayApiFile, 'utf8');

/** What istio-cni's node agent does once a pod's redirection is in place (cni/pkg/util AnnotateEnrolledPod). */
function captureAsCni(pod: string, on = true): void {
  const patch = { metadata: { annotations: { [redirection]: on ? 'enabled' : null } } };
  kubectl('-n', ns, 'patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify(patch));
}

/** The namespace's app pods (the waypoint's pod is labelled out of ambient capture). */
const appPods = (): string[] =>
  kjson<List>('-n', ns, 'get', 'pods', '-l', 'istio.io/dataplane-mode!=none')
    .items.filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.metadata.name)
    .sort();

/** What `read` sees of a fresh dump, once it equals `want` or after 20 s (istiod debounces a change before it pushes). */
async function served<D, T>(dump: () => Promise<D>, read: (d: D) => T, want: T): Promise<T | string> {
  for (const deadline = Date.now() + 20_000; ; await delay(250)) {
    let seen: T | string;
    dumps++;
    try {
      seen = read(await dump());
    } catch (e) {
      seen = (e as Error).message;
    }
    if (isDeepStrictEqual(seen, want) || Date.now() > deadline) return seen;
  }
}
const asZtunnel = async (): Promise<WorkloadDump> => ztunnelDump(await ztunnelPod());
const asWaypoint = async (): Promise<XdsDump> =>
  xdsDump(await podOf(ns, 'gateway.networking.k8s.io/gateway-name=waypoint'), 'waypoint');

/** The check must fail on `changed`: proof that it tells this change apart. */
function mustFail(check: () => void, what: string): void {
  assert.throws(check, assert.AssertionError, `the check did not notice: ${what}`);
}

/** Each app pod's tunnel protocol, as ztunnel is told. */
const protocols = (d: WorkloadDump) =>
  Object.fromEntries(
    workloadsOf(d).flatMap((w) => (w.namespace === ns && !w.name.startsWith('waypoint-') ? [[w.name, w.protocol]] : [])),
  );
const allAs = (protocol: string) => Object.fromEntries(appPods().map((p) => [p, protocol]));

describe('ambient on the lab: what the real istiod serves ztunnel and a waypoint', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    // A lab left by an earlier suite is replaced: this one starts from an empty cluster.
    lab('up', '--fresh');
    labEnv = readLabEnv();
    assert.equal(labEnv.KUBE_CONTEXT, 'lab');
    istioctl('install', '--set', 'profile=ambient', '-f', labEnv.ISTIO_OVERLAY, '-y');
    applyText(gatewayApiCrds(), '--server-side');
    kubectl('create', 'namespace', ns);
    const bookinfo = path.join(labEnv.ISTIO_HOME, 'samples', 'bookinfo', 'platform', 'kube');
    kubectl('-n', ns, 'apply', '-f', path.join(bookinfo, 'bookinfo.yaml'), '-f', path.join(bookinfo, 'bookinfo-versions.yaml'));
    await podsReady(ns, 'app');
    await podsReady('istio-system', 'app=ztunnel');
  });

  after(() => {
    console.log(`xDS dumps: ${dumps}`);
    lab('down');
  });

  it('a namespace labelled ambient: its pods become HBONE workloads once captured, and not before', async (t) => {
    const pods = appPods();
    assert.equal(pods.length, 6, 'Bookinfo: six pods');
    const none = allAs('NONE');
    assert.deepEqual(await served(asZtunnel, protocols, none), none, 'before the label: no HBONE workload');

    kubectl('label', 'namespace', ns, 'istio.io/dataplane-mode=ambient');
    // The label alone changes nothing istiod serves: it is istio-cni's to act on (it captures, then annotates).
    assert.deepEqual(protocols(await asZtunnel()), none, 'the label alone');
    for (const p of pods) captureAsCni(p);
    const hbone = allAs('HBONE');
    assert.deepEqual(await served(asZtunnel, protocols, hbone), hbone, 'after capture: every pod HBONE');
    mustFail(() => assert.deepEqual(none, hbone), 'labelled and captured');

    // Negative: one pod released by the agent is served without HBONE again; the same reading tells it.
    captureAsCni(pods[0], false);
    const released = { ...hbone, [pods[0]]: 'NONE' };
    const seen = await served(asZtunnel, protocols, released);
    assert.deepEqual(seen, released);
    mustFail(() => assert.deepEqual(seen, hbone), `${pods[0]} released`);
    captureAsCni(pods[0]);
    assert.deepEqual(await served(asZtunnel, protocols, hbone), hbone);
    t.diagnostic(`${pods.length} pods HBONE once captured`);
  });

  it('an L4 AuthorizationPolicy reaches ztunnel with its principal', async () => {
    const policy = (principal: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: productpage-l4}
spec:
  selector: {matchLabels: {app: productpage}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["${principal}"]}}]
`;
    const sleep = `cluster.local/ns/${ns}/sa/sleep`;
    const want = (principal: string): AuthorizationView[] => [
      { namespace: ns, name: 'productpage-l4', scope: 'WORKLOAD_SELECTOR', action: 'ALLOW', principals: [principal] },
    ];
    const mine = (d: WorkloadDump) => authorizationsOf(d).filter((a) => a.namespace === ns);
    applyText(policy(sleep));
    assert.deepEqual(await served(asZtunnel, mine, want(sleep)), want(sleep));
    // The productpage workload names the policy that selects it; the others do not.
    const selected = (d: WorkloadDump) =>
      workloadsOf(d).flatMap((w) => (w.policies.length ? [[w.name.split('-')[0], w.policies]] : []));
    assert.deepEqual(selected(await asZtunnel()), [['productpage', [`${ns}/productpage-l4`]]]);

    // Negative: another principal, and the same reading changes.
    const other = `cluster.local/ns/${ns}/sa/bookinfo-reviews`;
    applyText(policy(other));
    const seen = await served(asZtunnel, mine, want(other));
    assert.deepEqual(seen, want(other));
    mustFail(() => assert.deepEqual(seen, want(sleep)), 'the principal changed');
  });

  it('a waypoint: an HTTPRoute 90/10 on reviews as weighted clusters, an L7 policy as an RBAC filter', async (t) => {
    // What `istioctl waypoint apply --enroll-namespace` creates; istiod's gateway controller deploys the waypoint.
    applyText(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  labels: {istio.io/waypoint-for: service}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`);
    kubectl('label', 'namespace', ns, 'istio.io/use-waypoint=waypoint');
    await podsReady(ns, 'gateway.networking.k8s.io/gateway-name=waypoint');

    const route = readFileSync(
      path.join(labEnv.ISTIO_HOME, 'samples', 'bookinfo', 'gateway-api', 'route-reviews-90-10.yaml'),
      'utf8',
    );
    applyText(route);
    const v = (n: number) => `inbound-vip|9080|http|${host(`reviews-v${n}`)}`;
    const reviews = (d: XdsDump) => waypointRoutesOf(d, host('reviews'), 9080);
    const split = (a: number, b: number): RouteView[] => [{ match: 'prefix /', to: { [v(1)]: a, [v(2)]: b } }];
    assert.deepEqual(await served(asWaypoint, reviews, split(90, 10)), split(90, 10));
    // Negative: 50/50, and the same reading changes.
    applyText(route.replace('weight: 90', 'weight: 50').replace('weight: 10', 'weight: 50'));
    const seen = await served(asWaypoint, reviews, split(50, 50));
    assert.deepEqual(seen, split(50, 50));
    mustFail(() => assert.deepEqual(seen, split(90, 10)), 'the weights changed');

    const policy = (method: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: productpage-viewer}
spec:
  targetRefs: [{kind: Service, group: "", name: productpage}]
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/${ns}/sa/sleep"]}}]
    to: [{operation: {methods: ["${method}"]}}]
`;
    const rbac = (d: XdsDump) => rbacOf(d, host('productpage'), 9080);
    const want = (method: string): RbacView[] => [
      {
        policy: `ns[${ns}]-policy[productpage-viewer]-rule[0]`,
        action: 'ALLOW',
        methods: [method],
        principals: [`spiffe://cluster.local/ns/${ns}/sa/sleep`],
      },
    ];
    applyText(policy('GET'));
    assert.deepEqual(await served(asWaypoint, rbac, want('GET')), want('GET'));
    assert.deepEqual(rbacOf(await asWaypoint(), host('reviews'), 9080), [], 'reviews: no RBAC policy');
    // Negative: POST instead of GET, and the same reading changes.
    applyText(policy('POST'));
    const changed = await served(asWaypoint, rbac, want('POST'));
    assert.deepEqual(changed, want('POST'));
    mustFail(() => assert.deepEqual(changed, want('GET')), 'the method changed');
    t.diagnostic(`waypoint routes reviews ${JSON.stringify(split(90, 10)[0].to)}; RBAC ${want('GET')[0].policy}`);
  });
});
