// Every setting the tool reads from the environment or .env, once: its one-line doc, its default and its parser.
// Help, the .env reader and the .env.example check all derive from this table.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addons, defaultAddons, resolveAddons } from './addons.ts';
import { names } from './names.ts';
import { gatewayApi, istioProfiles, meshModes, minikubeDrivers, minimums, pins } from './pins.ts';

/** Why a value is refused; the loader names the setting and the value. */
export class Invalid extends Error {}

export type Env = Partial<Record<string, string>>;

/**
 * What some settings are read for (a command says which it reads: `reads`): starting minikube, installing Istio,
 * the addons, the traffic chapter, traffic shifting, the sleep sample. A setting without one is read by every command.
 */
export type SettingTopic = 'minikube-start' | 'install' | 'addons' | 'traffic' | 'shift' | 'sample' | 'upgrade';
export const settingTopics: readonly SettingTopic[] = [
  'minikube-start',
  'install',
  'addons',
  'traffic',
  'shift',
  'sample',
  'upgrade',
];

interface Setting<T> {
  doc: string;
  /** Used when the setting is not given (and parsed like a given value). */
  fallback?: string | ((env: Env, given: (name: string) => string | undefined) => string);
  /** How help shows a computed fallback. */
  shownDefault?: string;
  /** What it is read for, when only some commands read it: help lists it for the commands that read that. */
  readBy?: readonly SettingTopic[];
  /** A path: a leading `~` is the home directory, and the value is made absolute. */
  path?: true;
  /** A path as above, or an http(s) URL, which is left as it is. */
  pathOrUrl?: true;
  parse: (raw: string) => T;
}
/** Keeps each entry's own type, so a setting with a fallback reads as always set (see SettingValues). */
const setting = <S extends Setting<unknown>>(s: S): S => s;

const text = (raw: string): string => raw;
const matching =
  (re: RegExp, why: string) =>
  (raw: string): string => {
    if (!re.test(raw)) throw new Invalid(why);
    return raw;
  };
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string): T => {
    if (!(values as readonly string[]).includes(raw)) throw new Invalid(`expected one of ${values.join(', ')}`);
    return raw as T;
  };
const atLeast =
  (min: number, unit: string) =>
  (raw: string): number => {
    if (!/^\d+$/.test(raw)) throw new Invalid(`expected a whole number of ${unit}`);
    if (Number(raw) < min) throw new Invalid(`Istio needs at least ${min} ${unit}`);
    return Number(raw);
  };
const isUrl = (raw: string) => /^https?:\/\//.test(raw);
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const semver = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;
export const defaultReleaseUrl = 'https://github.com/istio/istio/releases/download';

/** Seconds in a Go duration as WAIT_TIMEOUT takes it (1m30s -> 90). */
export const durationSeconds = (d: string): number =>
  [...d.matchAll(/(\d+)([hms])/g)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'],
    0,
  );

export const homeOf = (env: Env): string => env.HOME || os.homedir();

function istioRelease(raw: string): string {
  const version = raw.replace(/^v(?=\d)/, ''); // v1.31.1 is how people write it; releases are named 1.31.1
  if (!semver.test(version)) throw new Invalid('expected a release like 1.31.1');
  return version;
}

function unpacked(raw: string): string {
  if (!existsSync(path.join(raw, 'bin', 'istioctl'))) throw new Invalid('not an unpacked Istio release (no bin/istioctl)');
  return raw;
}

export const settings = {
  ISTIO_VERSION: setting({ doc: 'Istio release to install', fallback: pins.istio, parse: istioRelease }),
  ISTIO_PREVIOUS_VERSION: setting({
    doc: 'the older Istio release the upgrade chapters start from (one or two minors before ISTIO_VERSION)',
    readBy: ['upgrade'],
    fallback: pins.istioPrevious,
    parse: istioRelease,
  }),
  KUBERNETES_VERSION: setting({
    doc: 'Kubernetes version for minikube',
    readBy: ['minikube-start'],
    fallback: pins.kubernetes,
    parse: (raw) => {
      const m = /^v?(\d+\.\d+\.\d+)$/.exec(raw); // 1.36.3 is accepted too; Kubernetes names it v1.36.3
      if (!m) throw new Invalid('expected a version like v1.36.3');
      return `v${m[1]}`;
    },
  }),
  ISTIO_MODE: setting({
    doc: "'sidecar' (the tutorial: a proxy in each pod) or 'ambient' (istio.io's ambient track: ztunnel per node, waypoints)",
    fallback: 'sidecar',
    parse: oneOf(meshModes),
  }),
  ISTIO_PROFILE: setting({
    doc: 'istioctl install profile (ambient, and only ambient, with ISTIO_MODE=ambient)',
    readBy: ['install'],
    fallback: (_env, given) => (given('ISTIO_MODE') === 'ambient' ? 'ambient' : 'demo'),
    shownDefault: 'demo',
    parse: oneOf(istioProfiles),
  }),
  GATEWAY_API_CRDS: setting({
    doc: `the Gateway API CRDs the ambient track installs when missing: a URL or a file of ${gatewayApi.version}'s ${gatewayApi.asset} (checked against its pinned digest)`,
    readBy: ['install'],
    fallback: `${gatewayApi.releaseUrl}/${gatewayApi.version}/${gatewayApi.asset}`,
    pathOrUrl: true,
    parse: (raw) => {
      if (isUrl(raw)) {
        if (/^https?:\/\/[^/]*@/.test(raw)) throw new Invalid('a URL with credentials (user:password@) is not accepted');
        return { kind: 'url' as const, url: raw };
      }
      if (!existsSync(raw)) throw new Invalid('no such file (or give an http(s) URL)');
      return { kind: 'file' as const, file: raw };
    },
  }),
  ISTIO_OVERLAY: setting({
    doc: 'IstioOperator overlay file passed to istioctl install -f (extra install settings)',
    readBy: ['install'],
    path: true,
    parse: (raw) => {
      if (!existsSync(raw)) throw new Invalid('no such file');
      return raw;
    },
  }),
  MINIKUBE_PROFILE: setting({
    doc: 'minikube profile, also the kube context name',
    fallback: 'fun-with-istio',
    parse: matching(dnsLabel, 'expected lower-case letters, digits and dashes'),
  }),
  MINIKUBE_DRIVER: setting({
    doc: 'minikube driver',
    fallback: 'docker',
    readBy: ['minikube-start'],
    parse: oneOf(minikubeDrivers),
  }),
  MINIKUBE_MEMORY: setting({
    doc: `minikube memory in MiB (or with a unit: 8g, 12288m), at least ${minimums.memoryMiB}`,
    readBy: ['minikube-start'],
    fallback: String(minimums.memoryMiB),
    parse: (raw) => {
      const m = /^(\d+)\s*(m|mb|mib|g|gb|gib)?$/i.exec(raw);
      if (!m) throw new Invalid('expected MiB, or a size like 8g or 12288m');
      const mib = Number(m[1]) * (/^g/i.test(m[2] ?? '') ? 1024 : 1);
      if (mib < minimums.memoryMiB) throw new Invalid(`Istio needs at least ${minimums.memoryMiB} MiB`);
      return mib;
    },
  }),
  MINIKUBE_CPUS: setting({
    doc: `minikube CPUs, at least ${minimums.cpus}`,
    readBy: ['minikube-start'],
    fallback: String(minimums.cpus),
    parse: atLeast(minimums.cpus, 'CPUs'),
  }),
  CLUSTER: setting({
    doc: "'minikube', or 'existing' to use KUBE_CONTEXT",
    fallback: 'minikube',
    parse: oneOf(['minikube', 'existing'] as const),
  }),
  KUBE_CONTEXT: setting({ doc: 'kube context to use with CLUSTER=existing (required there)', parse: text }),
  KUBECONFIG: setting({ doc: 'kubeconfig file(s), passed on to kubectl and istioctl', parse: text }),
  ISTIO_HOME: setting({ doc: 'an unpacked Istio release to use instead of downloading one', path: true, parse: unpacked }),
  ISTIO_PREVIOUS_HOME: setting({
    doc: 'an unpacked release of ISTIO_PREVIOUS_VERSION to use instead of downloading one',
    readBy: ['upgrade'],
    path: true,
    parse: unpacked,
  }),
  ISTIO_RELEASE_URL: setting({
    doc: 'where releases are downloaded from',
    fallback: defaultReleaseUrl,
    parse: (raw) => {
      if (!/^https?:\/\/\S+$/.test(raw)) throw new Invalid('expected an http(s) URL');
      // fetch refuses them, and the URL is logged and printed in errors.
      if (/^https?:\/\/[^/]*@/.test(raw)) throw new Invalid('a URL with credentials (user:password@) is not accepted');
      return raw;
    },
  }),
  CACHE_DIR: setting({
    doc: 'downloads, certificates and logs',
    fallback: (env) => path.join(env.XDG_CACHE_HOME || path.join(homeOf(env), '.cache'), 'fun-with-istio'),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shown as the shell would write it
    shownDefault: '${XDG_CACHE_HOME:-~/.cache}/fun-with-istio',
    path: true,
    parse: text,
  }),
  SAMPLE_NAMESPACE: setting({
    doc: 'namespace for the sleep sample',
    readBy: ['sample'],
    fallback: 'fun-with-istio',
    parse: (raw) => {
      if (!dnsLabel.test(raw)) throw new Invalid('expected a namespace name');
      if (raw === names.istioNamespace) throw new Invalid(`the sample must not run in ${names.istioNamespace}`);
      return raw;
    },
  }),
  ADDONS: setting({
    doc: `addons to install, comma-separated: ${addons.map((a) => a.name).join(', ')} (what they need comes too)`,
    readBy: ['addons'],
    fallback: defaultAddons.join(','),
    parse: (raw) => {
      const list = raw
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter(Boolean);
      if (!list.length) throw new Invalid('name at least one addon');
      const resolved = resolveAddons(list);
      if (typeof resolved === 'string') throw new Invalid(resolved);
      return resolved;
    },
  }),
  TRACING: setting({
    doc: "'zipkin' sends the mesh's traces to the Zipkin addon (a Telemetry resource), 'off' stops them",
    readBy: ['install', 'addons', 'traffic'],
    fallback: 'zipkin',
    parse: oneOf(['zipkin', 'off'] as const),
  }),
  TRACING_SAMPLING: setting({
    doc: 'percentage of requests traced, 0 to 100 (a demo traces every one)',
    readBy: ['addons'],
    fallback: '100',
    parse: (raw) => {
      const n = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw) || n > 100) throw new Invalid('expected a percentage from 0 to 100, like 100 or 2.5');
      return n;
    },
  }),
  TRAFFIC_REQUESTS: setting({
    doc: 'how many requests the traffic chapter sends to httpbin',
    readBy: ['traffic'],
    fallback: '100',
    parse: (raw) => {
      if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 100_000)
        throw new Invalid('expected a whole number from 1 to 100000');
      return Number(raw);
    },
  }),
  SHIFT_REQUESTS: setting({
    doc: 'how many product pages the traffic-shifting chapter counts red stars on (share within 10 points)',
    readBy: ['shift'],
    fallback: '100',
    parse: (raw) => {
      // Below 50 pages chance alone puts a right weight outside the 10 points too often.
      if (!/^\d+$/.test(raw) || Number(raw) < 50 || Number(raw) > 10_000)
        throw new Invalid('expected a whole number from 50 to 10000');
      return Number(raw);
    },
  }),
  LOG_KEEP: setting({
    doc: 'how many run logs to keep in CACHE_DIR/logs (the oldest go first)',
    fallback: '20',
    parse: (raw) => {
      if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Invalid('expected a whole number, at least 1');
      return Number(raw);
    },
  }),
  WAIT_TIMEOUT: setting({
    doc: 'longest wait for one rollout or condition, e.g. 300s, 10m or 1m30s',
    fallback: '300s',
    // A Go duration, as kubectl --timeout and istioctl --readiness-timeout read it.
    parse: matching(/^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/, 'expected a duration like 300s, 10m or 1m30s'),
  }),
};

export type SettingName = keyof typeof settings;
type Parsed<K extends SettingName> = ReturnType<(typeof settings)[K]['parse']>;
/** Every setting's value; one without a fallback may be unset. */
export type SettingValues = {
  [K in SettingName]: (typeof settings)[K] extends { fallback: unknown } ? Parsed<K> : Parsed<K> | undefined;
};
export const settingNames = Object.keys(settings) as SettingName[];

/** The default as help shows it, if there is one. */
export function shownDefault(name: SettingName): string | undefined {
  const s: Setting<unknown> = settings[name];
  return s.shownDefault ?? (typeof s.fallback === 'string' ? s.fallback : undefined);
}

/**
 * Every setting parsed from the environment (which wins), then `.env`, then its default. Returns the values and
 * the problems, each as `NAME="value": why`; the values are complete only when there is no problem.
 */
export function readSettings(env: Env, fileEnv: Env): { values: SettingValues; problems: string[] } {
  const problems: string[] = [];
  const values = {} as Record<SettingName, unknown>;
  // An empty value is no value: an empty environment variable does not hide .env.
  const givenOf = (k: string) => env[k]?.trim() || fileEnv[k]?.trim() || undefined;
  for (const k of settingNames) {
    const s: Setting<unknown> = settings[k];
    const given = givenOf(k);
    const raw = given ?? (typeof s.fallback === 'function' ? s.fallback(env, givenOf) : s.fallback);
    if (raw === undefined) continue;
    const isPath = s.path || (s.pathOrUrl && !isUrl(raw));
    const value = isPath ? path.resolve(raw.replace(/^~(?=\/|$)/, homeOf(env))) : raw;
    try {
      values[k] = s.parse(value);
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      problems.push(`${k}=${JSON.stringify(raw)}: ${e.message}`);
    }
  }
  return { values: values as SettingValues, problems };
}
