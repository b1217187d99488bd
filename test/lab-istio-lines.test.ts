// The lab's two Istio lines (N and N-1, issue 24): one build recipe parameterised by a line, and the istiod watcher's
// choices per revision (which binary an image tag asks for, which port a revision's webhooks call).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import {
  currentIstio,
  ISTIO_LAB_PREVIOUS_VERSION,
  ISTIO_LAB_VERSION,
  istioHome,
  istioLines,
  istioPreviousHome,
  labCacheDir,
  labKey,
  labPins,
  previousIstio,
  stateDir,
} from '../lab/base/common.ts';
import {
  daemonName,
  defaultWebhookPort,
  istiodWorkDir,
  lineForImage,
  pilotBinary,
  revisionOf,
  withWebhookPort,
} from '../lab/base/istiod.ts';
import { istioLd, istioModuleName, istioTargets, istioWrapperModule } from '../lab/build.ts';
import { pins } from '../tasks/config.ts';

test("each Istio line's version string follows the lab's rule: <minor of the pin>.0-alpha.<commit of the pseudo-version>", () => {
  assert.equal(ISTIO_LAB_VERSION, '1.31.0-alpha.eed52ebb66ad');
  assert.equal(ISTIO_LAB_PREVIOUS_VERSION, '1.30.0-alpha.9739e10eb9d7');
  assert.deepEqual(
    istioLines.map((l) => [l.id, l.minor, l.commit, l.version]),
    [
      ['current', '1.31', 'eed52ebb66ad', ISTIO_LAB_VERSION],
      ['previous', '1.30', '9739e10eb9d7', ISTIO_LAB_PREVIOUS_VERSION],
    ],
  );
  assert.equal(
    previousIstio.minor,
    pins.istioPrevious.split('.').slice(0, 2).join('.'),
    'the minor comes from pins.istioPrevious',
  );
  assert.equal(previousIstio.module, labPins.istioPreviousModule);
  assert.ok(labKey.includes(currentIstio.commit), `the cache key ${labKey} names the Istio commit`);
});

test('the lines have their own wrapper module, source copy, binaries and release directory', () => {
  assert.deepEqual(istioLines.map(istioModuleName), ['istio', 'istio-1.30']);
  assert.deepEqual(
    istioLines.map((l) => istioTargets(l).map((t) => t.name)),
    [
      // N's CNI agent and plugin too (the real node's install-cni image, the ambient track).
      ['istioctl', 'pilot-discovery', 'pilot-agent', 'install-cni', 'istio-cni'],
      ['istioctl-1.30', 'pilot-discovery-1.30', 'pilot-agent-1.30'],
    ],
  );
  assert.deepEqual(
    istioTargets(previousIstio).map((t) => t.module),
    ['istio-1.30', 'istio-1.30', 'istio-1.30'],
  );
  assert.equal(istioHome, path.join(labCacheDir, 'istio-1.31.0-alpha.eed52ebb66ad'));
  assert.equal(istioPreviousHome, path.join(labCacheDir, 'istio-1.30.0-alpha.9739e10eb9d7'));
  assert.deepEqual(
    istioLines.map((l) => path.basename(pilotBinary(l))),
    ['pilot-discovery', 'pilot-discovery-1.30'],
  );
});

test("N-1's wrapper module names its version to `go get` and maps the five versions the proxy does not serve", () => {
  const m = istioWrapperModule(previousIstio, '/cache/src/istio-1.30-src');
  assert.equal(m.name, 'istio-1.30');
  assert.deepEqual(m.packages, [
    'istio.io/istio/istioctl/cmd/istioctl@v0.0.0-20260826214018-9739e10eb9d7',
    'istio.io/istio/pilot/cmd/pilot-discovery@v0.0.0-20260826214018-9739e10eb9d7',
    'istio.io/istio/pilot/cmd/pilot-agent@v0.0.0-20260826214018-9739e10eb9d7',
  ]);
  assert.match(m.goMod, /^module lab\.local\/istio-1\.30$/m);
  assert.match(m.goMod, /^require istio\.io\/istio v0\.0\.0-20260826214018-9739e10eb9d7$/m);
  assert.match(m.goMod, /^replace istio\.io\/istio => "\/cache\/src\/istio-1\.30-src"$/m);
  const replaced = [...m.goMod.matchAll(/^\t(\S+) => (\S+) (\S+)$/gm)].map((r) => [r[1], r[3]]);
  assert.deepEqual(Object.fromEntries(replaced), {
    'github.com/agentgateway/agentgateway/api': 'v0.0.0-20260501213430-773586679f1c',
    'github.com/envoyproxy/go-control-plane/envoy': 'v1.37.1-0.20260713214202-ca8ce173c36f',
    'github.com/envoyproxy/go-control-plane/contrib': 'v1.36.1-0.20260713214202-ca8ce173c36f',
    'istio.io/api': 'v1.30.3',
    'istio.io/client-go': 'v1.30.4',
  });
  const current = istioWrapperModule(currentIstio, '/cache/src/istio-src');
  assert.doesNotMatch(current.goMod, /\treplace|^\t/m, 'N needs no replace beyond its stamped copy');
  assert.ok(
    current.packages.includes('istio.io/istio/istioctl/cmd/istioctl@v0.0.0-20260827124520-eed52ebb66ad'),
    `N's go get names its version too: ${current.packages.join(' ')}`,
  );
  assert.ok(current.packages.includes('./analyze-files'), "N's generated harnesses stay in its module");
  assert.ok(!m.packages.some((p) => p.startsWith('./')), 'N-1 has no harness');
});

test('each line stamps its own version into its binaries', () => {
  const ld = istioLd(previousIstio).join(' ');
  assert.match(ld, /buildVersion=1\.30\.0-alpha\.9739e10eb9d7 /);
  assert.match(ld, /buildGitRevision=9739e10eb9d7 /);
  assert.match(ld, /buildTag=v0\.0\.0-20260826214018-9739e10eb9d7 /);
  assert.deepEqual(istioTargets(previousIstio)[0].ldflags, istioLd(previousIstio));
  assert.match(istioLd(currentIstio).join(' '), /buildVersion=1\.31\.0-alpha\.eed52ebb66ad /);
});

test("the watcher runs the pilot-discovery of the pod's image tag, and names an unknown tag instead of guessing", () => {
  const chosen = (image: string | undefined) => {
    const c = lineForImage(image);
    return 'line' in c ? c.line.id : c.error;
  };
  assert.equal(chosen(`docker.io/istio/pilot:${ISTIO_LAB_VERSION}`), 'current');
  assert.equal(chosen(`docker.io/istio/pilot:${ISTIO_LAB_PREVIOUS_VERSION}`), 'previous');
  assert.equal(chosen(`localhost:5000/istio/pilot:${ISTIO_LAB_PREVIOUS_VERSION}`), 'previous', 'a registry port is not a tag');
  // The ambient profile's images are the distroless variant of the same build.
  assert.equal(chosen(`docker.io/istio/pilot:${ISTIO_LAB_VERSION}-distroless`), 'current');
  assert.equal(chosen(`docker.io/istio/pilot:${ISTIO_LAB_PREVIOUS_VERSION}-debug`), 'previous');
  assert.equal(
    chosen('docker.io/istio/pilot:1.30.5'),
    `image docker.io/istio/pilot:1.30.5: the lab builds no pilot-discovery 1.30.5 (it has ${ISTIO_LAB_VERSION}, ${ISTIO_LAB_PREVIOUS_VERSION})`,
  );
  assert.match(chosen('docker.io/istio/pilot'), /has no tag: cannot tell which pilot-discovery to run/);
  assert.match(chosen('localhost:5000/istio/pilot'), /has no tag/);
  assert.match(chosen('docker.io/istio/pilot@sha256:abcd'), /has no tag/);
  assert.match(chosen(undefined), /^no image/);
});

test("each revision's process has its own name and directory; the default one keeps today's", () => {
  assert.equal(revisionOf({ app: 'istiod', 'istio.io/rev': '1-30-0' }), '1-30-0');
  assert.equal(revisionOf({ app: 'istiod' }), 'default');
  assert.equal(revisionOf(undefined), 'default');
  assert.equal(daemonName('default'), 'pilot-discovery');
  assert.equal(daemonName('1-30-0'), 'pilot-discovery-1-30-0');
  assert.equal(istiodWorkDir('default'), path.join(stateDir, 'istiod'));
  assert.equal(istiodWorkDir('1-31-0'), path.join(stateDir, 'istiod-1-31-0'));
  assert.equal(defaultWebhookPort, 15017);
});

test("a revision's webhook configuration is pointed at its own istiod's port, paths kept", () => {
  const config = {
    metadata: { name: 'istio-sidecar-injector-1-30-0' },
    webhooks: [
      { name: 'rev.namespace.sidecar-injector.istio.io', clientConfig: { url: 'https://127.0.0.1:15017/inject', caBundle: 'x' } },
      { name: 'rev.object.sidecar-injector.istio.io', clientConfig: { url: 'https://127.0.0.1:15017/inject/cluster/a/net/b' } },
      { name: 'service.example', clientConfig: { service: { name: 'istiod-1-30-0', namespace: 'istio-system' } } },
      { name: 'remote.example', clientConfig: { url: 'https://istiod.example:15017/inject' } },
    ],
  };
  const moved = withWebhookPort(config, 40123);
  assert.ok(moved, 'a URL on 15017 moves to the revision port');
  assert.deepEqual(
    moved.webhooks.map((w) => ('url' in w.clientConfig ? w.clientConfig.url : 'service')),
    [
      'https://127.0.0.1:40123/inject',
      'https://127.0.0.1:40123/inject/cluster/a/net/b',
      'service',
      'https://istiod.example:15017/inject',
    ],
  );
  assert.equal((moved.webhooks[0].clientConfig as { caBundle?: string }).caBundle, 'x', 'the rest of clientConfig stays');
  assert.equal(config.webhooks[0].clientConfig.url, 'https://127.0.0.1:15017/inject', 'the input is not changed');
  assert.equal(withWebhookPort(moved, 40123), undefined, 'nothing to change: no update');
  assert.equal(withWebhookPort(config, 15017), undefined, 'the default revision keeps the overlay URL');
  assert.equal(withWebhookPort({ webhooks: [] }, 1), undefined);
  assert.equal(withWebhookPort({}, 1), undefined);
});
