// Shared paths and version constants of the test lab (npm run lab:*). Versions come only from ../tasks/config.ts.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayApi, pins } from '../../tasks/config.ts';

/**
 * The lab's pins: the product's Kubernetes and Istio lines, built from the Go module proxy. The proxy serves no
 * Istio release tag, only pseudo-versions: `istioModule` is the release-1.31 commit nearest to the Istio pin it serves,
 * `istioPreviousModule` the release-1.30 commit (after 1.30.3) for the previous line (N-1, the upgrade chapters).
 */
export const labPins = {
  kubernetes: pins.kubernetes,
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
  istioModule: 'v0.0.0-20260827124520-eed52ebb66ad',
  istioPreviousModule: 'v0.0.0-20260826214018-9739e10eb9d7',
} as const;

/** The 12-hex commit of an Istio pseudo-version. */
export const commitOf = (pseudoVersion: string): string => pseudoVersion.slice(pseudoVersion.lastIndexOf('-') + 1);
/** The minor line of an Istio release (1.31.1 -> 1.31); build.ts checks it against the module's VERSION file. */
export const minorOf = (release: string): string => release.split('.').slice(0, 2).join('.');
/**
 * The version string the lab stamps into an Istio build (binaries, charts, image tags): Istio's own CI names a build of
 * an untagged commit `<VERSION file>.0-alpha.<sha>` (prow/release-commit.sh); the proxy gives only the 12-hex short
 * sha. It is not the pinned patch release, so it does not claim to be. See lab/NOTES.md.
 */
export const labIstioVersion = (minor: string, commit: string): string => `${minor}.0-alpha.${commit}`;

/** The 12-hex commit of the Istio pseudo-version (release-1.31 branch). */
export const istioCommit: string = commitOf(labPins.istioModule);

/** The Istio minor line of the pin (1.31.1 -> 1.31); build.ts checks it against the module's VERSION file. */
export const istioMinor: string = minorOf(pins.istio);

/** The one version string stamped into istioctl/pilot-discovery and the release's charts (N). */
export const ISTIO_LAB_VERSION = labIstioVersion(istioMinor, istioCommit);

/** The previous line's (N-1) version string, derived the same way: `1.30.0-alpha.9739e10eb9d7`. */
export const ISTIO_LAB_PREVIOUS_VERSION = labIstioVersion(minorOf(pins.istioPrevious), commitOf(labPins.istioPreviousModule));

export const istioDockerHub = 'docker.io/istio';

/** The lab's one (kwok) Node. */
export const nodeName = 'lab-node';

/**
 * minikube for the command audit (test/e2e/audit-commands.test.ts). The pin is `pins.minikube` (v1.39.0), but the Go module
 * proxy serves k8s.io/minikube only up to v1.38.1 ("v1.39.0: not available"; no v1.39.0 tag is reachable), so the lab
 * builds the nearest served release. Deliberately not part of `labKey`: adding it must not invalidate the ~22 min
 * build of the other binaries; build.ts rebuilds minikube alone when this changes (bin/minikube.version).
 */
export const minikubeModuleVersion = 'v1.38.1';

/**
 * Go modules of the real-node lab's images, each at the version the product's manifests name: CoreDNS as kubeadm v1.36
 * pins it (cmd/kubeadm/app/constants CoreDNSVersion), go-httpbin as the release's samples/httpbin/httpbin.yaml tags it.
 * Outside `labKey` like minikube: a change rebuilds that binary alone (`<bin>.version`).
 */
export const imageModulePins = {
  coredns: { module: 'github.com/coredns/coredns', version: 'v1.14.2' },
  httpbin: { module: 'github.com/mccutchen/go-httpbin/v2', version: 'v2.15.0' },
  // samples/addons/prometheus.yaml: docker.io/prom/prometheus:v3.10.0 (module v0.310.0) and its config-reloader sidecar.
  prometheus: { module: 'github.com/prometheus/prometheus', version: 'v0.310.0' },
  // Its nested module pkg/client has no v0.89.0 on the proxy or in the checksum database (404); v0.88.0 is the nearest
  // served, so the v0.89.0 reloader is built with that one module a minor older (lab/NOTES.md).
  reloader: {
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.89.0',
    replaces: [
      'github.com/prometheus-operator/prometheus-operator/pkg/client => github.com/prometheus-operator/prometheus-operator/pkg/client v0.88.0',
    ],
  },
} as const;

/** Prometheus's release version for a module version: v0.310.0 is 3.10.0 (its VERSION file). */
export const prometheusRelease = (moduleVersion: string): string => {
  const minor = Number(moduleVersion.split('.')[1]);
  return `v${Math.floor(minor / 100)}.${minor % 100}.${moduleVersion.split('.')[2]}`;
};

/** Bump when the build recipe changes in a way that changes the binaries. */
const recipe = 1;

/**
 * One Istio line the lab builds (N, and N-1 for the upgrade chapters): one code path in build.ts, parameterised by this.
 * `suffix` names its wrapper module (`istio<suffix>`), source copy, binaries (`istioctl<suffix>`) and nothing else.
 */
export interface IstioLine {
  /** 'current' is the product's `pins.istio` line (N); 'previous' is `pins.istioPrevious` (N-1). */
  id: 'current' | 'previous';
  /** The istio.io/istio pseudo-version built. */
  module: string;
  commit: string;
  /** What the module's VERSION file must say. */
  minor: string;
  /** The lab's version string for it (binaries, charts, image tags). */
  version: string;
  /** '' for N; `-<minor>` for N-1 (wrapper module `istio-1.30`, binaries `istioctl-1.30`, `pilot-discovery-1.30`). */
  suffix: string;
  /**
   * Replace lines for its wrapper module: versions the module requires that the Go module proxy does not serve, each
   * mapped to the nearest one it serves (lab/NOTES.md, "The previous Istio").
   */
  replaces: readonly string[];
}

const line = (id: IstioLine['id'], release: string, module: string, suffix: string, replaces: readonly string[]): IstioLine => ({
  id,
  module,
  commit: commitOf(module),
  minor: minorOf(release),
  version: labIstioVersion(minorOf(release), commitOf(module)),
  suffix,
  replaces,
});

/** N then N-1. */
export const istioLines: readonly IstioLine[] = [
  line('current', pins.istio, labPins.istioModule, '', []),
  line('previous', pins.istioPrevious, labPins.istioPreviousModule, `-${minorOf(pins.istioPrevious)}`, [
    // 9739e10eb9d7 requires 6ae4ab07bb06, which the proxy does not serve: the 1.31 build's pin.
    'github.com/agentgateway/agentgateway/api => github.com/agentgateway/agentgateway/api v0.0.0-20260501213430-773586679f1c',
    // ... and go-control-plane at 98966259b99a (both nested modules): the nearest served commit, ca8ce173c36f.
    'github.com/envoyproxy/go-control-plane/envoy => github.com/envoyproxy/go-control-plane/envoy v1.37.1-0.20260713214202-ca8ce173c36f',
    'github.com/envoyproxy/go-control-plane/contrib => github.com/envoyproxy/go-control-plane/contrib v1.36.1-0.20260713214202-ca8ce173c36f',
    // ... and pseudo-versions of istio.io/api and istio.io/client-go on release-1.30: their 1.30 tags.
    'istio.io/api => istio.io/api v1.30.3',
    'istio.io/client-go => istio.io/client-go v1.30.4',
  ]),
];
export const currentIstio: IstioLine = istioLines[0];
export const previousIstio: IstioLine = istioLines[1];

export const labKey: string =
  `k8s-${labPins.kubernetes}_istio-${istioCommit}_` +
  createHash('sha256').update(JSON.stringify({ labPins, ISTIO_LAB_VERSION, istioLines, recipe })).digest('hex').slice(0, 8);

const xdgCache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
export const labCacheDir = path.join(xdgCache, 'fun-with-istio', 'lab', labKey);
export const binDir = path.join(labCacheDir, 'bin');
export const srcDir = path.join(labCacheDir, 'src');
/** An Istio line's unpacked-release look-alike (bin/istioctl, manifests/, samples/, tools/, manifest.yaml). */
export const istioHomeOf = (l: IstioLine): string => path.join(labCacheDir, `istio-${l.version}`);
export const istioHome = istioHomeOf(currentIstio);
/** The previous line's release (N-1): `.lab/env` ISTIO_PREVIOUS_HOME. */
export const istioPreviousHome = istioHomeOf(previousIstio);

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const stateDir = path.join(projectRoot, '.lab');
export const logsDir = path.join(stateDir, 'logs');
/** How a shell takes the lab's settings (run from the project's root): what `lab:up` prints and the docs say. */
export const loadEnvLine = 'set -a; . .lab/env; set +a';

/**
 * The Gateway API CRDs as their release file (standard-install.yaml), joined from the gateway-api module the lab's
 * Istio builds against: the lab's GATEWAY_API_CRDS, where the product would download the release's.
 */
export const gatewayApiFile = path.join(labCacheDir, `gateway-api-${gatewayApi.version}-${gatewayApi.asset}`);

export const bin = (name: string): string => path.join(binDir, name);

export const goEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  CGO_ENABLED: '0',
  GOTOOLCHAIN: 'local',
  GOFLAGS: '-buildvcs=false',
});
