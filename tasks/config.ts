// The one place for versions, names, paths and defaults. Everything else reads a Config.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseDotenv } from 'dotenv';
import { UsageError } from './lib/errors.ts';

/** The pinned, mutually consistent version set (see README "Versions"). */
export const pins = {
  istio: '1.31.1',
  kubernetes: 'v1.36.3',
  minikube: 'v1.39.0',
} as const;

/** Kubernetes minors each Istio minor supports (istio.io support table). Unknown minors are not checked. */
export const istioKubernetesSupport: Record<string, { min: number; max: number }> = {
  '1.31': { min: 32, max: 36 },
};

/**
 * Whether Istio `istio` (1.31.1) supports Kubernetes `kubernetes` (v1.36.3): 'unknown' when the Istio line is
 * not in the table, else undefined when supported or the reason it is not.
 */
export function kubernetesSupport(istio: string, kubernetes: string): string | 'unknown' | undefined {
  const [, iMajor, iMinor] = /^(\d+)\.(\d+)/.exec(istio) ?? [];
  const [, kMajor, kMinor] = /^v?(\d+)\.(\d+)/.exec(kubernetes) ?? [];
  const range = istioKubernetesSupport[`${iMajor}.${iMinor}`];
  if (!range) return 'unknown';
  const minor = Number(kMinor);
  return kMajor === '1' && minor >= range.min && minor <= range.max ? undefined : `Istio ${iMajor}.${iMinor} supports Kubernetes 1.${range.min} to 1.${range.max}`;
}

export const minimums = { memoryMiB: 8192, cpus: 4 } as const;

export const istioProfiles = ['ambient', 'default', 'demo', 'empty', 'minimal', 'preview', 'remote', 'stable'] as const;

// `minikube start --help` (v1.39): the drivers it accepts.
export const minikubeDrivers = [
  'docker', 'podman', 'kvm2', 'qemu2', 'qemu', 'virtualbox', 'vfkit', 'krunkit', 'hyperkit', 'hyperv',
  'parallels', 'vmware', 'none', 'ssh',
] as const;

/** Names of the objects the tool creates or reads. */
export const names = {
  istioNamespace: 'istio-system',
  cacertsSecret: 'cacerts',
  injectorWebhook: 'istio-sidecar-injector',
  /** ConfigMaps holding the injector's template and values, and the mesh config (read by kube-inject). */
  injectorConfigMap: 'istio-sidecar-injector',
  meshConfigMap: 'istio',
  istiod: 'istiod',
  injectionLabel: 'istio-injection',
  injectLabel: 'sidecar.istio.io/inject',
  sidecarContainer: 'istio-proxy',
  sampleApp: 'sleep',
  /** Label put on everything the tool creates, so teardown removes only that. */
  managedBy: { key: 'app.kubernetes.io/managed-by', value: 'fun-with-istio' },
  /** Annotation on the sample namespace once the injection chapter has been verified end to end. */
  injectionVerified: 'fun-with-istio/injection-verified',
  /** Annotation saying the tool (not the user) set the namespace's injection label, so teardown may remove it. */
  injectionLabelled: 'fun-with-istio/injection-labelled',
} as const;

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const manifestsDir = path.join(projectRoot, 'manifests');
export const patchesDir = path.join(projectRoot, 'patches');

const defaultReleaseUrl = 'https://github.com/istio/istio/releases/download';

/** Every setting read from the environment or `.env`, with what it means (shown by --help). */
export const settings = {
  ISTIO_VERSION: `Istio release to install (default ${pins.istio})`,
  KUBERNETES_VERSION: `Kubernetes version for minikube (default ${pins.kubernetes})`,
  ISTIO_PROFILE: 'istioctl install profile (default demo)',
  ISTIO_OVERLAY: 'IstioOperator overlay file passed to istioctl install -f (extra install settings)',
  MINIKUBE_PROFILE: 'minikube profile, also the kube context name (default fun-with-istio)',
  MINIKUBE_DRIVER: 'minikube driver (default docker)',
  MINIKUBE_MEMORY: `minikube memory in MiB (default and minimum ${minimums.memoryMiB})`,
  MINIKUBE_CPUS: `minikube CPUs (default and minimum ${minimums.cpus})`,
  CLUSTER: "'minikube' (default) or 'existing' to use KUBE_CONTEXT",
  KUBE_CONTEXT: 'kube context to use with CLUSTER=existing (required there)',
  KUBECONFIG: 'kubeconfig file(s), passed on to kubectl and istioctl',
  ISTIO_HOME: 'an unpacked Istio release to use instead of downloading one',
  ISTIO_RELEASE_URL: `where releases are downloaded from (default ${defaultReleaseUrl})`,
  CACHE_DIR: 'downloads, certificates and logs (default ${XDG_CACHE_HOME:-~/.cache}/fun-with-istio)',
  SAMPLE_NAMESPACE: 'namespace for the sleep sample (default fun-with-istio)',
  WAIT_TIMEOUT: 'longest wait for one rollout or condition, e.g. 300s or 10m (default 300s)',
} as const;
export type SettingName = keyof typeof settings;
type Env = Partial<Record<string, string>>;

export interface Config {
  istioVersion: string;
  kubernetesVersion: string;
  istioProfile: string;
  istioOverlay?: string;
  cluster: 'minikube' | 'existing';
  /** The kube context every kubectl/istioctl call is pinned to. */
  context: string;
  minikube: { profile: string; driver: string; memoryMiB: number; cpus: number; version: string };
  kubeconfig?: string;
  /** Unpacked release directory; `istioHomeGiven` says the user supplied it (no download). */
  istioHome: string;
  istioHomeGiven: boolean;
  istioctl: string;
  release: { url: string; shaUrl: string; archive: string; asset: string };
  cacheDir: string;
  certsDir: string;
  logDir: string;
  /** Injector configuration fetched for kube-inject, per context. */
  injectDir: string;
  sampleNamespace: string;
  waitTimeout: string;
  /** Non-fatal remarks about the configuration (printed before running). */
  warnings: string[];
}

const semver = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Reads `.env` strictly: dotenv skips lines it cannot parse, which would silently lose a setting. */
export function readEnvFile(file: string): Env {
  if (!existsSync(file)) return {};
  const text = readFileSync(file, 'utf8');
  const problems: string[] = [];
  let openQuote: string | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    if (openQuote) {
      if (line.includes(openQuote)) openQuote = undefined;
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!m) {
      problems.push(`${path.basename(file)} line ${i + 1} is not KEY=VALUE: ${JSON.stringify(trimmed.slice(0, 60))}`);
      return;
    }
    const [, key, value] = m;
    const q = value[0];
    if ((q === '"' || q === "'" || q === '`') && !value.slice(1).includes(q)) openQuote = q;
    if (!(key in settings)) problems.push(`${path.basename(file)} line ${i + 1}: unknown setting ${key} (known: ${Object.keys(settings).join(', ')})`);
  });
  if (openQuote) problems.push(`${path.basename(file)}: a quoted value is never closed`);
  if (problems.length) throw new UsageError(problems.join('\n'));
  return parseDotenv(text);
}

function platformAsset(version: string): string {
  const osName = ({ linux: 'linux', darwin: 'osx' } as Record<string, string>)[process.platform];
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
  if (!osName || !arch) throw new UsageError(`no Istio release for ${process.platform}/${process.arch}: set ISTIO_HOME to an unpacked release`);
  return `istio-${version}-${osName}-${arch}.tar.gz`;
}

export interface LoadOptions {
  env?: Env;
  envFile?: string;
}

/** Environment wins over `.env`; every bad value is named in one UsageError (exit 2). */
export function loadConfig({ env = process.env, envFile = path.join(projectRoot, '.env') }: LoadOptions = {}): Config {
  const fileEnv = readEnvFile(envFile);
  const home = env.HOME || os.homedir();
  const get = (k: SettingName): string | undefined => {
    const v = (env[k] ?? fileEnv[k])?.trim();
    if (!v) return undefined;
    return /^(CACHE_DIR|ISTIO_HOME|ISTIO_OVERLAY)$/.test(k) ? v.replace(/^~(?=\/|$)/, home) : v;
  };
  const errors: string[] = [];
  const warnings: string[] = [];
  const bad = (k: SettingName, v: string, why: string) => errors.push(`${k}=${JSON.stringify(v)}: ${why}`);

  const istioVersion = get('ISTIO_VERSION') ?? pins.istio;
  const iv = semver.exec(istioVersion);
  if (!iv) bad('ISTIO_VERSION', istioVersion, 'expected a release like 1.31.1 (no leading v)');

  const kubernetesVersion = get('KUBERNETES_VERSION') ?? pins.kubernetes;
  const kv = /^v(\d+)\.(\d+)\.(\d+)$/.exec(kubernetesVersion);
  if (!kv) bad('KUBERNETES_VERSION', kubernetesVersion, 'expected a version like v1.36.3');
  if (iv && kv) {
    const support = kubernetesSupport(istioVersion, kubernetesVersion);
    if (support === 'unknown') warnings.push(`Istio ${iv[1]}.${iv[2]} is not in the support table; Kubernetes ${kubernetesVersion} is not checked against it`);
    else if (support) bad('KUBERNETES_VERSION', kubernetesVersion, support);
  }

  const istioProfile = get('ISTIO_PROFILE') ?? 'demo';
  if (!(istioProfiles as readonly string[]).includes(istioProfile)) bad('ISTIO_PROFILE', istioProfile, `expected one of ${istioProfiles.join(', ')}`);

  const istioOverlay = get('ISTIO_OVERLAY');
  if (istioOverlay && !existsSync(istioOverlay)) bad('ISTIO_OVERLAY', istioOverlay, 'no such file');

  const cluster = get('CLUSTER') ?? 'minikube';
  if (cluster !== 'minikube' && cluster !== 'existing') bad('CLUSTER', cluster, "expected 'minikube' or 'existing'");

  const profile = get('MINIKUBE_PROFILE') ?? 'fun-with-istio';
  if (!dnsLabel.test(profile)) bad('MINIKUBE_PROFILE', profile, 'expected lower-case letters, digits and dashes');

  const driver = get('MINIKUBE_DRIVER') ?? 'docker';
  if (!(minikubeDrivers as readonly string[]).includes(driver)) bad('MINIKUBE_DRIVER', driver, `expected one of ${minikubeDrivers.join(', ')}`);

  const integer = (k: SettingName, fallback: number, min: number, unit: string): number => {
    const raw = get(k);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) bad(k, raw, `expected a whole number of ${unit}`);
    else if (Number(raw) < min) bad(k, raw, `Istio needs at least ${min} ${unit}`);
    return Number(raw);
  };
  const memoryMiB = integer('MINIKUBE_MEMORY', minimums.memoryMiB, minimums.memoryMiB, 'MiB');
  const cpus = integer('MINIKUBE_CPUS', minimums.cpus, minimums.cpus, 'CPUs');

  const kubeContext = get('KUBE_CONTEXT');
  if (cluster === 'existing' && !kubeContext) errors.push('KUBE_CONTEXT: required with CLUSTER=existing (see `kubectl config get-contexts`)');
  if (cluster === 'minikube' && kubeContext) errors.push(`KUBE_CONTEXT=${JSON.stringify(kubeContext)}: only used with CLUSTER=existing; with minikube the context is MINIKUBE_PROFILE`);

  const sampleNamespace = get('SAMPLE_NAMESPACE') ?? 'fun-with-istio';
  if (!dnsLabel.test(sampleNamespace)) bad('SAMPLE_NAMESPACE', sampleNamespace, 'expected a namespace name');
  if (sampleNamespace === names.istioNamespace) bad('SAMPLE_NAMESPACE', sampleNamespace, `the sample must not run in ${names.istioNamespace}`);

  const waitTimeout = get('WAIT_TIMEOUT') ?? '300s';
  if (!/^\d+(s|m|h)$/.test(waitTimeout)) bad('WAIT_TIMEOUT', waitTimeout, 'expected a duration like 300s or 10m');

  const releaseUrl = get('ISTIO_RELEASE_URL') ?? defaultReleaseUrl;
  if (!/^https?:\/\/\S+$/.test(releaseUrl)) bad('ISTIO_RELEASE_URL', releaseUrl, 'expected an http(s) URL');

  const xdgCache = env.XDG_CACHE_HOME || path.join(home, '.cache');
  const cacheDir = path.resolve(get('CACHE_DIR') ?? path.join(xdgCache, 'fun-with-istio'));

  const givenHome = get('ISTIO_HOME');
  if (givenHome && !existsSync(path.join(givenHome, 'bin', 'istioctl')))
    bad('ISTIO_HOME', givenHome, 'not an unpacked Istio release (no bin/istioctl)');
  const istioHome = path.resolve(givenHome ?? path.join(cacheDir, 'releases', `istio-${istioVersion}`));

  let asset = '';
  if (!givenHome && iv) {
    try {
      asset = platformAsset(istioVersion);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }

  if (errors.length) throw new UsageError(errors.join('\n'));
  const base = `${releaseUrl.replace(/\/+$/, '')}/${istioVersion}/${asset}`;
  return {
    istioVersion,
    kubernetesVersion,
    istioProfile,
    istioOverlay: istioOverlay && path.resolve(istioOverlay),
    cluster: cluster as Config['cluster'],
    context: cluster === 'existing' ? kubeContext! : profile,
    minikube: { profile, driver, memoryMiB, cpus, version: pins.minikube },
    kubeconfig: get('KUBECONFIG'),
    istioHome,
    istioHomeGiven: Boolean(givenHome),
    istioctl: path.join(istioHome, 'bin', 'istioctl'),
    release: { url: base, shaUrl: `${base}.sha256`, asset, archive: path.join(cacheDir, 'downloads', asset) },
    cacheDir,
    certsDir: path.join(cacheDir, 'certs'),
    logDir: path.join(cacheDir, 'logs'),
    injectDir: path.join(cacheDir, 'inject'),
    sampleNamespace,
    waitTimeout,
    warnings,
  };
}
