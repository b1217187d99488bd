// istio.io's "Getting started": the Bookinfo app in its own injected namespace, every pod with its sidecar, reached
// through the ingress gateway (the release's Istio-API Gateway and VirtualService), with the destination rules the
// traffic tasks route to. Proven by the product page a user would get; how to open it is printed.
import { names } from './config.ts';
import { bookinfoPodsReady, ingressService, namespace, notOnOtherTrack } from './lib/apps/bookinfo.ts';
import { applyDestinationRules, deployBookinfo, exposeBookinfo, proveProductPage } from './lib/apps/bookinfo-sidecar.ts';
import { runIfMain } from './lib/cli/main.ts';
import { nodeReachable } from './lib/istio/addon-links.ts';
import { sidecarMode } from './lib/istio/mesh-mode.ts';
import { nodeAddress } from './lib/kube/data-plane.ts';
import { getObject } from './lib/kube/kube.ts';
import { step } from './lib/run/step.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { ownNamespace } from './lib/steps/namespace.ts';
import { clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const mode = sidecarMode;

const createBookinfoNamespace = ownNamespace(
  `Create the namespace ${namespace}, ${mode.joined}`,
  namespace,
  mode.namespaceLabels,
);

const printUrl = step('Print how to open it', {
  run: async (ctx, task) => {
    const portForward = `kubectl --context ${ctx.config.context} -n ${ingressService.namespace} port-forward service/${ingressService.name} 8080:80   # then http://127.0.0.1:8080/productpage`;
    if (!nodeReachable(ctx.config.cluster, process.platform)) {
      task.output = portForward;
      return;
    }
    const ports = await getObject(ctx, ingressService);
    const http = (ports?.spec as { ports?: { port?: number; nodePort?: number }[] } | undefined)?.ports?.find(
      (p) => p.port === names.bookinfo.ingress.port,
    );
    const address = await nodeAddress(ctx);
    task.output = [
      ...(http?.nodePort && address ? [`http://${address}:${http.nodePort}/productpage`] : []),
      `or: ${portForward}`,
    ].join('\n');
  },
});

const bookinfoSteps = (): Task[] => [
  notOnOtherTrack(mode),
  createBookinfoNamespace,
  deployBookinfo,
  bookinfoPodsReady(mode),
  exposeBookinfo,
  applyDestinationRules,
  proveProductPage,
  printUrl,
];

export const bookinfo: TaskCommand = {
  kind: 'tasks',
  name: 'bookinfo',
  track: { mode: 'sidecar', instead: 'ambient-bookinfo' },
  owns: { namespaces: [namespace] },
  summary: "istio.io's getting started: Bookinfo in its own injected namespace, behind the ingress gateway",
  examples: ['npm run bookinfo', 'npm run bookinfo -- --dry-run'],
  details: `
Deploys the release's samples/bookinfo/platform/kube/bookinfo.yaml into ${namespace} (sidecar injection on), waits
until every pod is READY 2/2, exposes it through the ingress gateway with networking/bookinfo-gateway.yaml
(Istio's API), applies networking/destination-rule-all.yaml, then loads /productpage through a port-forward
to the gateway and checks its title. On a cluster whose nodes run no containers (the test lab) it says so.
Runs: kubectl --context <ctx> create|apply -f -|wait|get|port-forward.`,
  tasks: () => [clusterReachable, istioRunning, getRelease, ...bookinfoSteps()],
};

runIfMain(import.meta.url, bookinfo);
