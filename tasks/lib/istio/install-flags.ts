// How Istio is installed: the one set of `istioctl install` flags, shared by the install and by what renders the
// same manifest (the images a run will need).
import type { Config } from '../../config.ts';
import { providerFlags } from './tracing.ts';

/** `--set profile=... [tracing provider] [-f overlay]`, as `istioctl install` and `istioctl manifest generate` take them. */
export function installFlags(config: Pick<Config, 'istioProfile' | 'istioOverlay' | 'tracing'>): string[] {
  const overlay = config.istioOverlay ? ['-f', config.istioOverlay] : [];
  return ['--set', `profile=${config.istioProfile}`, ...providerFlags(config), ...overlay];
}
