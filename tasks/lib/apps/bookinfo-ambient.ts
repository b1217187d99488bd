// Bookinfo on the ambient track, as the chapters that put it there share it (ambient-bookinfo deploys it so,
// ambient-migrate moves the sidecar track's to it): its way in through a Gateway-API gateway, and the proof that
// the CNI agent has redirected each of its pods to ztunnel.
import { names } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { ambientMode } from '../istio/mesh-mode.ts';
import { cannotLookHere } from '../kube/data-plane.ts';
import { annotationOf, getObject, inNamespace, onObjects, waitFor } from '../kube/kube.ts';
import type { K8sObject } from '../kube/manifests.ts';
import type { Pod } from '../kube/pods.ts';
import { observe } from '../run/poll.ts';
import { step } from '../run/step.ts';
import type { Ctx, Task } from '../run/types.ts';
import { bookinfoFile, bookinfoPods, namespace } from './bookinfo.ts';

const { gateway, serviceTypeAnnotation } = names.ambient;
const gatewayFile = bookinfoFile('gateway-api/bookinfo-gateway.yaml');
const gatewayRef = inNamespace(namespace, 'gateways.gateway.networking.k8s.io', gateway);
const routeRef = inNamespace(namespace, 'httproutes.gateway.networking.k8s.io', 'bookinfo');
/** The CNI agent marks each pod whose traffic it has redirected to ztunnel. */
export const redirection = { key: 'ambient.istio.io/redirection', value: 'enabled' };

const programmed = (o: K8sObject | undefined) =>
  ((o?.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Programmed' && c.status === 'True',
  );

// istio.io makes the gateway's Service a ClusterIP: a LoadBalancer stays without an address (Programmed=False) unless
// `minikube tunnel` runs. A port-forward reaches it either way.
export const exposeThroughGatewayApi = step(
  'Expose it through a Gateway-API gateway (gateway-api/bookinfo-gateway.yaml, ClusterIP)',
  {
    done: async (ctx) => {
      const found = await getObject(ctx, gatewayRef);
      const ready = annotationOf(found, serviceTypeAnnotation) === 'ClusterIP' && programmed(found);
      return ready && (await getObject(ctx, routeRef)) !== undefined && `gateway ${gateway} is Programmed, its route in place`;
    },
    run: async (ctx, task) => {
      const { docs, label } = gatewayFile(ctx);
      const annotated = docs.map((d) =>
        d.kind === 'Gateway'
          ? {
              ...d,
              metadata: { ...d.metadata, annotations: { ...d.metadata?.annotations, [serviceTypeAnnotation]: 'ClusterIP' } },
            }
          : d,
      );
      await onObjects(ctx, 'apply', annotated, { label: `${label} (${serviceTypeAnnotation}=ClusterIP)` });
      await waitFor(ctx, gatewayRef, 'condition=Programmed', (l) => (task.output = l));
    },
  },
);

const enrolled = (pods: Pod[]) => pods.filter((p) => p.metadata.annotations?.[redirection.key] === redirection.value);

/** What changed of the pods since `before`: the ones recreated (a new UID) or no longer ready without a sidecar. */
function restarted(before: Pod[] | undefined, now: Pod[]): Pod[] {
  if (!before) return [];
  const uids = new Set(before.map((p) => p.metadata.uid));
  return now.filter((p) => !uids.has(p.metadata.uid) || !ambientMode.podReady(p));
}

/**
 * A step: the CNI agent has marked every Bookinfo pod (istiod serves it to ztunnel as HBONE from that mark on), and,
 * where `sameAs` gives the pods from before a change, they are those pods (a restart would show by then).
 */
export function checkRedirected(title: string, sameAs?: (ctx: Ctx) => Pod[] | undefined): Task {
  return step(title, {
    run: async (ctx, task) => {
      if (await cannotLookHere(ctx, task)) return;
      const all = (pods: Pod[]) => pods.length > 0 && enrolled(pods).length === pods.length;
      // Asked anew each time: the CNI agent marks the pods a moment after they join. A dry run asks once.
      await observe(
        ctx,
        () => bookinfoPods(ctx, { fresh: true }),
        all,
        (marked) => {
          if (!marked.length) throw new StepError(`no Bookinfo pods in ${namespace}`, 'run `npm run ambient-bookinfo` again');
          const missing = marked.filter((p) => !enrolled([p]).length);
          if (missing.length)
            throw new StepError(
              `not redirected to ztunnel (no ${redirection.key}=${redirection.value}): ${missing.map((p) => p.metadata.name).join(', ')}`,
              `see \`kubectl --context ${ctx.config.context} -n ${names.istioNamespace} logs daemonset/${names.ambient.cniAgent}\``,
            );
          const before = sameAs?.(ctx);
          const changed = restarted(before, marked);
          if (changed.length)
            throw new StepError(`pods changed on joining the mesh: ${changed.map((p) => p.metadata.name).join(', ')}`);
          const kept = before ? `, the same ${marked.length} pods as before the label (same UIDs, ${ambientMode.ready})` : '';
          task.output = `${marked.length} pods: ${redirection.key}=${redirection.value}${kept}`;
        },
        { waiting: { task, says: (pods) => `${enrolled(pods).length} of ${pods.length} pods redirected to ztunnel` } },
      );
    },
  });
}
