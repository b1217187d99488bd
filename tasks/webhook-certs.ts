// Chapter 2, the tutorial's certificate steps as they are done today: instead of signing the injector's
// certificate and patching the webhook's caBundle by hand, plug our own root and intermediate CA into
// Istio (secret `cacerts`, before istiod starts), then prove the injector webhook trusts exactly our root.
import { readFileSync } from 'node:fs';
import { dump } from 'js-yaml';
import { names } from './config.ts';
import { caPaths, checkCa, ensureCa, secretFiles } from './lib/ca.ts';
import { StepError } from './lib/errors.ts';
import { runIfMain } from './lib/main.ts';
import { exists, isManaged, managedLabels } from './lib/kube.ts';
import { step } from './lib/step.ts';
import { parseJson } from './lib/tool-output.ts';
import type { Command, Ctx, Task } from './lib/types.ts';

const ns = names.istioNamespace;
const paths = (ctx: Ctx) => caPaths(ctx.config.certsDir, ctx.config.context);
const normalize = (pem: string) => pem.replace(/\r/g, '').trim();

export const generateCa = step('Generate a root CA and an intermediate CA (Istio tools/certs recipe)', {
  done: async (ctx) => {
    const p = paths(ctx);
    return !ctx.options.dryRun && checkCa(p).length === 0 && `reusing the CA in ${p.dir}`;
  },
  run: async (ctx, task) => {
    const p = paths(ctx);
    if (ctx.options.dryRun) return ctx.sh.note(`would create RSA 4096 root and intermediate CA files in ${p.dir} (keys mode 0600)`);
    task.output = 'generating RSA 4096 keys';
    const { created } = await ensureCa(ctx.config.certsDir, ctx.config.context);
    task.output = created.length ? `created ${created.join(' and ')} in ${p.dir}` : `reusing the CA in ${p.dir}`;
  },
});

const createIstioNamespace = step(`Create the ${ns} namespace`, {
  done: async (ctx) => {
    if (!(await exists(ctx, ['namespace', ns]))) return false;
    if (ctx.config.cluster === 'existing' && !(await isManaged(ctx, ['namespace', ns])))
      throw new StepError(`namespace ${ns} in context ${ctx.config.context} was not made by fun-with-istio: refusing to change an Istio it did not install`);
    return `namespace ${ns} exists`;
  },
  run: async (ctx) => {
    const manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: managedLabels() } };
    await ctx.sh.kubectl(['create', '-f', '-'], { input: dump(manifest), inputLabel: `Namespace/${ns}` });
  },
});

async function secretRoot(ctx: Ctx): Promise<string | undefined> {
  const r = await ctx.sh.kubectl(['-n', ns, 'get', 'secret', names.cacertsSecret, '-o', 'jsonpath={.data.root-cert\\.pem}', '--ignore-not-found'], {
    dryRun: { stdout: '' },
  });
  return r.stdout.trim() ? Buffer.from(r.stdout.trim(), 'base64').toString('utf8') : undefined;
}

const plugCa = step(`Plug the CA into Istio (secret ${names.cacertsSecret} in ${ns})`, {
  done: async (ctx) => {
    const inCluster = await secretRoot(ctx);
    if (!inCluster) return false;
    if (!ctx.options.dryRun && normalize(inCluster) !== normalize(readFileSync(paths(ctx).rootCert, 'utf8')))
      throw new StepError(`secret ${names.cacertsSecret} in ${ns} holds another root CA; remove it (npm run teardown) or restore the CA files in ${ctx.config.certsDir}`);
    return `secret ${names.cacertsSecret} holds our root`;
  },
  run: async (ctx, task) => {
    const files = secretFiles(paths(ctx));
    const data = Object.fromEntries(
      Object.entries(files).map(([key, file]) => [key, ctx.options.dryRun ? '' : readFileSync(file).toString('base64')]),
    );
    const secret = { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: names.cacertsSecret, namespace: ns, labels: managedLabels() }, data };
    // Through stdin, never argv; `create`, not `apply`, so no last-applied annotation copies the key.
    await ctx.sh.kubectl(['create', '-f', '-'], { input: dump(secret), inputLabel: `Secret/${names.cacertsSecret}` });
    if (await exists(ctx, ['-n', ns, 'deployment', names.istiod], false)) {
      task.output = 'istiod already runs: restarting it so it loads the plugged-in CA';
      await ctx.sh.kubectl(['-n', ns, 'rollout', 'restart', `deployment/${names.istiod}`]);
      await ctx.sh.kubectl(['-n', ns, 'rollout', 'status', `deployment/${names.istiod}`, `--timeout=${ctx.config.waitTimeout}`]);
    }
  },
});

interface WebhookConfiguration {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

/** The check that replaces the tutorial's webhook-patch-ca-bundle step: istiod patched in exactly our root. */
export function verifyCaBundle(skipWithoutIstio: boolean): Task {
  const webhook = `mutatingwebhookconfiguration/${names.injectorWebhook}`;
  return step('Verify the injector webhook trusts exactly our root CA', {
    done: async (ctx) =>
      skipWithoutIstio && !(await exists(ctx, ['mutatingwebhookconfiguration', names.injectorWebhook])) && 'Istio is not installed yet (install-istio verifies this)',
    run: async (ctx, task) => {
      // istiod fills in caBundle after it starts: wait for the field, not for a fixed time.
      await ctx.sh.kubectl(['wait', webhook, '--for=jsonpath={.webhooks[0].clientConfig.caBundle}', `--timeout=${ctx.config.waitTimeout}`]);
      const r = await ctx.sh.kubectl(['get', webhook, '-o', 'json'], { dryRun: { stdout: '{}' } });
      if (ctx.options.dryRun) return;
      const root = normalize(readFileSync(paths(ctx).rootCert, 'utf8'));
      const hooks = parseJson<WebhookConfiguration>(r.stdout, 'kubectl get mutatingwebhookconfiguration').webhooks ?? [];
      const wrong = hooks.filter((h) => normalize(Buffer.from(h.clientConfig?.caBundle ?? '', 'base64').toString('utf8')) !== root);
      if (!hooks.length || wrong.length)
        throw new StepError(`${names.injectorWebhook}: caBundle of ${wrong.map((h) => h.name).join(', ') || 'its webhooks'} is not our root CA (${paths(ctx).rootCert})`);
      task.output = `${hooks.length} webhook(s) trust ${paths(ctx).rootCert}`;
    },
  });
}

export const plugInCaSteps = (): Task[] => [createIstioNamespace, plugCa];

export const webhookCerts: Command = {
  name: 'webhook-certs',
  summary: 'make a root + intermediate CA, plug it into Istio (cacerts), verify the injector trusts it',
  details: `
Today's form of the tutorial's certificate steps. Creates (once, then reuses) a root CA and an
intermediate CA for this cluster under CACHE_DIR/certs as Istio's tools/certs does, creates the
namespace ${ns} and the secret ${names.cacertsSecret} from them before Istio is installed, and once Istio runs,
checks that the ${names.injectorWebhook} webhook's caBundle is exactly our root-cert.pem.
Runs: kubectl --context <ctx> get|create -f - (Namespace, Secret via stdin)|wait|get mutatingwebhookconfiguration.`,
  tasks: () => [generateCa, ...plugInCaSteps(), verifyCaBundle(true)],
};

runIfMain(import.meta.url, 'webhook-certs');
