// How to open each addon from this machine: its NodePort URL where the node's IP is reachable (Linux, VM
// drivers), `npm run dashboard -- <addon>` where it is not (the docker and podman drivers on macOS and Windows
// run the node inside a VM the host cannot route to) and for an addon without a NodePort.
import type { Addon, ClusterConfig } from '../../config.ts';

/** Whether the host can reach the node's IP: not with minikube's container drivers outside Linux. */
export const nodeReachable = (cluster: ClusterConfig, platform: NodeJS.Platform): boolean =>
  !(cluster.kind === 'minikube' && (cluster.driver === 'docker' || cluster.driver === 'podman') && platform !== 'linux');

/** One line per addon; `nodePorts` maps Service name to node port (only queried when the node is reachable). */
export function addonLinks(
  addons: readonly Addon[],
  o: { reachable: boolean; address?: string; nodePorts: Record<string, string> },
): string[] {
  return addons.map((a) => {
    const port = a.expose && o.reachable ? o.nodePorts[a.expose.service] : undefined;
    return port ? `${a.name}: http://${o.address}:${port}${a.ui.path}` : `${a.name}: npm run dashboard -- ${a.name}`;
  });
}
