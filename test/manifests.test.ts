import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { manifestsDir, patchesDir } from '../tasks/config.ts';
import { StepError, UsageError } from '../tasks/lib/base/errors.ts';
import { addons } from '../tasks/lib/istio/addons.ts';
import { lint, portProtocol } from '../tasks/lib/istio/podspec.ts';
import {
  applyPatches,
  describe as describeDocs,
  type K8sObject,
  parseManifests,
  prepare,
  readManifests,
} from '../tasks/lib/kube/manifests.ts';
import { describePod, hasSidecar, type Pod, readiness } from '../tasks/lib/kube/pods.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const release = path.join(fixtures, 'release');
const find = (docs: K8sObject[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata?.name === name)!;

describe("patches (the tutorial's ClusterIP -> NodePort edit)", () => {
  for (const addon of addons.filter((a) => a.expose)) {
    it(`turns ${addon.expose!.service} into a NodePort and leaves the rest of ${addon.file} alone`, () => {
      const upstream = readManifests(path.join(release, addon.file));
      const patched = applyPatches(upstream, readManifests(path.join(patchesDir, addon.expose!.patch)), addon.expose!.patch);
      const svc = find(patched, 'Service', addon.expose!.service) as { spec: { type: string; ports: unknown[] } };
      assert.equal(svc.spec.type, 'NodePort');
      assert.deepEqual(
        svc.spec.ports,
        (find(upstream, 'Service', addon.expose!.service) as { spec: { ports: unknown[] } }).spec.ports,
      );
      const others = patched.filter((d) => !(d.kind === 'Service' && d.metadata?.name === addon.expose!.service));
      assert.deepEqual(
        others,
        upstream.filter((d) => others.some((o) => o.kind === d.kind && o.metadata?.name === d.metadata?.name)),
      );
      if (addon.name === 'zipkin')
        assert.equal((find(patched, 'Service', 'tracing') as { spec: { type: string } }).spec.type, 'ClusterIP');
    });
  }

  it('fails when upstream no longer has what a patch names', () => {
    const patch = parseManifests('kind: Service\nmetadata: {name: gone}\nspec: {type: NodePort}\n', 'p');
    assert.throws(
      () => applyPatches(readManifests(path.join(release, addons[1].file)), patch, 'patches/x.yaml'),
      (e: unknown) => e instanceof StepError && /Service\/gone not found/.test(e.message),
    );
  });

  it('labels and namespaces objects, but never cluster-scoped ones', () => {
    const docs = prepare(readManifests(path.join(release, addons[0].file)), { namespace: 'other', labels: { a: 'b' } });
    assert.ok(
      docs.every((d) => d.metadata?.labels?.a === 'b'),
      'every object carries the label a: b',
    );
    assert.equal(find(docs, 'ClusterRole', 'prometheus').metadata?.namespace, undefined);
    assert.equal(find(docs, 'Service', 'prometheus').metadata?.namespace, 'istio-system');
    assert.equal(
      describeDocs(docs),
      'ServiceAccount/prometheus, ConfigMap/prometheus, ClusterRole/prometheus, ClusterRoleBinding/prometheus, Service/prometheus, Deployment/prometheus',
    );
  });

  it("reports unreadable and malformed YAML: a usage error for the user's files, a failed step for the release's", () => {
    assert.throws(
      () => readManifests('/nonexistent.yaml', UsageError),
      (e: unknown) => e instanceof UsageError && e.message === 'no such file or directory: /nonexistent.yaml',
    );
    assert.throws(
      () => readManifests('/', UsageError),
      (e: unknown) => e instanceof UsageError && e.message === 'cannot read /: EISDIR',
    );
    assert.throws(
      () => parseManifests('a: [1,\n', 'x.yaml', UsageError),
      (e: unknown) => e instanceof UsageError && /x.yaml is not valid YAML/.test(e.message),
    );
    assert.throws(
      () => parseManifests('- 1\n', 'y.yaml'),
      (e: unknown) => e instanceof StepError && /document 1 is not a Kubernetes object/.test(e.message),
    );
    assert.throws(
      () => readManifests('/nonexistent.yaml'),
      (e: unknown) => e instanceof StepError && !(e instanceof UsageError),
    );
  });
});

describe('pod-spec linter', () => {
  it('derives protocols the way Istio does', () => {
    const cases: [Parameters<typeof portProtocol>[0], string | undefined][] = [
      [{ name: 'http', port: 80 }, 'http'],
      [{ name: 'http2-foo', port: 80 }, 'http2'],
      [{ name: 'HTTP-x', port: 80 }, 'http'],
      [{ name: 'grpc-web', port: 80 }, 'grpc-web'],
      [{ name: 'grpc-webby', port: 80 }, 'grpc-web'],
      [{ name: 'http2foo', port: 80 }, undefined],
      [{ port: 80 }, undefined],
      [{ name: 'web', port: 3306 }, 'tcp'],
      [{ name: 'x', port: 80, protocol: 'UDP' }, 'udp'],
      [{ name: 'x', port: 80, appProtocol: 'https' }, 'https'],
      [{ name: 'http', port: 80, appProtocol: 'weird' }, undefined],
      [{ name: 'x', port: 80, appProtocol: 'kubernetes.io/h2c' }, 'kubernetes.io/h2c'],
    ];
    for (const [port, expected] of cases) assert.equal(portProtocol(port), expected, JSON.stringify(port));
  });

  it("passes good manifests and the project's own", () => {
    assert.deepEqual(lint(readManifests(path.join(fixtures, 'lint', 'good.yaml')), 'good.yaml'), []);
    assert.deepEqual(lint(readManifests(path.join(manifestsDir, 'sleep.yaml')), 'sleep.yaml'), []);
  });

  it('finds unnamed port protocols (information, as IST0118) and missing or shared app labels (warnings)', () => {
    const findings = lint(readManifests(path.join(fixtures, 'lint', 'bad.yaml')), 'bad.yaml');
    const summary = findings.map((f) => `${f.severity} ${f.object} ${f.message.split(';')[0]}`);
    assert.deepEqual(summary, [
      "info Service/api port 8080 has name 'http2foo' (Istio sniffs its protocol, IST0118)",
      'info Service/api port 8081 has no name (Istio sniffs its protocol, IST0118)',
      "info Service/api port 80 has name 'web' (Istio sniffs its protocol, IST0118)",
      "info Service/api port 82 has appProtocol 'websocket' (Istio sniffs its protocol, IST0118)",
      "warning Deployment/api pod template has no 'app' label",
      "warning Deployment/api-v3 app label 'web' is also used by Deployment/api-v2",
    ]);
  });

  it('skips Istio control plane Services, as istioctl analyze does', () => {
    const docs = parseManifests(
      'kind: Service\nmetadata: {name: istiod, labels: {istio: pilot}}\nspec: {ports: [{name: grpc-xds, port: 15010}, {port: 15017}]}\n',
      'x',
    );
    assert.deepEqual(lint(docs, 'x'), []);
  });
});

describe('pods', () => {
  const pod = (containers: string[], inits: { name: string; restartPolicy?: string }[], ready: string[]): Pod => ({
    metadata: { name: 'sleep-1' },
    spec: { containers: containers.map((name) => ({ name })), initContainers: inits },
    status: {
      containerStatuses: containers.map((name) => ({ name, ready: ready.includes(name) })),
      initContainerStatuses: inits.map((c) => ({ name: c.name, ready: ready.includes(c.name) })),
    },
  });

  it('finds istio-proxy as a container or a native sidecar, and counts READY like kubectl', () => {
    const classic = pod(['sleep', 'istio-proxy'], [{ name: 'istio-init' }], ['sleep', 'istio-proxy']);
    const native = pod(['sleep'], [{ name: 'istio-init' }, { name: 'istio-proxy', restartPolicy: 'Always' }], ['sleep']);
    const none = pod(['sleep'], [], ['sleep']);
    assert.ok(
      hasSidecar(classic) && hasSidecar(native) && !hasSidecar(none),
      'istio-proxy found as a container and as a native sidecar, not in a pod without it',
    );
    assert.deepEqual(readiness(classic), { ready: 2, total: 2 });
    assert.deepEqual(readiness(native), { ready: 1, total: 2 });
    assert.equal(describePod(none), 'sleep-1 1/1 no sidecar');
    assert.ok(!hasSidecar(pod(['sleep'], [{ name: 'istio-proxy' }], [])), 'a plain init container is not a sidecar');
  });
});
