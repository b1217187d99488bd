// The tutorial's pod-spec requirements, checked: Service ports named `<protocol>[-<suffix>]`, and an `app` label on
// every workload. The port rule follows Istio's own protocol detection and its level: istioctl analyze IST0118 is
// information (Istio sniffs the protocol of a port it cannot name). The app-label rule is one Istio does not check.
import type { K8sObject } from '../kube/manifests.ts';

export interface Finding {
  source: string;
  object: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
}

const protocols = ['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql'];
const kubernetesAppProtocols = ['kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss'];
// Istio treats these as TCP when the name says nothing (SMTP, DNS, MySQL, MongoDB).
const wellKnownPorts = new Set([25, 53, 3306, 27017]);

interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

/** The protocol Istio derives for a Service port, or undefined when it cannot (IST0118). */
export function portProtocol(p: ServicePort): string | undefined {
  if (p.protocol === 'UDP') return 'udp';
  const name = p.appProtocol ?? p.name ?? '';
  if (p.appProtocol && kubernetesAppProtocols.includes(name)) return name;
  if (name.toLowerCase().startsWith('grpc-web')) return 'grpc-web';
  const prefix = name.split('-')[0].toLowerCase();
  if (protocols.includes(prefix)) return prefix;
  return wellKnownPorts.has(Number(p.port)) ? 'tcp' : undefined;
}

const podTemplate = (o: K8sObject): { metadata?: { labels?: Record<string, string> } } | undefined => {
  type Template = { metadata?: { labels?: Record<string, string> } };
  const spec = o.spec as { template?: Template; jobTemplate?: { spec?: { template?: Template } } } | undefined;
  switch (o.kind) {
    case 'Pod':
      return o as never;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return spec?.template;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template;
    default:
      return undefined;
  }
};

const workloadNameLabels = ['app', 'app.kubernetes.io/name', 'service.istio.io/canonical-name'];

export function lint(docs: K8sObject[], source: string): Finding[] {
  const findings: Finding[] = [];
  const apps = new Map<string, string>();
  for (const o of docs) {
    const object = `${o.kind}/${o.metadata?.name ?? '?'}`;
    const add = (severity: Finding['severity'], message: string) => findings.push({ source, object, severity, message });
    const labels = o.metadata?.labels ?? {};
    if (o.kind === 'Service' && !('istio' in labels) && labels.release !== 'istio') {
      const ports = (o.spec as { ports?: ServicePort[] } | undefined)?.ports ?? [];
      for (const p of ports) {
        if (portProtocol(p)) continue;
        const what = p.appProtocol ? `appProtocol '${p.appProtocol}'` : p.name ? `name '${p.name}'` : 'no name';
        add(
          'info',
          `port ${p.port} has ${what} (Istio sniffs its protocol, IST0118); name it <protocol>[-<suffix>] with protocol one of ${protocols.join(', ')} (e.g. http, http2-foo)`,
        );
      }
    }
    const template = podTemplate(o);
    if (template) {
      const podLabels = template.metadata?.labels ?? {};
      if (!workloadNameLabels.some((l) => podLabels[l]))
        add('warning', "pod template has no 'app' label; tracing and metrics name the workload by it");
      else if (podLabels.app) {
        const other = apps.get(podLabels.app);
        if (other && other !== object)
          add('warning', `app label '${podLabels.app}' is also used by ${other}; give each Deployment a distinct app`);
        apps.set(podLabels.app, object);
      }
    }
  }
  return findings;
}

export const formatFinding = (f: Finding) => `${f.source}: ${f.object}: ${f.severity}: ${f.message}`;
