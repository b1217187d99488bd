// The run's configuration: every setting parsed (settings.ts), then what depends on several of them. Bad values
// are all named in one UsageError (exit 2) before anything runs.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../lib/base/errors.ts';
import type { Addon } from './addons.ts';
import { readEnvFile } from './env-file.ts';
import { projectRoot } from './names.ts';
import { gatewayApi, kubernetesSupport, type MeshModeName, pins } from './pins.ts';
import { type Env, readSettings, type SettingValues } from './settings.ts';

/** The tool's own minikube profile, or a context the user chose. */
export type ClusterConfig =
  | { kind: 'minikube'; profile: string; driver: string; memoryMiB: number; cpus: number; version: string }
  | { kind: 'existing'; context: string };

/** Where istioctl and the samples come from: the pinned release, downloaded and checked, or ISTIO_HOME. */
export type ReleaseSource = { kind: 'download'; url: string; shaUrl: string; archive: string; asset: string } | { kind: 'given' };

/** Where the Gateway API CRDs come from: the pinned release file (kept in the cache once verified), or a given file. */
export type GatewayApiSource = { kind: 'download'; url: string; file: string } | { kind: 'given'; file: string };

/** An Istio release the tool installs: its version, where it is unpacked, its istioctl, and where it comes from. */
export interface IstioRelease {
  version: string;
  istioHome: string;
  istioctl: string;
  release: ReleaseSource;
}

export interface Config {
  istioVersion: string;
  /** The older release the upgrade chapters start from (N-1 or N-2); `unusable` says why it cannot (set ISTIO_PREVIOUS_VERSION). */
  previous: IstioRelease & { unusable?: string };
  /** Sidecar (the tutorial's track) or ambient (istio.io's ambient track). */
  mode: MeshModeName;
  kubernetesVersion: string;
  istioProfile: string;
  istioOverlay?: string;
  /** The Gateway API CRDs the ambient track installs when the cluster has none. */
  gatewayApiCrds: GatewayApiSource;
  cluster: ClusterConfig;
  /** The kube context every kubectl/istioctl call is pinned to. */
  context: string;
  kubeconfig?: string;
  /** The unpacked release directory (downloaded into the cache, or ISTIO_HOME). */
  istioHome: string;
  istioctl: string;
  release: ReleaseSource;
  cacheDir: string;
  certsDir: string;
  logDir: string;
  /** How many run logs to keep. */
  logKeep: number;
  /** Injector configuration fetched for kube-inject, per context. */
  injectDir: string;
  sampleNamespace: string;
  /** How many requests the traffic chapter sends. */
  trafficRequests: number;
  shiftRequests: number;
  /** The addons to install, in install order. */
  addons: readonly Addon[];
  /** Where the mesh's traces go (only with a tracing addon), and which share of requests is traced. */
  tracing: { to: 'zipkin'; sampling: number } | { to: 'off' };
  waitTimeout: string;
  /** Non-fatal remarks about the configuration (printed before running). */
  warnings: string[];
}

export interface LoadOptions {
  env?: Env;
  envFile?: string;
}

/** The `version:` an unpacked release's manifest.yaml states, if it has one. */
function releaseVersion(home: string): string | undefined {
  const file = path.join(home, 'manifest.yaml');
  return existsSync(file) ? /^version:\s*(\S+)\s*$/m.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
}

function platformAsset(version: string): string {
  const osName = ({ linux: 'linux', darwin: 'osx' } as Record<string, string>)[process.platform];
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
  if (!osName || !arch)
    throw new UsageError(`no Istio release for ${process.platform}/${process.arch}: set ISTIO_HOME to an unpacked release`);
  return `istio-${version}-${osName}-${arch}.tar.gz`;
}

/** Environment wins over `.env`; every bad value is named in one UsageError (exit 2). */
export function loadConfig({ env = process.env, envFile = path.join(projectRoot, '.env') }: LoadOptions = {}): Config {
  const fileEnv = readEnvFile(envFile);
  const { values: v, problems } = readSettings(env, fileEnv);
  const given = (name: string) => env[name]?.trim() || fileEnv[name]?.trim();
  v.ISTIO_VERSION = versionOfHome('ISTIO_VERSION', v.ISTIO_VERSION, v.ISTIO_HOME, given, problems);
  v.ISTIO_PREVIOUS_VERSION = versionOfHome(
    'ISTIO_PREVIOUS_VERSION',
    v.ISTIO_PREVIOUS_VERSION,
    v.ISTIO_PREVIOUS_HOME,
    given,
    problems,
  );
  const warnings: string[] = [];

  // A value that failed to parse is missing here: check pairs only when both parsed.
  if (v.ISTIO_VERSION && v.KUBERNETES_VERSION) {
    const support = kubernetesSupport(v.ISTIO_VERSION, v.KUBERNETES_VERSION);
    const line = v.ISTIO_VERSION.split('.').slice(0, 2).join('.');
    if (support === 'unknown')
      warnings.push(`Istio ${line} is not in the support table; Kubernetes ${v.KUBERNETES_VERSION} is not checked against it`);
    else if (support) problems.push(`KUBERNETES_VERSION=${JSON.stringify(v.KUBERNETES_VERSION)}: ${support}`);
  }
  // Only a value the user gave stops every command; the pinned one under another ISTIO_VERSION stops the upgrade only.
  let unusable: string | undefined;
  if (v.ISTIO_VERSION && v.ISTIO_PREVIOUS_VERSION) {
    const why = upgradeProblem(v.ISTIO_PREVIOUS_VERSION, v.ISTIO_VERSION, v.KUBERNETES_VERSION);
    const line = why && `ISTIO_PREVIOUS_VERSION=${JSON.stringify(v.ISTIO_PREVIOUS_VERSION)}: ${why}`;
    if (line && (given('ISTIO_PREVIOUS_VERSION') || given('ISTIO_PREVIOUS_HOME'))) problems.push(line);
    else unusable = line;
  }
  const cluster = clusterOf(v, problems);
  modeProblems(v, problems);

  const releaseUrl = v.ISTIO_RELEASE_URL?.replace(/\/+$/, '');
  const current = releaseOf(v.ISTIO_VERSION, v.ISTIO_HOME, v.CACHE_DIR, releaseUrl, problems);
  // Only the upgrade chapters use it: no release for this platform stops them alone (ISTIO_PREVIOUS_HOME is the way).
  const previousProblems: string[] = [];
  const previous = releaseOf(v.ISTIO_PREVIOUS_VERSION, v.ISTIO_PREVIOUS_HOME, v.CACHE_DIR, releaseUrl, previousProblems);
  unusable ??= previousProblems[0]?.replace('set ISTIO_HOME', 'set ISTIO_PREVIOUS_HOME');
  if (problems.length || !cluster) throw new UsageError(problems.join('\n'));

  const cacheDir = v.CACHE_DIR;
  const crds = v.GATEWAY_API_CRDS;
  return {
    istioVersion: current.version,
    previous: { ...previous, unusable },
    mode: v.ISTIO_MODE,
    gatewayApiCrds:
      crds.kind === 'file'
        ? { kind: 'given', file: crds.file }
        : {
            kind: 'download',
            url: crds.url,
            file: path.join(cacheDir, 'downloads', `gateway-api-${gatewayApi.version}-${gatewayApi.asset}`),
          },
    kubernetesVersion: v.KUBERNETES_VERSION,
    istioProfile: v.ISTIO_PROFILE,
    istioOverlay: v.ISTIO_OVERLAY,
    cluster,
    context: cluster.kind === 'existing' ? cluster.context : cluster.profile,
    kubeconfig: v.KUBECONFIG,
    istioHome: current.istioHome,
    istioctl: current.istioctl,
    release: current.release,
    cacheDir,
    certsDir: path.join(cacheDir, 'certs'),
    logDir: path.join(cacheDir, 'logs'),
    logKeep: v.LOG_KEEP,
    injectDir: path.join(cacheDir, 'inject'),
    sampleNamespace: v.SAMPLE_NAMESPACE,
    trafficRequests: v.TRAFFIC_REQUESTS,
    shiftRequests: v.SHIFT_REQUESTS,
    addons: v.ADDONS,
    tracing:
      v.TRACING === 'off' || !v.ADDONS.some((a) => a.traces) ? { to: 'off' } : { to: 'zipkin', sampling: v.TRACING_SAMPLING },
    waitTimeout: v.WAIT_TIMEOUT,
    warnings,
  };
}

/**
 * The version to install from `version` and an ISTIO_HOME-like `home`: a home says which Istio it holds (its
 * manifest.yaml), and that is the version unless one was given that differs, which is a problem.
 */
function versionOfHome(
  name: string,
  version: string,
  home: string | undefined,
  given: (name: string) => string | undefined,
  problems: string[],
): string {
  const held = home ? releaseVersion(home) : undefined;
  if (!held || held === version) return version;
  const asked = given(name);
  if (asked) problems.push(`${name}=${JSON.stringify(asked)}: ${homeSetting[name]} holds Istio ${held} (its manifest.yaml)`);
  return held;
}
const homeSetting: Record<string, string> = { ISTIO_VERSION: 'ISTIO_HOME', ISTIO_PREVIOUS_VERSION: 'ISTIO_PREVIOUS_HOME' };

/** Where `version` is unpacked and comes from: `home` when given, else downloaded from `releaseUrl` into the cache. */
function releaseOf(
  version: string,
  home: string | undefined,
  cacheDir: string,
  releaseUrl: string,
  problems: string[],
): IstioRelease {
  const istioHome = home ?? path.join(cacheDir ?? '', 'releases', `istio-${version}`);
  const istioctl = path.join(istioHome, 'bin', 'istioctl');
  if (home || !version) return { version, istioHome, istioctl, release: { kind: 'given' } };
  let asset = '';
  try {
    asset = platformAsset(version);
  } catch (e) {
    if (!problems.includes((e as Error).message)) problems.push((e as Error).message);
  }
  const url = `${releaseUrl}/${version}/${asset}`;
  const archive = path.join(cacheDir ?? '', 'downloads', asset);
  return { version, istioHome, istioctl, release: { kind: 'download', url, shaUrl: `${url}.sha256`, asset, archive } };
}

/**
 * Why `previous` cannot start a canary upgrade to `current`, if it cannot: it must be one or two minors older (what
 * istio.io supports for revisions) and run on the cluster's Kubernetes.
 */
export function upgradeProblem(previous: string, current: string, kubernetes: string | undefined): string | undefined {
  const line = (v: string) => (/^(\d+)\.(\d+)/.exec(v) ?? []).slice(1).map(Number);
  const [pMajor, pMinor] = line(previous);
  const [cMajor, cMinor] = line(current);
  if (pMinor === undefined || cMinor === undefined) return `cannot tell the Istio lines of ${previous} and ${current} apart`;
  const gap = cMinor - pMinor;
  if (pMajor !== cMajor || gap < 1 || gap > 2)
    return `the upgrade goes to Istio ${cMajor}.${cMinor} from one or two minors before it (${cMajor}.${cMinor - 1} or ${cMajor}.${cMinor - 2})`;
  const support = kubernetes ? kubernetesSupport(previous, kubernetes) : undefined;
  return support && support !== 'unknown' ? `${support}, not ${kubernetes}` : undefined;
}

/** The profile must carry the mode's data plane: ambient needs ztunnel and the CNI agent, which only its profile has. */
function modeProblems(v: SettingValues, problems: string[]): void {
  if (!v.ISTIO_MODE || !v.ISTIO_PROFILE) return;
  if (v.ISTIO_MODE === 'ambient' && v.ISTIO_PROFILE !== 'ambient')
    problems.push(
      `ISTIO_PROFILE=${JSON.stringify(v.ISTIO_PROFILE)}: ISTIO_MODE=ambient installs the ambient profile (istiod, istio-cni, ztunnel); unset ISTIO_PROFILE`,
    );
  if (v.ISTIO_MODE === 'sidecar' && v.ISTIO_PROFILE === 'ambient')
    problems.push(
      'ISTIO_PROFILE="ambient": set ISTIO_MODE=ambient for the ambient track (the sidecar chapters need the ingress gateway)',
    );
}

/** The cluster the settings describe; undefined (with the problem added) when they do not describe one. */
function clusterOf(v: SettingValues, problems: string[]): ClusterConfig | undefined {
  if (v.CLUSTER === 'existing') {
    if (v.KUBE_CONTEXT) return { kind: 'existing', context: v.KUBE_CONTEXT };
    problems.push('KUBE_CONTEXT: required with CLUSTER=existing (see `kubectl config get-contexts`)');
    return undefined;
  }
  if (v.KUBE_CONTEXT)
    problems.push(
      `KUBE_CONTEXT=${JSON.stringify(v.KUBE_CONTEXT)}: only used with CLUSTER=existing; with minikube the context is MINIKUBE_PROFILE`,
    );
  return {
    kind: 'minikube',
    profile: v.MINIKUBE_PROFILE,
    driver: v.MINIKUBE_DRIVER,
    memoryMiB: v.MINIKUBE_MEMORY,
    cpus: v.MINIKUBE_CPUS,
    version: pins.minikube,
  };
}

type Minikube = Extract<ClusterConfig, { kind: 'minikube' }>;

/** The minikube cluster's settings, when the cluster is the tool's own minikube. */
export const minikubeOf = (config: Pick<Config, 'cluster'>): Minikube | undefined =>
  config.cluster.kind === 'minikube' ? config.cluster : undefined;

/** The same, for code that only runs with the tool's own minikube. */
export function ownMinikube(config: Pick<Config, 'cluster'>): Minikube {
  if (config.cluster.kind !== 'minikube') throw new Error('only with CLUSTER=minikube');
  return config.cluster;
}
