// What the ambient e2e tests share (not a test file: importing it runs nothing): the commands of a run that write,
// Bookinfo's pods, what istiod tells the node's ztunnel of them, and the CNI agent's part, which the lab's kwok pod
// does not play (cni/pkg/util AnnotateEnrolledPod: the annotation istiod reads to serve a pod as HBONE).
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { ztunnelDump, ztunnelPod } from '../../lab/xds/xds.ts';
import { workloadsOf } from '../../lab/xds/xds-workloads.ts';
import { names } from '../../tasks/config.ts';
import type { List, labKubectl } from './lab-client.ts';

const ns = names.bookinfo.namespace;

/** Commands that change the cluster (everything but reads, waits and port-forwards). */
export const writes = (commands: string[]) =>
  commands.filter((c) => !/ (get|version|wait|api-versions|rollout status|port-forward|manifest generate)( |$)/.test(c));

/** The ambient helpers on the lab's kubectl. */
export function ambientOnLab({ kjson, kubectl }: Pick<ReturnType<typeof labKubectl>, 'kjson' | 'kubectl'>) {
  const bookinfoPods = () =>
    kjson<List>('-n', ns, 'get', 'pods', '-l', 'app in (details,productpage,ratings,reviews)').items.filter(
      (p) => !p.metadata.deletionTimestamp,
    );

  /** Bookinfo's workloads as istiod tells the node's ztunnel: name -> tunnel protocol, once it equals `want` (20 s at most). */
  async function servedProtocols(want: Record<string, string>): Promise<Record<string, string>> {
    for (const deadline = Date.now() + 20_000; ; await delay(250)) {
      const seen = Object.fromEntries(
        workloadsOf(ztunnelDump(await ztunnelPod()))
          .filter((w) => w.namespace === ns && !w.name.startsWith(names.ambient.gateway))
          .map((w) => [w.name, w.protocol]),
      );
      if (isDeepStrictEqual(seen, want) || Date.now() > deadline) return seen;
    }
  }

  /** What the CNI agent does once a pod's traffic is redirected to ztunnel. */
  const captureAsCni = (pod: string) =>
    kubectl(
      '-n',
      ns,
      'patch',
      'pod',
      pod,
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"metadata":{"annotations":{"ambient.istio.io/redirection":"enabled"}}}',
    );

  return { bookinfoPods, servedProtocols, captureAsCni };
}
