// Names of what the tool creates or reads, and where the project's own files are.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Names of the objects the tool creates or reads. */
export const names = {
  istioNamespace: 'istio-system',
  cacertsSecret: 'cacerts',
  injectorWebhook: 'istio-sidecar-injector',
  /** ConfigMaps holding the injector's template and values, and the mesh config (read by kube-inject). */
  injectorConfigMap: 'istio-sidecar-injector',
  meshConfigMap: 'istio',
  istiod: 'istiod',
  /** Sidecar injection: the namespace label the injector selects on, and the pod label that overrides it. */
  injection: {
    namespaceLabel: 'istio-injection',
    podLabel: 'sidecar.istio.io/inject',
    /** Annotation on the sample namespace once the injection chapter has been verified end to end. */
    verifiedAnnotation: 'fun-with-istio/injection-verified',
    /** Annotation saying the tool (not the user) set the namespace's injection label, so teardown may remove it. */
    labelSetByToolAnnotation: 'fun-with-istio/injection-labelled',
  },
  sidecarContainer: 'istio-proxy',
  sampleApp: 'sleep',
  /**
   * The tracing extension provider and the mesh-wide Telemetry that selects it. Zipkin's Service `zipkin` (the
   * Jaeger addon defines the same Service, so either backend receives the spans).
   */
  /** The traffic chapter: httpbin in its own injected namespace, called by a load-generator Job. */
  traffic: { namespace: 'fun-with-istio-traffic', server: 'httpbin', port: 8000, job: 'traffic' },
  /**
   * istio.io's getting-started app and tasks: Bookinfo in its own injected namespace, reached through the ingress
   * gateway; the mTLS task's client outside the mesh lives in a namespace without injection.
   */
  bookinfo: {
    namespace: 'bookinfo',
    outside: 'fun-with-istio-outside',
    ingress: { service: 'istio-ingressgateway', port: 80 },
    client: 'curl',
    peerAuthentication: 'default',
  },
  /**
   * The ambient track: the namespace label that enrols pods (no restart), the node agents the ambient profile
   * installs, and Bookinfo's Gateway-API gateway (its Service is `<gateway>-istio`, made ClusterIP as istio.io does).
   */
  ambient: {
    dataplaneLabel: 'istio.io/dataplane-mode',
    ztunnel: 'ztunnel',
    cniAgent: 'istio-cni-node',
    gateway: 'bookinfo-gateway',
    /** The namespace's waypoint (istioctl's default name), its Gateway and its service account. */
    waypoint: 'waypoint',
    useWaypointLabel: 'istio.io/use-waypoint',
    gatewayService: 'bookinfo-gateway-istio',
    serviceTypeAnnotation: 'networking.istio.io/service-type',
  },
  /**
   * istio.io's canary upgrade: the revision label namespaces and control planes carry, and the revision tag the
   * upgrade chapters put Bookinfo's namespace on and move from one control plane to the other.
   */
  upgrade: { revisionLabel: 'istio.io/rev', tag: 'prod-stable', sidecarStatus: 'sidecar.istio.io/status' },
  /** The Gateway API CRD whose presence istio.io checks before installing them. */
  gatewayApiCrd: 'gateways.gateway.networking.k8s.io',
  tracing: { provider: 'zipkin', service: 'zipkin.istio-system.svc.cluster.local', port: 9411, telemetry: 'mesh-default' },
  /** Label put on everything the tool creates, so teardown removes only that. */
  managedBy: { key: 'app.kubernetes.io/managed-by', value: 'fun-with-istio' },
} as const;

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const manifestsDir = path.join(projectRoot, 'manifests');
export const patchesDir = path.join(projectRoot, 'patches');

/** This tool's own version (package.json). */
export const toolVersion: string = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;
