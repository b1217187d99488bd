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

export interface Config {
  istioVersion: string;
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
  // An ISTIO_HOME says which Istio it holds: that is the version to install and to compare with.
  const homeVersion = v.ISTIO_HOME ? releaseVersion(v.ISTIO_HOME) : undefined;
  if (homeVersion && v.ISTIO_VERSION !== homeVersion) {
    const given = env.ISTIO_VERSION?.trim() || fileEnv.ISTIO_VERSION?.trim();
    if (given) problems.push(`ISTIO_VERSION=${JSON.stringify(given)}: ISTIO_HOME holds Istio ${homeVersion} (its manifest.yaml)`);
    else v.ISTIO_VERSION = homeVersion;
  }
  const warnings: string[] = [];

  // A value that failed to parse is missing here: check pairs only when both parsed.
  if (v.ISTIO_VERSION && v.KUBERNETES_VERSION) {
    const support = kubernetesSupport(v.ISTIO_VERSION, v.KUBERNETES_VERSION);
    const line = v.ISTIO_VERSION.split('.').slice(0, 2).join('.');
    if (support === 'unknown')
      warnings.push(`Istio ${line} is not in the support table; Kubernetes ${v.KUBERNETES_VERSION} is not checked against it`);
    else if (support) problems.push(`KUBERNETES_VERSION=${JSON.stringify(v.KUBERNETES_VERSION)}: ${support}`);
  }
  const cluster = clusterOf(v, problems);
  modeProblems(v, problems);

  let asset = '';
  if (!v.ISTIO_HOME && v.ISTIO_VERSION) {
    try {
      asset = platformAsset(v.ISTIO_VERSION);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length || !cluster) throw new UsageError(problems.join('\n'));

  const istioVersion = v.ISTIO_VERSION;
  const cacheDir = v.CACHE_DIR;
  const istioHome = v.ISTIO_HOME ?? path.join(cacheDir, 'releases', `istio-${istioVersion}`);
  const base = `${v.ISTIO_RELEASE_URL.replace(/\/+$/, '')}/${istioVersion}/${asset}`;
  const crds = v.GATEWAY_API_CRDS;
  return {
    istioVersion,
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
    istioHome,
    istioctl: path.join(istioHome, 'bin', 'istioctl'),
    release: v.ISTIO_HOME
      ? { kind: 'given' }
      : { kind: 'download', url: base, shaUrl: `${base}.sha256`, asset, archive: path.join(cacheDir, 'downloads', asset) },
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
