// The container images a run of `all` makes the cluster pull, derived from what it applies: the install manifest as
// `istioctl manifest generate` renders it with the install's own flags, the addons' manifests and the samples. Not
// a hand-kept list: a new release or addon changes it by itself.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { addonObjects } from '../istio/addons.ts';
import { installFlags } from '../istio/install-flags.ts';
import { type K8sObject, parseManifests, readManifests } from '../kube/manifests.ts';
import type { Ctx } from '../run/types.ts';
import { sampleObjects } from './sleep.ts';

interface PodTemplate {
  spec?: { containers?: { image?: string }[]; initContainers?: { image?: string }[] };
}

/** The pod template of a workload (Deployment, DaemonSet, StatefulSet, Job; a CronJob's job template), if any. */
function podTemplate(o: K8sObject): PodTemplate | undefined {
  const spec = o.spec as { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } } | undefined;
  return spec?.template ?? spec?.jobTemplate?.spec?.template;
}

/** Every concrete image the workloads name (`auto`, injected later, and template expressions are not images). */
export function workloadImages(docs: K8sObject[]): string[] {
  return docs
    .flatMap((o) => {
      const pod = podTemplate(o)?.spec;
      return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].map((c) => c.image ?? '');
    })
    .filter((image) => image && image !== 'auto' && !image.includes('{{'));
}

interface InjectorValues {
  global?: { hub?: string; tag?: string; variant?: string; proxy?: { image?: string } };
}

/** The sidecar image the injector will add to every injected pod (its values: hub, proxy image, tag, variant). */
export function injectedProxyImage(docs: K8sObject[]): string[] {
  const injector = docs.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'istio-sidecar-injector');
  const text = (injector?.data as { values?: string } | undefined)?.values;
  if (!text) return [];
  const g = (JSON.parse(text) as InjectorValues).global;
  if (!g?.proxy?.image) return [];
  if (g.proxy.image.includes('/')) return [g.proxy.image];
  return [`${g.hub}/${g.proxy.image}:${g.tag}${g.variant ? `-${g.variant}` : ''}`];
}

/** `busybox:1.28` and `docker.io/library/busybox:1.28` are one image: the registry's full name. */
export function fullImageName(image: string): string {
  const first = image.split('/')[0];
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return image;
  return `docker.io/${image.includes('/') ? image : `library/${image}`}`;
}

/**
 * The release's samples `all` deploys: the sidecar track's httpbin (and curl's image for the load Job), the ambient
 * track's Bookinfo.
 */
const releaseSamples = {
  sidecar: ['samples/httpbin/httpbin.yaml', 'samples/curl/curl.yaml'],
  ambient: ['samples/bookinfo/platform/kube/bookinfo.yaml', 'samples/bookinfo/platform/kube/bookinfo-versions.yaml'],
};

/** The images `all` will need, each once, sorted: none from the release when it is not there yet (a dry run). */
export async function imagesAhead(ctx: Ctx): Promise<string[]> {
  const { config } = ctx;
  const rendered = await ctx.sh.istioctl(['manifest', 'generate', ...installFlags(config)], { read: true });
  const docs = [
    ...(rendered.stdout.trim() ? parseManifests(rendered.stdout, 'istioctl manifest generate') : []),
    ...(config.mode === 'sidecar' ? sampleObjects(ctx) : []),
  ];
  if (existsSync(config.istioHome)) {
    docs.push(...config.addons.flatMap((addon) => addonObjects(ctx, addon)));
    docs.push(...releaseSamples[config.mode].flatMap((file) => readManifests(path.join(config.istioHome, file))));
  }
  return [...new Set([...workloadImages(docs), ...injectedProxyImage(docs)].map(fullImageName))].sort();
}
