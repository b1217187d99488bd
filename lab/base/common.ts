// Shared paths and version constants of the test lab (npm run lab:*). Versions come only from ../tasks/config.ts.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayApi, pins } from '../../tasks/config.ts';

/**
 * The lab's pins: the product's Kubernetes and Istio lines, built from the Go module proxy. The proxy serves no
 * Istio release tag, only pseudo-versions: `istioModule` is the release-1.31 commit nearest to the Istio pin it serves.
 */
export const labPins = {
  kubernetes: pins.kubernetes,
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
  istioModule: 'v0.0.0-20260827124520-eed52ebb66ad',
} as const;

/** The 12-hex commit of the Istio pseudo-version (release-1.31 branch). */
export const istioCommit: string = labPins.istioModule.slice(labPins.istioModule.lastIndexOf('-') + 1);

/** The Istio minor line of the pin (1.31.1 -> 1.31); build.ts checks it against the module's VERSION file. */
export const istioMinor: string = pins.istio.split('.').slice(0, 2).join('.');

/**
 * The one version string stamped into istioctl/pilot-discovery and the release's charts.
 * Istio's own CI names a build of an untagged commit `<VERSION file>.0-alpha.<sha>` (prow/release-commit.sh);
 * the proxy gives only the 12-hex short sha. It is not the 1.31.1 tag, so it does not claim to be. See lab/NOTES.md.
 */
export const ISTIO_LAB_VERSION = `${istioMinor}.0-alpha.${istioCommit}`;

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

export const labKey: string =
  `k8s-${labPins.kubernetes}_istio-${istioCommit}_` +
  createHash('sha256').update(JSON.stringify({ labPins, ISTIO_LAB_VERSION, recipe })).digest('hex').slice(0, 8);

const xdgCache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
export const labCacheDir = path.join(xdgCache, 'fun-with-istio', 'lab', labKey);
export const binDir = path.join(labCacheDir, 'bin');
export const srcDir = path.join(labCacheDir, 'src');
export const istioHome = path.join(labCacheDir, `istio-${ISTIO_LAB_VERSION}`);

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
