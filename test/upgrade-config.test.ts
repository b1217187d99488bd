// The previous release the upgrade chapters start from: pinned beside the current one, downloaded and cached the same
// way (or given unpacked), and refused up front when it cannot start a canary upgrade to the current one.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, pins, upgradeProblem } from '../tasks/config.ts';
import { tmpDir } from './helpers.ts';

const cache = tmpDir('fwi-upgrade-config-');
const load = (env: Record<string, string> = {}) =>
  loadConfig({ env: { CACHE_DIR: cache, CLUSTER: 'existing', KUBE_CONTEXT: 'lab', ...env }, envFile: '/nonexistent/.env' });

/** An unpacked release that says which Istio it holds, as a release's manifest.yaml does. */
function unpacked(version: string): string {
  const home = tmpDir('fwi-release-');
  mkdirSync(path.join(home, 'bin'));
  writeFileSync(path.join(home, 'bin', 'istioctl'), '');
  writeFileSync(path.join(home, 'manifest.yaml'), `version: ${version}\n`);
  return home;
}
const asset = `istio-1.30.5-${process.platform === 'darwin' ? 'osx' : 'linux'}-${process.arch === 'arm64' ? 'arm64' : 'amd64'}.tar.gz`;

describe('the previous release', () => {
  it('is pinned one minor before the current one, downloaded like it and kept beside it in the cache', () => {
    const { previous, istioHome } = load();
    assert.equal(pins.istioPrevious, '1.30.5');
    const url = `https://github.com/istio/istio/releases/download/1.30.5/${asset}`;
    assert.deepEqual(previous, {
      version: '1.30.5',
      istioHome: path.join(cache, 'releases', 'istio-1.30.5'),
      istioctl: path.join(cache, 'releases', 'istio-1.30.5', 'bin', 'istioctl'),
      release: { kind: 'download', url, shaUrl: `${url}.sha256`, asset, archive: path.join(cache, 'downloads', asset) },
      unusable: undefined,
    });
    assert.equal(path.dirname(previous.istioHome), path.dirname(istioHome));
  });

  it('comes from the same mirror as the current one', () => {
    const { previous } = load({ ISTIO_RELEASE_URL: 'http://mirror.example/istio/' });
    assert.equal(previous.release.kind === 'download' && previous.release.url, `http://mirror.example/istio/1.30.5/${asset}`);
  });

  it('given unpacked, is the version its manifest says, and nothing is downloaded', () => {
    const home = unpacked('1.30.0-alpha.9739e10eb9d7');
    const { previous } = load({ ISTIO_PREVIOUS_HOME: home });
    assert.equal(previous.version, '1.30.0-alpha.9739e10eb9d7');
    assert.equal(previous.istioctl, path.join(home, 'bin', 'istioctl'));
    assert.deepEqual(previous.release, { kind: 'given' });
  });

  it('a version that is not what the given release holds is refused, naming both', () => {
    assert.throws(
      () => load({ ISTIO_PREVIOUS_HOME: unpacked('1.30.0'), ISTIO_PREVIOUS_VERSION: '1.30.5' }),
      /ISTIO_PREVIOUS_VERSION="1\.30\.5": ISTIO_PREVIOUS_HOME holds Istio 1\.30\.0 \(its manifest\.yaml\)/,
    );
  });

  it('one or two minors before the current one is accepted', () => {
    assert.equal(load({ ISTIO_PREVIOUS_VERSION: '1.30.2' }).previous.version, '1.30.2');
    assert.equal(load({ ISTIO_PREVIOUS_VERSION: 'v1.29.4', KUBERNETES_VERSION: 'v1.35.0' }).previous.version, '1.29.4');
  });

  it('the same minor, a newer one, or three minors back is refused before anything runs', () => {
    const why = /the upgrade goes to Istio 1\.31 from one or two minors before it \(1\.30 or 1\.29\)/;
    for (const v of ['1.31.0', '1.32.1', '1.28.9'])
      assert.throws(
        () => load({ ISTIO_PREVIOUS_VERSION: v }),
        new RegExp(`ISTIO_PREVIOUS_VERSION="${v.replace(/\./g, '\\.')}": ${why.source}`),
      );
  });

  it('one that does not support the cluster’s Kubernetes is refused, naming the range', () => {
    assert.throws(
      () => load({ ISTIO_PREVIOUS_VERSION: '1.29.4' }),
      /ISTIO_PREVIOUS_VERSION="1\.29\.4": Istio 1\.29 supports Kubernetes 1\.31 to 1\.35, not v1\.36\.3/,
    );
  });

  it('the pinned one under another ISTIO_VERSION does not stop other commands: only the upgrade, which says why', () => {
    const { previous } = load({ ISTIO_VERSION: '1.29.4', KUBERNETES_VERSION: 'v1.35.0' });
    assert.match(previous.unusable ?? '', /^ISTIO_PREVIOUS_VERSION="1\.30\.5": the upgrade goes to Istio 1\.29 from/);
  });

  it('a version whose line cannot be read is no canary upgrade either (a check that cannot look does not pass)', () => {
    assert.match(upgradeProblem('1.30.5', 'master', undefined) ?? '', /cannot tell the Istio lines of 1\.30\.5 and master apart/);
    assert.match(upgradeProblem('1.31-alpha.0abc', '1.31.1', undefined) ?? '', /goes to Istio 1\.31 from/);
  });

  it('another major is never a canary upgrade', () => {
    assert.match(upgradeProblem('1.30.5', '2.0.0', undefined) ?? '', /goes to Istio 2\.0/);
    assert.equal(upgradeProblem('1.30.5', '1.31.1', undefined), undefined);
  });
});
