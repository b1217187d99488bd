// istio.io's canary upgrade: each release installed as a control plane of its own (a revision named after its
// version), a revision tag that namespaces name instead of a revision (moved to upgrade, moved back to roll back),
// and what an injected pod says of the control plane that injected it.
import { type IstioRelease, names } from '../../config.ts';
import { getObject, inNamespace, labelOf, type ObjectRef } from '../kube/kube.ts';
import type { Pod } from '../kube/pods.ts';
import type { Result, RunOptions } from '../run/commands.ts';
import type { Ctx } from '../run/types.ts';

const { revisionLabel, sidecarStatus } = names.upgrade;

/** A revision's name for a release: its version, dots as dashes, without a pre-release part (1.30.5 -> 1-30-5). */
export const revisionOf = (version: string): string => version.split('-')[0].replace(/\./g, '-');

/** The istiod Deployment of a revision. */
export const istiodOf = (revision: string): ObjectRef => inNamespace(names.istioNamespace, 'deployment', `istiod-${revision}`);

/** Where a revision's proxies get their configuration and certificates. */
export const discoveryAddressOf = (revision: string): string => `istiod-${revision}.${names.istioNamespace}.svc:15012`;

/** The webhook `istioctl tag set` makes for a tag; its revision label names the revision the tag points at. */
export const tagWebhook = (tag: string): ObjectRef => ({
  kind: 'mutatingwebhookconfiguration',
  name: `istio-revision-tag-${tag}`,
});

/** The revision `tag` points at; undefined when there is no such tag. */
export async function tagRevision(ctx: Ctx, tag: string): Promise<string | undefined> {
  return labelOf(await getObject(ctx, tagWebhook(tag)), revisionLabel) || undefined;
}

/** istioctl of `release` (the previous one, say), pinned to the run's context as the pinned release's is. */
export const istioctlOf = (
  ctx: Ctx,
  release: Pick<IstioRelease, 'istioctl'>,
  args: string[],
  opts?: RunOptions,
): Promise<Result> => ctx.sh.run(release.istioctl, ['--context', ctx.sh.context, ...args], opts);

/** The Istio version an image names (docker.io/istio/proxyv2:1.30.5, -distroless or not). */
export function imageVersion(image: string | undefined): string {
  const named = image?.replace(/@.*$/, '') ?? ''; // a digest pinned after the tag is not the tag
  const colon = named.lastIndexOf(':');
  return colon > named.lastIndexOf('/') ? named.slice(colon + 1).replace(/-(distroless|debug)$/, '') : '';
}

interface ProxyContainer {
  name: string;
  image?: string;
  env?: { name: string; value?: string }[];
}

/** What an injected pod says of its proxy: the revision that injected it, the proxy's version and its istiod. */
export interface InjectedProxy {
  revision: string;
  version: string;
  discoveryAddress: string;
}

/**
 * The pod's proxy: injected (a native sidecar is an init container; the sidecar status annotation names the revision,
 * PROXY_CONFIG the istiod), or rendered by istioctl install (a gateway: its revision label, its CA_ADDR, which is
 * its revision's istiod too). Undefined for a pod without one.
 */
export function proxyOf(pod: Pod): InjectedProxy | undefined {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers] as ProxyContainer[];
  const proxy = containers.find((c) => c.name === names.sidecarContainer);
  if (!proxy) return undefined;
  const env = (name: string) => proxy.env?.find((e) => e.name === name)?.value;
  const status = parse<{ revision?: string }>(pod.metadata.annotations?.[sidecarStatus]);
  const config = parse<{ discoveryAddress?: string }>(env('PROXY_CONFIG'));
  return {
    revision: status.revision || pod.metadata.labels?.[revisionLabel] || '',
    version: imageVersion(proxy.image),
    discoveryAddress: config.discoveryAddress || env('CA_ADDR') || '',
  };
}

/** Each pod whose proxy is not `revision`'s (its version, its istiod), with what it has instead. */
export function offRevision(pods: Pod[], revision: string, version: string): string[] {
  const wanted: InjectedProxy = { revision, version, discoveryAddress: discoveryAddressOf(revision) };
  return pods.flatMap((p) => {
    const proxy = proxyOf(p);
    if (!proxy) return [`${p.metadata.name}: no ${names.sidecarContainer}`];
    const off = (Object.keys(wanted) as (keyof InjectedProxy)[]).filter((k) => proxy[k] !== wanted[k]);
    return off.length ? [`${p.metadata.name}: ${off.map((k) => `${k} ${proxy[k] || '(none)'}`).join(', ')}`] : [];
  });
}

function parse<T extends object>(json: string | undefined): Partial<T> {
  try {
    return (json ? JSON.parse(json) : {}) as Partial<T>;
  } catch {
    return {};
  }
}
