// The ambient track's prerequisite: the Kubernetes Gateway API CRDs, installed only when the cluster has none (as
// istio.io's `kubectl get crd gateways.gateway.networking.k8s.io || kubectl apply --server-side -f ...`), verified
// first, labelled as the tool's so teardown removes them only if the tool installed them.
import { gatewayApi, names } from '../../config.ts';
import { gatewayApiObjects } from '../istio/gateway-api.ts';
import { annotationOf, getObject, onObjects, ourLabels, ourSelector, ours, waitFor } from '../kube/kube.ts';
import { type K8sObject, prepare } from '../kube/manifests.ts';
import { step } from '../run/step.ts';

const bundleVersion = 'gateway.networking.k8s.io/bundle-version';
export const gatewayApiCrd = { kind: 'customresourcedefinition', name: names.gatewayApiCrd };

export const installGatewayApi = step(`Install the Gateway API CRDs (${gatewayApi.version}, standard channel) if missing`, {
  enabled: (ctx) => ctx.config.mode === 'ambient',
  done: async (ctx) => {
    const crd = await getObject(ctx, gatewayApiCrd);
    if (!crd) return false;
    const version = annotationOf(crd, bundleVersion);
    // Someone else's are left as they are, whatever their version; the tool's own are brought to the pin.
    if (!ours(crd))
      return `Gateway API ${version || 'of an unknown version'} is installed (not by fun-with-istio: left as it is)`;
    return version === gatewayApi.version && `Gateway API ${version} is installed`;
  },
  run: async (ctx, task) => {
    const source = ctx.config.gatewayApiCrds;
    let docs: K8sObject[] = [];
    // A dry run downloads nothing; a given file is read and checked as in a real run.
    if (ctx.options.dryRun && source.kind === 'download')
      ctx.sh.note(`would download ${source.url} and check its objects against the pinned digest`);
    else {
      const got = await gatewayApiObjects(source, ctx.signal);
      docs = got.docs;
      task.output = `${got.how === 'given' ? source.file : got.how}: ${docs.length} objects, verified`;
    }
    // Server-side, as istio.io applies them: the CRDs are too large for the last-applied annotation.
    await onObjects(ctx, 'apply', prepare(docs, { labels: ourLabels() }), {
      flags: ['--server-side'],
      label: `Gateway API ${gatewayApi.version} ${gatewayApi.asset}`,
    });
    await waitFor(ctx, { kind: 'customresourcedefinition' }, 'condition=Established', (l) => (task.output = l), ourSelector);
  },
});
