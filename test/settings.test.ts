// Each setting as people type it: what it accepts and makes of it, and what it refuses, word for word, through the
// one table (tasks/config/settings.ts) that help, .env and the checks derive from.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  durationSeconds,
  type Env,
  readSettings,
  type SettingName,
  settingNames,
  settings,
  settingTopics,
  shownDefault,
} from '../tasks/config/settings.ts';
import { tmpDir } from './helpers.ts';

/** The value one setting makes of `raw`, or its problem line. */
function read(name: SettingName, raw: string, env: Env = {}): { value?: unknown; problem?: string } {
  const { values, problems } = readSettings({ ...env, [name]: raw }, {});
  const problem = problems.find((p) => p.startsWith(`${name}=`));
  return problem ? { problem } : { value: values[name] };
}
const accepts = (name: SettingName, raw: string, expected: unknown, env: Env = {}) =>
  assert.deepEqual(read(name, raw, env), { value: expected }, `${name}=${raw}`);
const refuses = (name: SettingName, raw: string, why: string) =>
  assert.deepEqual(read(name, raw), { problem: `${name}=${JSON.stringify(raw)}: ${why}` }, `${name}=${raw}`);

const home = tmpDir('fwi-home-');
const release = path.join(tmpDir('fwi-release-'), 'istio-1.31.1');
mkdirSync(path.join(release, 'bin'), { recursive: true });
writeFileSync(path.join(release, 'bin', 'istioctl'), '');
writeFileSync(path.join(home, 'overlay.yaml'), 'kind: IstioOperator\n');

describe('versions', () => {
  it('ISTIO_VERSION: a release name, with or without v, pre-releases too', () => {
    accepts('ISTIO_VERSION', '1.31.1', '1.31.1');
    accepts('ISTIO_VERSION', 'v1.31.1', '1.31.1');
    accepts('ISTIO_VERSION', '10.20.30', '10.20.30');
    accepts('ISTIO_VERSION', '1.32.0-beta.1', '1.32.0-beta.1');
    for (const bad of ['1.31', 'x1.31.1', '1.31.1x', 'vv1.31.1', '1v2.3.4', '1.31.1-', '1.31.1-b_1', 'latest'])
      refuses('ISTIO_VERSION', bad, 'expected a release like 1.31.1');
  });

  it('KUBERNETES_VERSION: v1.36.3 or 1.36.3, named as Kubernetes names it', () => {
    accepts('KUBERNETES_VERSION', 'v1.36.3', 'v1.36.3');
    accepts('KUBERNETES_VERSION', '1.36.3', 'v1.36.3');
    accepts('KUBERNETES_VERSION', 'v1.100.10', 'v1.100.10');
    accepts('KUBERNETES_VERSION', 'v10.1.1', 'v10.1.1');
    for (const bad of ['v1.36', 'xv1.36.3', 'v1.36.3x', 'V1.36.3'])
      refuses('KUBERNETES_VERSION', bad, 'expected a version like v1.36.3');
  });
});

describe('one of a list', () => {
  it('ISTIO_PROFILE, MINIKUBE_DRIVER, CLUSTER and TRACING name what they accept', () => {
    accepts('ISTIO_PROFILE', 'minimal', 'minimal');
    refuses('ISTIO_PROFILE', 'Demo', 'expected one of ambient, default, demo, empty, minimal, preview, remote, stable');
    accepts('MINIKUBE_DRIVER', 'podman', 'podman');
    assert.match(read('MINIKUBE_DRIVER', 'dokcer').problem ?? '', /^MINIKUBE_DRIVER="dokcer": expected one of docker, podman, /);
    accepts('CLUSTER', 'existing', 'existing');
    refuses('CLUSTER', 'kind', 'expected one of minikube, existing');
    accepts('TRACING', 'off', 'off');
    refuses('TRACING', 'jaeger', 'expected one of zipkin, off');
  });
});

describe('names', () => {
  it('MINIKUBE_PROFILE: a DNS label (it is also the context name)', () => {
    for (const good of ['a', 'fun-with-istio', 'x1', 'a'.repeat(63)]) accepts('MINIKUBE_PROFILE', good, good);
    for (const bad of ['Fun', '-a', 'a-', 'a_b', 'a'.repeat(64), 'a.b'])
      refuses('MINIKUBE_PROFILE', bad, 'expected lower-case letters, digits and dashes');
  });

  it('SAMPLE_NAMESPACE: a namespace name, never istio-system', () => {
    accepts('SAMPLE_NAMESPACE', 'demo', 'demo');
    refuses('SAMPLE_NAMESPACE', 'istio-system', 'the sample must not run in istio-system');
    refuses('SAMPLE_NAMESPACE', 'My_Sample', 'expected a namespace name');
  });

  it('KUBE_CONTEXT and KUBECONFIG: taken as written', () => {
    accepts('KUBE_CONTEXT', 'kind-kind', 'kind-kind');
    accepts('KUBECONFIG', '/a/config:/b/config', '/a/config:/b/config');
    assert.deepEqual(readSettings({}, {}).values.KUBE_CONTEXT, undefined);
  });
});

describe('sizes and counts', () => {
  it('MINIKUBE_MEMORY: MiB, or a size with its unit, at least 8192 MiB', () => {
    for (const [raw, mib] of [
      ['8192', 8192],
      ['8g', 8192],
      ['8G', 8192],
      ['8gb', 8192],
      ['8GiB', 8192],
      ['12288m', 12288],
      ['12288 MiB', 12288],
      ['9000mb', 9000],
    ] as const)
      accepts('MINIKUBE_MEMORY', raw, mib);
    refuses('MINIKUBE_MEMORY', '4g', 'Istio needs at least 8192 MiB');
    refuses('MINIKUBE_MEMORY', '8191', 'Istio needs at least 8192 MiB');
    for (const bad of ['8t', 'x8g', '8gx', '8.5g']) refuses('MINIKUBE_MEMORY', bad, 'expected MiB, or a size like 8g or 12288m');
  });

  it('MINIKUBE_CPUS: a whole number, at least 4', () => {
    accepts('MINIKUBE_CPUS', '4', 4);
    accepts('MINIKUBE_CPUS', '16', 16);
    refuses('MINIKUBE_CPUS', '3', 'Istio needs at least 4 CPUs');
    for (const bad of ['4.5', 'x4', '4x', 'four']) refuses('MINIKUBE_CPUS', bad, 'expected a whole number of CPUs');
  });

  it('TRACING_SAMPLING: a percentage from 0 to 100', () => {
    accepts('TRACING_SAMPLING', '0', 0);
    accepts('TRACING_SAMPLING', '2.5', 2.5);
    accepts('TRACING_SAMPLING', '12.25', 12.25);
    accepts('TRACING_SAMPLING', '100', 100);
    for (const bad of ['101', '-1', '1e2', 'x', '2.', '.5'])
      refuses('TRACING_SAMPLING', bad, 'expected a percentage from 0 to 100, like 100 or 2.5');
  });

  it('TRAFFIC_REQUESTS, SHIFT_REQUESTS and LOG_KEEP: whole numbers in their ranges', () => {
    accepts('TRAFFIC_REQUESTS', '1', 1);
    accepts('TRAFFIC_REQUESTS', '100000', 100_000);
    for (const bad of ['0', '100001', '1.5', 'x1', '1x'])
      refuses('TRAFFIC_REQUESTS', bad, 'expected a whole number from 1 to 100000');
    accepts('SHIFT_REQUESTS', '50', 50);
    accepts('SHIFT_REQUESTS', '10000', 10_000);
    for (const bad of ['49', '10001', '50.5', 'x50', '50x'])
      refuses('SHIFT_REQUESTS', bad, 'expected a whole number from 50 to 10000');
    accepts('LOG_KEEP', '1', 1);
    for (const bad of ['0', '2.5', 'x2', '2x']) refuses('LOG_KEEP', bad, 'expected a whole number, at least 1');
  });

  it('ADDONS: names, trimmed, any case; at least one; what each needs comes too', () => {
    assert.deepEqual(
      (read('ADDONS', ' Prometheus , zipkin ,').value as { name: string }[]).map((a) => a.name),
      ['prometheus', 'zipkin'],
    );
    refuses('ADDONS', ',', 'name at least one addon');
    refuses(
      'ADDONS',
      'graphana',
      'unknown addon graphana (did you mean grafana?); known: prometheus, grafana, zipkin, jaeger, kiali',
    );
    refuses('ADDONS', 'nosuch', 'unknown addon nosuch; known: prometheus, grafana, zipkin, jaeger, kiali');
  });
});

describe('durations', () => {
  it('WAIT_TIMEOUT: a Go duration, as kubectl --timeout reads it', () => {
    for (const good of ['300s', '10m', '1m30s', '1h', '12h', '1h2m3s']) accepts('WAIT_TIMEOUT', good, good);
    for (const bad of ['300', 's', '1s1m', 'm5', '5 m', 'x5s', '5sx'])
      refuses('WAIT_TIMEOUT', bad, 'expected a duration like 300s, 10m or 1m30s');
  });

  it('durationSeconds adds up every part', () => {
    assert.equal(durationSeconds('300s'), 300);
    assert.equal(durationSeconds('10m'), 600);
    assert.equal(durationSeconds('1h2m3s'), 3723);
    assert.equal(durationSeconds('12m34s'), 754);
  });
});

describe('paths', () => {
  it('ISTIO_HOME: an unpacked release, ~ and relative paths made absolute', () => {
    accepts('ISTIO_HOME', release, release);
    accepts('ISTIO_HOME', `~/${path.relative(home, release)}`, release, { HOME: home });
    refuses('ISTIO_HOME', home, 'not an unpacked Istio release (no bin/istioctl)');
    const flat = tmpDir('fwi-flat-');
    writeFileSync(path.join(flat, 'istioctl'), '');
    refuses('ISTIO_HOME', flat, 'not an unpacked Istio release (no bin/istioctl)');
    const binOnly = tmpDir('fwi-bin-only-');
    mkdirSync(path.join(binOnly, 'bin'));
    refuses('ISTIO_HOME', binOnly, 'not an unpacked Istio release (no bin/istioctl)');
  });

  it('ISTIO_OVERLAY: a file that exists, ~ expanded; unset by default', () => {
    accepts('ISTIO_OVERLAY', '~/overlay.yaml', path.join(home, 'overlay.yaml'), { HOME: home });
    refuses('ISTIO_OVERLAY', '/nonexistent/overlay.yaml', 'no such file');
    assert.equal(readSettings({}, {}).values.ISTIO_OVERLAY, undefined);
  });

  it('CACHE_DIR: under XDG_CACHE_HOME, else ~/.cache; ~ and relative paths made absolute', () => {
    assert.equal(readSettings({ HOME: home }, {}).values.CACHE_DIR, path.join(home, '.cache', 'fun-with-istio'));
    assert.equal(readSettings({ HOME: home, XDG_CACHE_HOME: '/xdg' }, {}).values.CACHE_DIR, '/xdg/fun-with-istio');
    accepts('CACHE_DIR', '~/c', path.join(home, 'c'), { HOME: home });
    accepts('CACHE_DIR', '~', home, { HOME: home });
    accepts('CACHE_DIR', 'rel/c', path.resolve('rel/c'));
    accepts('CACHE_DIR', '/a/~b', '/a/~b');
    accepts('CACHE_DIR', '/a/~/b', '/a/~/b', { HOME: home });
  });

  it('ISTIO_RELEASE_URL: an http(s) URL', () => {
    accepts('ISTIO_RELEASE_URL', 'https://mirror.example/istio', 'https://mirror.example/istio');
    accepts('ISTIO_RELEASE_URL', 'http://127.0.0.1:8080/r', 'http://127.0.0.1:8080/r');
    for (const bad of ['ftp://x', 'https://a b', 'xhttps://a', 'https://'])
      refuses('ISTIO_RELEASE_URL', bad, 'expected an http(s) URL');
    for (const withCredentials of ['https://user:token@mirror.example/istio', 'http://u@127.0.0.1/r'])
      refuses('ISTIO_RELEASE_URL', withCredentials, 'a URL with credentials (user:password@) is not accepted');
    accepts('ISTIO_RELEASE_URL', 'https://mirror.example/a@b', 'https://mirror.example/a@b');
  });
});

describe('reading the table', () => {
  it('the environment wins over .env; an empty value hides nothing', () => {
    assert.equal(readSettings({ ISTIO_PROFILE: 'minimal' }, { ISTIO_PROFILE: 'default' }).values.ISTIO_PROFILE, 'minimal');
    assert.equal(readSettings({ ISTIO_PROFILE: ' ' }, { ISTIO_PROFILE: 'default' }).values.ISTIO_PROFILE, 'default');
    assert.equal(readSettings({}, {}).values.ISTIO_PROFILE, 'demo');
    assert.equal(readSettings({}, { ISTIO_PROFILE: ' minimal ' }).values.ISTIO_PROFILE, 'minimal', '.env values are trimmed too');
  });

  it('a problem quotes the value as given, before a path is made absolute', () => {
    assert.deepEqual(readSettings({ ISTIO_HOME: '~/none', HOME: home }, {}).problems, [
      'ISTIO_HOME="~/none": not an unpacked Istio release (no bin/istioctl)',
    ]);
  });

  it('help shows each default as given, a computed one as the shell would write it, and none where there is none', () => {
    assert.equal(shownDefault('ISTIO_PROFILE'), 'demo');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shown as the shell would write it
    assert.equal(shownDefault('CACHE_DIR'), '${XDG_CACHE_HOME:-~/.cache}/fun-with-istio');
    assert.equal(shownDefault('KUBE_CONTEXT'), undefined);
  });

  it('what each topic of settings holds (help shows them only for the commands that read it)', () => {
    const of = (topic: string) =>
      settingNames.filter((n) => (settings[n] as { readBy?: readonly string[] }).readBy?.includes(topic));
    assert.deepEqual(Object.fromEntries(settingTopics.map((t) => [t, of(t)])), {
      'minikube-start': ['KUBERNETES_VERSION', 'MINIKUBE_DRIVER', 'MINIKUBE_MEMORY', 'MINIKUBE_CPUS'],
      install: ['ISTIO_PROFILE', 'GATEWAY_API_CRDS', 'ISTIO_OVERLAY', 'TRACING'],
      addons: ['ADDONS', 'TRACING', 'TRACING_SAMPLING'],
      traffic: ['TRACING', 'TRAFFIC_REQUESTS'],
      shift: ['SHIFT_REQUESTS'],
      upgrade: ['ISTIO_PREVIOUS_VERSION', 'ISTIO_PREVIOUS_HOME'],
      sample: ['SAMPLE_NAMESPACE'],
    });
  });
});
