// The plug-in CA steps (chapter 2), shared by webhook-certs and install-istio (Istio must find `cacerts` when
// istiod first starts, so install-istio run alone plugs the CA in first).
import { readFileSync } from 'node:fs';
import { names } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { parseJson } from '../exec/tool-output.ts';
import { caPaths, caSpec, checkCa, ensureCa, secretFiles } from '../istio/ca.ts';
import {
  createNamespace,
  exists,
  field,
  findObject,
  getJson,
  inNamespace,
  isOurs,
  namespaceRef,
  notOurs,
  onObjects,
  ourLabels,
  rolloutStatus,
  verbArgs,
  waitFor,
} from '../kube/kube.ts';
import { judgeSeen } from '../run/poll.ts';
import { step } from '../run/step.ts';
import type { Ctx, Task } from '../run/types.ts';

const ns = names.istioNamespace;
const paths = (ctx: Ctx) => caPaths(ctx.config.certsDir, ctx.config.context);
const normalize = (pem: string) => pem.replace(/\r/g, '').trim();
const cacerts = inNamespace(ns, 'secret', names.cacertsSecret);
const istiod = inNamespace(ns, 'deployment', names.istiod);
const injector = { kind: 'mutatingwebhookconfiguration', name: names.injectorWebhook };

export const generateCa = step('Generate a root CA and an intermediate CA (Istio tools/certs recipe)', {
  done: async (ctx) => {
    const p = paths(ctx);
    return !ctx.options.dryRun && checkCa(p).length === 0 && `reusing the CA in ${p.dir}`;
  },
  run: async (ctx, task) => {
    const p = paths(ctx);
    // A dry run writes no key files.
    if (ctx.options.dryRun)
      return ctx.sh.note(`would create RSA 4096 root and intermediate CA files in ${p.dir} (keys mode 0600)`);
    task.output = 'generating RSA 4096 keys';
    const { created } = await ensureCa(ctx.config.certsDir, ctx.config.context, caSpec.keyBits, ctx.signal);
    task.output = created.length ? `created ${created.join(' and ')} in ${p.dir}` : `reusing the CA in ${p.dir}`;
  },
});

export const createIstioNamespace = step(`Create the ${ns} namespace`, {
  done: async (ctx) =>
    (await exists(ctx, namespaceRef(ns))) &&
    (ctx.config.cluster.kind === 'minikube' || (await isOurs(ctx, namespaceRef(ns)))) &&
    `namespace ${ns} exists`,
  // On a cluster of the user's, an istio-system the tool did not make holds an Istio it did not install.
  refuse: async (ctx) =>
    ctx.config.cluster.kind === 'existing' &&
    (await exists(ctx, namespaceRef(ns))) &&
    !(await isOurs(ctx, namespaceRef(ns))) &&
    notOurs(`namespace ${ns} in context ${ctx.config.context}`, 'refusing to change an Istio it did not install'),
  run: async (ctx) => {
    await createNamespace(ctx, ns);
  },
});

async function secretRoot(ctx: Ctx): Promise<string | undefined> {
  const data = await field(ctx, cacerts, '{.data.root-cert\\.pem}');
  return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
}

export const plugCa = step(`Plug the CA into Istio (secret ${names.cacertsSecret} in ${ns})`, {
  done: async (ctx) => {
    const inCluster = await secretRoot(ctx);
    if (!inCluster) return false;
    if (normalize(inCluster) !== normalize(readFileSync(paths(ctx).rootCert, 'utf8')))
      throw new StepError(
        `secret ${names.cacertsSecret} in ${ns} holds another root CA; remove it (npm run teardown) or restore the CA files in ${ctx.config.certsDir}`,
      );
    return `secret ${names.cacertsSecret} holds our root`;
  },
  run: async (ctx, task) => {
    const files = secretFiles(paths(ctx));
    // A dry run has no key files to read: the Secret it describes is empty.
    const data = Object.fromEntries(
      Object.entries(files).map(([key, file]) => [key, ctx.options.dryRun ? '' : readFileSync(file).toString('base64')]),
    );
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: names.cacertsSecret, namespace: ns, labels: ourLabels() },
      data,
    };
    // Through stdin, never argv; `create`, not `apply`, so no last-applied annotation copies the key.
    await onObjects(ctx, 'create', [secret]);
    if (await findObject(ctx, istiod)) {
      task.output = 'istiod already runs: restarting it so it loads the plugged-in CA';
      await ctx.sh.kubectl(verbArgs(['rollout', 'restart'], istiod));
      await rolloutStatus(ctx, istiod);
    }
  },
});

interface WebhookConfiguration {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

/** The check that replaces the tutorial's webhook-patch-ca-bundle step: istiod patched in exactly our root. */
export const verifyCaBundle = caBundleCheck(false);

/** The same check where Istio may not be installed yet (webhook-certs run alone): skipped until it is. */
export const verifyCaBundleOnceInstalled = caBundleCheck(true);

function caBundleCheck(skipWithoutIstio: boolean): Task {
  return step('Verify the injector webhook trusts exactly our root CA', {
    done: async (ctx) =>
      skipWithoutIstio && !(await exists(ctx, injector)) && 'Istio is not installed yet (install-istio verifies this)',
    run: async (ctx, task) => {
      const read = async () =>
        parseJson<WebhookConfiguration>(await getJson(ctx, injector), 'kubectl get mutatingwebhookconfiguration').webhooks ?? [];
      let hooks = await read();
      // istiod fills in caBundle after it starts: wait for the field, not for a fixed time.
      if (!hooks[0]?.clientConfig?.caBundle) {
        await waitFor(ctx, injector, 'jsonpath={.webhooks[0].clientConfig.caBundle}');
        hooks = await read();
      }
      await judgeSeen(ctx, hooks, (hooks) => {
        const root = normalize(readFileSync(paths(ctx).rootCert, 'utf8'));
        const wrong = hooks.filter(
          (h) => normalize(Buffer.from(h.clientConfig?.caBundle ?? '', 'base64').toString('utf8')) !== root,
        );
        if (!hooks.length || wrong.length)
          throw new StepError(
            `${names.injectorWebhook}: caBundle of ${wrong.map((h) => h.name).join(', ') || 'its webhooks'} is not our root CA (${paths(ctx).rootCert})`,
          );
        task.output = `${hooks.length} webhook(s) trust ${paths(ctx).rootCert}`;
      });
    },
  });
}
