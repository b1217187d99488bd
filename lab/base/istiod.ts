// What the istiod watcher (lab/istiod-watch.ts) decides, as plain functions: which pilot-discovery binary an istiod pod
// runs (by its image tag: the lab's N or N-1 build), where each revision's process keeps its files, and which local
// port each revision's webhooks call.
import path from 'node:path';
import { bin, type IstioLine, istioLines, stateDir } from './common.ts';

/** The webhook port of the default revision: what the lab's Istio overlay names (`https://127.0.0.1:15017/...`). */
export const defaultWebhookPort = 15017;

/** An istiod pod's revision: its `istio.io/rev` label (the charts set `default` without a revision). */
export const revisionOf = (labels: Record<string, string> | undefined): string => labels?.['istio.io/rev'] || 'default';

/** The process name (pid file, log) of a revision's pilot-discovery: `pilot-discovery`, `pilot-discovery-1-30-0`. */
export const daemonName = (rev: string): string => (rev === 'default' ? 'pilot-discovery' : `pilot-discovery-${rev}`);

/** A revision's working directory (cacerts, ports.json): `.lab/istiod` for the default one, `.lab/istiod-<rev>` else. */
export const istiodWorkDir = (rev: string): string => path.join(stateDir, rev === 'default' ? 'istiod' : `istiod-${rev}`);

/** The pilot-discovery binary of an Istio line (`pilot-discovery`, `pilot-discovery-1.30`). */
export const pilotBinary = (l: IstioLine): string => bin(`pilot-discovery${l.suffix}`);

/**
 * The Istio line whose pilot-discovery an istiod pod's `discovery` image asks for, by its tag
 * (`docker.io/istio/pilot:<version>`), or why none: an image the lab did not build must not run another version.
 */
export function lineForImage(
  image: string | undefined,
  lines: readonly IstioLine[] = istioLines,
): { line: IstioLine } | { error: string } {
  const known = lines.map((l) => l.version).join(', ');
  if (!image) return { error: `no image: cannot tell which pilot-discovery to run (the lab has ${known})` };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const tag = image.includes('@') || colon <= slash ? undefined : image.slice(colon + 1);
  if (!tag) return { error: `image ${image} has no tag: cannot tell which pilot-discovery to run (the lab has ${known})` };
  // The ambient profile's variant: the same build, named `<version>-distroless` (a -debug variant likewise).
  const version = tag.replace(/-(distroless|debug)$/, '');
  const line = lines.find((l) => l.version === version);
  return line ? { line } : { error: `image ${image}: the lab builds no pilot-discovery ${version} (it has ${known})` };
}

interface WebhookConfig {
  webhooks?: { clientConfig?: { url?: string } }[];
}

/**
 * The configuration with each lab-local webhook URL (`https://127.0.0.1:<any>/<path>`) calling `port` instead, or
 * undefined when there is nothing to change. The overlay gives every revision the same URL; each revision's istiod
 * listens on its own port, so the watcher points the configurations labelled with that revision at it.
 */
export function withWebhookPort<T extends WebhookConfig>(config: T, port: number): T | undefined {
  let changed = false;
  const webhooks = config.webhooks?.map((w) => {
    const url = w.clientConfig?.url;
    const m = url ? /^https:\/\/127\.0\.0\.1(?::(\d+))?(\/.*)?$/.exec(url) : null;
    if (!m || Number(m[1] ?? 443) === port) return w;
    changed = true;
    return { ...w, clientConfig: { ...w.clientConfig, url: `https://127.0.0.1:${port}${m[2] ?? ''}` } };
  });
  return changed ? { ...config, webhooks } : undefined;
}
