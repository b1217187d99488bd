// The first lines of a run log: what ran, with which resolved configuration and versions (never a secret).
import { type Config, pins, toolVersion } from '../../config.ts';

export function runHeader(config: Config, argv: string[], now = new Date()): string[] {
  const { cluster, release } = config;
  return [
    `# fun-with-istio ${toolVersion}: ${argv.join(' ')} (${now.toISOString()})`,
    `# versions: Istio ${config.istioVersion}, Kubernetes ${config.kubernetesVersion}, minikube pin ${pins.minikube}, Node.js ${process.version}`,
    cluster.kind === 'minikube'
      ? `# cluster: minikube profile ${cluster.profile} (driver ${cluster.driver}, ${cluster.memoryMiB} MiB, ${cluster.cpus} CPUs)`
      : `# cluster: existing context ${cluster.context}${config.kubeconfig ? ` (KUBECONFIG=${config.kubeconfig})` : ''}`,
    `# istio: profile ${config.istioProfile}${config.istioOverlay ? `, overlay ${config.istioOverlay}` : ''}, release ${
      release.kind === 'download' ? release.url : `ISTIO_HOME=${config.istioHome}`
    }`,
    `# cache ${config.cacheDir}, sample namespace ${config.sampleNamespace}, wait timeout ${config.waitTimeout}`,
  ];
}
