// The mesh mode (ISTIO_MODE) and what follows from it: the profile that carries its data plane, the Gateway API
// CRDs' source, the install flags, and the chapters of the other track refused before anything runs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../Taskfile.ts';
import { gatewayApi, loadConfig } from '../tasks/config.ts';
import { UsageError } from '../tasks/lib/base/errors.ts';
import { trackRefusal } from '../tasks/lib/cli/runner.ts';
import { installFlags } from '../tasks/lib/istio/install-flags.ts';
import { fakeRunner, runCli, tmpDir } from './helpers.ts';

const load = (env: Record<string, string>, envFile = '/nonexistent/.env') =>
  loadConfig({ env: { HOME: '/home/u', ...env }, envFile });
const problem = (env: Record<string, string>): string => {
  try {
    load(env);
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    return e.message;
  }
  return assert.fail('expected a usage error');
};

describe('ISTIO_MODE', () => {
  it('is sidecar by default, with the demo profile', () => {
    const c = load({});
    assert.deepEqual([c.mode, c.istioProfile], ['sidecar', 'demo']);
  });

  it('ambient brings the ambient profile, from the environment or from .env', () => {
    assert.deepEqual(
      [load({ ISTIO_MODE: 'ambient' }).mode, load({ ISTIO_MODE: 'ambient' }).istioProfile],
      ['ambient', 'ambient'],
    );
    const envFile = path.join(tmpDir('fwi-mode-'), '.env');
    writeFileSync(envFile, 'ISTIO_MODE=ambient\n');
    assert.equal(load({}, envFile).istioProfile, 'ambient');
  });

  it('refuses a profile without the mode’s data plane, and a mode it does not know', () => {
    assert.equal(
      problem({ ISTIO_MODE: 'ambient', ISTIO_PROFILE: 'demo' }),
      'ISTIO_PROFILE="demo": ISTIO_MODE=ambient installs the ambient profile (istiod, istio-cni, ztunnel); unset ISTIO_PROFILE',
    );
    assert.equal(
      problem({ ISTIO_PROFILE: 'ambient' }),
      'ISTIO_PROFILE="ambient": set ISTIO_MODE=ambient for the ambient track (the sidecar chapters need the ingress gateway)',
    );
    assert.equal(problem({ ISTIO_MODE: 'Ambient' }), 'ISTIO_MODE="Ambient": expected one of sidecar, ambient');
  });
});

describe('GATEWAY_API_CRDS', () => {
  it('downloads the pinned release file into the cache by default', () => {
    assert.deepEqual(load({ CACHE_DIR: '/c' }).gatewayApiCrds, {
      kind: 'download',
      url: `https://github.com/kubernetes-sigs/gateway-api/releases/download/${gatewayApi.version}/standard-install.yaml`,
      file: `/c/downloads/gateway-api-${gatewayApi.version}-standard-install.yaml`,
    });
  });

  it('takes a mirror URL or a file, and refuses credentials in a URL and a missing file', () => {
    assert.equal(load({ GATEWAY_API_CRDS: 'http://127.0.0.1:1/x.yaml' }).gatewayApiCrds.kind, 'download');
    const file = path.join(tmpDir('fwi-crds-'), 'standard-install.yaml');
    writeFileSync(file, '');
    assert.deepEqual(load({ GATEWAY_API_CRDS: file }).gatewayApiCrds, { kind: 'given', file });
    assert.equal(
      problem({ GATEWAY_API_CRDS: 'https://u:p@example.com/x.yaml' }),
      'GATEWAY_API_CRDS="https://u:p@example.com/x.yaml": a URL with credentials (user:password@) is not accepted',
    );
    assert.equal(
      problem({ GATEWAY_API_CRDS: '/nonexistent/crds.yaml' }),
      'GATEWAY_API_CRDS="/nonexistent/crds.yaml": no such file (or give an http(s) URL)',
    );
  });
});

describe('install flags', () => {
  const flags = (env: Record<string, string>) => installFlags({ ...load(env), tracing: { to: 'off' } });
  it('ambient on minikube names its platform (the CNI agent finds Docker’s network namespaces)', () => {
    assert.deepEqual(flags({ ISTIO_MODE: 'ambient' }), ['--set', 'profile=ambient', '--set', 'values.global.platform=minikube']);
  });
  it('not on another cluster, and never in sidecar mode', () => {
    assert.deepEqual(flags({ ISTIO_MODE: 'ambient', CLUSTER: 'existing', KUBE_CONTEXT: 'k' }), ['--set', 'profile=ambient']);
    assert.deepEqual(flags({}), ['--set', 'profile=demo']);
  });
});

describe('the two tracks', () => {
  const named = (name: string) => commands.find((c) => c.name === name) ?? assert.fail(name);

  it('a sidecar chapter in ambient mode is refused with what to run instead', () => {
    assert.equal(
      trackRefusal(named('bookinfo'), 'ambient'),
      'bookinfo is a chapter of the sidecar track and ISTIO_MODE=ambient: run `npm run ambient-bookinfo` instead, or set ISTIO_MODE=sidecar',
    );
    assert.equal(
      trackRefusal(named('fault-injection'), 'ambient'),
      'fault-injection is a chapter of the sidecar track and ISTIO_MODE=ambient: set ISTIO_MODE=sidecar',
    );
    assert.equal(trackRefusal(named('bookinfo'), 'sidecar'), undefined);
  });

  it('every chapter that needs sidecars names the sidecar track; what serves both names none', () => {
    // The canary upgrade's chapters (upgrade-*) are the sidecar track's: listed by their prefix, as they come.
    const upgrade = commands.filter((c) => c.name.startsWith('upgrade-'));
    assert.ok(upgrade.length > 0, 'the upgrade chapters are there');
    for (const c of upgrade) assert.equal(c.track?.mode, 'sidecar', c.name);
    const tracked = commands.filter((c) => c.track?.mode === 'sidecar' && !c.name.startsWith('upgrade-')).map((c) => c.name);
    assert.deepEqual(tracked.sort(), [
      'bookinfo',
      'fault-injection',
      'injection',
      'kube-inject',
      'mtls',
      'request-routing',
      'traffic',
      'traffic-shifting',
    ]);
    for (const name of ['all', 'install-istio', 'addons', 'teardown', 'minikube', 'webhook-certs'])
      assert.equal(named(name).track, undefined, name);
  });

  it('refuses before anything runs: exit 2, one line, no command, no log', async () => {
    const fake = fakeRunner(() => assert.fail('spawned a command'));
    const cache = tmpDir('fwi-track-');
    const r = await runCli(['ambient-bookinfo'], { env: { CACHE_DIR: cache }, runner: fake.runner });
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      'error: ambient-bookinfo is a chapter of the ambient track and ISTIO_MODE=sidecar: run `npm run bookinfo` instead, or set ISTIO_MODE=ambient\n',
    );
    assert.deepEqual(fake.calls, []);
  });
});
