// The authorization policies of istio.io's ambient track, on Bookinfo's productpage: at L4, enforced by ztunnel, the
// identities allowed to connect at all; at L7, enforced by the waypoint, which client may use which method.
import { names } from '../../config.ts';
import type { ReleaseFile } from '../istio/release-file.ts';
import { ourLabels } from '../kube/kube.ts';
import type { K8sObject } from '../kube/manifests.ts';
import { namespace } from './bookinfo.ts';

/** The workload identity (SPIFFE principal, without its scheme) of a service account in Bookinfo's namespace. */
export const principalOf = (serviceAccount: string) => `cluster.local/ns/${namespace}/sa/${serviceAccount}`;

/** The service accounts the policies name: the gateway's Deployment, the curl client and the namespace's waypoint. */
export const accounts = {
  gateway: names.ambient.gatewayService,
  client: names.bookinfo.client,
  waypoint: names.ambient.waypoint,
} as const;

const policy = (name: string, spec: unknown): K8sObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace, labels: ourLabels() },
  spec,
});

/** L4: only these service accounts may connect to productpage (ztunnel resets anyone else's connection). */
export const l4Policy = (allowed: string[]) => (): ReleaseFile => ({
  docs: [
    policy('productpage-ztunnel', {
      selector: { matchLabels: { app: 'productpage' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: allowed.map(principalOf) } }] }],
    }),
  ],
  label: `AuthorizationPolicy/productpage-ztunnel (L4: from ${allowed.join(', ')})`,
});

/** L7, on the productpage Service (its waypoint enforces it): the curl client may GET, nothing else is allowed. */
export const l7Policy = (): ReleaseFile => ({
  docs: [
    policy('productpage-waypoint', {
      targetRefs: [{ kind: 'Service', group: '', name: 'productpage' }],
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: [principalOf(accounts.client)] } }], to: [{ operation: { methods: ['GET'] } }] }],
    }),
  ],
  label: `AuthorizationPolicy/productpage-waypoint (L7: ${accounts.client} may GET)`,
});
