// How Istio is installed: the one set of `istioctl install` flags, shared by the install and by what renders the
// same manifest (the images a run will need).
import type { Config } from '../../config.ts';
import { providerFlags } from './tracing.ts';

type InstallConfig = Pick<Config, 'istioProfile' | 'istioOverlay' | 'tracing' | 'mode' | 'cluster'>;

/**
 * The ambient data plane on minikube: its node runs Docker, whose pods' network namespaces are under
 * /var/run/docker/netns, where the CNI agent must look (Istio's platform-minikube profile; istio/istio#46163).
 */
const platformFlags = (config: InstallConfig): string[] =>
  config.mode === 'ambient' && config.cluster.kind === 'minikube' ? ['--set', 'values.global.platform=minikube'] : [];

/** `--set profile=... [platform] [tracing provider] [-f overlay]`, as `istioctl install` and `manifest generate` take them. */
export function installFlags(config: InstallConfig): string[] {
  const overlay = config.istioOverlay ? ['-f', config.istioOverlay] : [];
  return ['--set', `profile=${config.istioProfile}`, ...platformFlags(config), ...providerFlags(config), ...overlay];
}
