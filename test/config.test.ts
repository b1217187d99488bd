import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, minikubeOf, pins, settingNames, settingTopics, shownDefault } from '../tasks/config.ts';
import { UsageError } from '../tasks/lib/base/errors.ts';
import { downloadOf } from '../tasks/lib/istio/release.ts';
import { tmpDir } from './helpers.ts';

const noFile = '/nonexistent/.env';
const load = (env: Record<string, string>, envFile = noFile) => loadConfig({ env: { HOME: '/home/u', ...env }, envFile });
const usageError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    return e.message;
  }
  assert.fail('expected an error');
};

describe('config', () => {
  it('defaults to the pins, minikube and its profile as context', () => {
    const c = load({});
    assert.equal(c.istioVersion, pins.istio);
    assert.equal(c.kubernetesVersion, pins.kubernetes);
    assert.equal(c.cluster.kind, 'minikube');
    assert.equal(c.context, 'fun-with-istio');
    assert.deepEqual([minikubeOf(c)!.memoryMiB, minikubeOf(c)!.cpus, minikubeOf(c)!.driver], [8192, 4, 'docker']);
    assert.equal(c.cacheDir, '/home/u/.cache/fun-with-istio');
    assert.equal(c.istioctl, `/home/u/.cache/fun-with-istio/releases/istio-${pins.istio}/bin/istioctl`);
    assert.match(downloadOf(c).url, new RegExp(`/${pins.istio}/istio-${pins.istio}-(linux|osx)-(amd64|arm64)\\.tar\\.gz$`));
    assert.equal(downloadOf(c).shaUrl, `${downloadOf(c).url}.sha256`);
  });

  it('names every bad value in one error', () => {
    const msg = usageError(() =>
      load({
        ISTIO_VERSION: 'v1.31',
        KUBERNETES_VERSION: '1.36', // 1.36.3 is accepted now (normalised to v1.36.3)
        MINIKUBE_MEMORY: '4096',
        MINIKUBE_CPUS: 'two',
        MINIKUBE_DRIVER: 'dockr',
        CLUSTER: 'kind',
        ISTIO_PROFILE: 'big',
        WAIT_TIMEOUT: '5 minutes',
      }),
    );
    for (const k of [
      'ISTIO_VERSION="v1.31"',
      'KUBERNETES_VERSION="1.36"',
      'MINIKUBE_MEMORY="4096": Istio needs at least 8192 MiB',
      'MINIKUBE_CPUS="two"',
      'MINIKUBE_DRIVER="dockr"',
      'CLUSTER="kind"',
      'ISTIO_PROFILE="big"',
      'WAIT_TIMEOUT="5 minutes"',
    ])
      assert.ok(msg.includes(k), `${k} not named in:\n${msg}`);
  });

  it('keeps the version set consistent', () => {
    assert.match(
      usageError(() => load({ KUBERNETES_VERSION: 'v1.30.2' })),
      /Istio 1\.31 supports Kubernetes 1\.32 to 1\.36/,
    );
    assert.deepEqual(load({ ISTIO_VERSION: '1.99.0' }).warnings, [
      'Istio 1.99 is not in the support table; Kubernetes v1.36.3 is not checked against it',
    ]);
  });

  it('needs KUBE_CONTEXT with CLUSTER=existing and pins to it', () => {
    assert.match(
      usageError(() => load({ CLUSTER: 'existing' })),
      /KUBE_CONTEXT: required with CLUSTER=existing/,
    );
    assert.match(
      usageError(() => load({ KUBE_CONTEXT: 'prod' })),
      /only used with CLUSTER=existing/,
    );
    assert.equal(load({ CLUSTER: 'existing', KUBE_CONTEXT: 'lab' }).context, 'lab');
  });

  it('checks ISTIO_HOME and ISTIO_OVERLAY exist', () => {
    assert.match(
      usageError(() => load({ ISTIO_HOME: '/nonexistent' })),
      /ISTIO_HOME="\/nonexistent": not an unpacked Istio release/,
    );
    assert.match(
      usageError(() => load({ ISTIO_OVERLAY: '/nonexistent.yaml' })),
      /ISTIO_OVERLAY="\/nonexistent.yaml": no such file/,
    );
  });

  it('reads .env, and the environment wins', () => {
    const file = path.join(tmpDir(), '.env');
    writeFileSync(file, '# local\nMINIKUBE_MEMORY=12288\nexport MINIKUBE_CPUS=6\nISTIO_PROFILE="minimal"\n');
    const c = load({ MINIKUBE_CPUS: '8' }, file);
    assert.deepEqual([minikubeOf(c)!.memoryMiB, minikubeOf(c)!.cpus, c.istioProfile], [12288, 8, 'minimal']);
  });

  it('refuses a malformed .env instead of silently dropping lines', () => {
    const file = path.join(tmpDir(), '.env');
    writeFileSync(file, 'MINIKUBE_MEMORY=12288\nthis is not a setting\nISTIO_VERISON=1.31.1\nISTIO_PROFILE="demo\n');
    const msg = usageError(() => load({}, file));
    assert.match(msg, /\.env line 2 is not KEY=VALUE/);
    assert.match(msg, /\.env line 3: unknown setting ISTIO_VERISON/);
    assert.match(msg, /a quoted value is never closed/);
  });
});

describe('the settings table', () => {
  it('.env.example documents every setting, with the same default, and nothing else', () => {
    const text = readFileSync(path.join(import.meta.dirname, '..', '.env.example'), 'utf8');
    const documented = new Map([...text.matchAll(/^# ([A-Z_]+)=(\S*)/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual([...documented.keys()].sort(), [...settingNames].sort());
    for (const name of settingNames) {
      const shown = shownDefault(name);
      if (shown && !shown.includes('$')) assert.equal(documented.get(name), shown, `${name} in .env.example`);
    }
  });

  it("the README's table lists every setting with the same default", () => {
    const readme = readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const text = readme.slice(
      readme.indexOf('## Configuration'),
      readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
    );
    const rows = new Map(
      [...text.matchAll(/^\| `([A-Z_]+)` \|([^|]*)\|/gm)].map((m) => [m[1], m[2].trim().replace(/^`|`$/g, '')]),
    );
    assert.deepEqual([...rows.keys()].sort(), [...settingNames].sort());
    for (const name of settingNames) {
      const shown = shownDefault(name);
      if (shown && !shown.startsWith('https://')) assert.equal(rows.get(name), shown, `${name} in README.md`);
    }
  });

  it('help lists every setting with its default, from the table', async () => {
    const { commandHelp } = await import('../tasks/lib/cli/help.ts');
    const help = commandHelp({ kind: 'action', name: 'x', summary: 's', reads: settingTopics, action: async () => 0 });
    for (const name of settingNames) assert.match(help, new RegExp(`^  ${name} +\\S`, 'm'));
    assert.match(help, /^ {2}WAIT_TIMEOUT +longest wait[\s\S]*?\(default\s+300s\)$/m);
  });

  it('every default parses as its own setting would', () => {
    assert.doesNotThrow(() => load({}));
  });
});

describe('settings as people type them', () => {
  it('v1.31.1 and 1.36.3 are normalised to the forms the tools use', () => {
    const c = load({ ISTIO_VERSION: 'v1.31.1', KUBERNETES_VERSION: '1.36.3' });
    assert.equal(c.istioVersion, '1.31.1');
    assert.equal(c.kubernetesVersion, 'v1.36.3');
  });

  it('durations like 1m30s, sizes like 8g', () => {
    assert.equal(load({ WAIT_TIMEOUT: '1m30s' }).waitTimeout, '1m30s');
    assert.equal(minikubeOf(load({ MINIKUBE_MEMORY: '8g' }))!.memoryMiB, 8192);
    assert.equal(minikubeOf(load({ MINIKUBE_MEMORY: '12288m' }))!.memoryMiB, 12288);
    assert.match(
      usageError(() => load({ MINIKUBE_MEMORY: '4g' })),
      /MINIKUBE_MEMORY="4g": Istio needs at least 8192 MiB/,
    );
    assert.match(
      usageError(() => load({ WAIT_TIMEOUT: '300' })),
      /WAIT_TIMEOUT="300": expected a duration like 300s, 10m or 1m30s/,
    );
  });

  it('a key set twice in .env is an error naming both lines', () => {
    const file = path.join(tmpDir(), '.env');
    writeFileSync(file, 'ISTIO_PROFILE=demo\n# later\nISTIO_PROFILE=minimal\n');
    assert.match(
      usageError(() => load({}, file)),
      /\.env line 3 sets ISTIO_PROFILE again \(first on line 1\)/,
    );
  });
});

describe('ISTIO_HOME and ISTIO_VERSION', () => {
  const home = (version: string) => {
    const dir = tmpDir('fwi-home-');
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'istioctl'), '');
    writeFileSync(path.join(dir, 'manifest.yaml'), `version: ${version}\ndocker: docker.io/istio\n`);
    return dir;
  };

  it("the release's own version is the one to install, so a re-run compares with what it installed", () => {
    assert.equal(load({ ISTIO_HOME: home('1.31.0') }).istioVersion, '1.31.0');
  });

  it('a different ISTIO_VERSION beside it is an error naming both', () => {
    assert.match(
      usageError(() => load({ ISTIO_HOME: home('1.31.0'), ISTIO_VERSION: '1.31.1' })),
      /ISTIO_VERSION="1\.31\.1": ISTIO_HOME holds Istio 1\.31\.0/,
    );
  });
});
