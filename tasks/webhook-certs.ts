// Chapter 2, the tutorial's certificate steps as they are done today: instead of signing the injector's
// certificate and patching the webhook's caBundle by hand, plug our own root and intermediate CA into
// Istio (secret `cacerts`, before istiod starts), then prove the injector webhook trusts exactly our root.
import { names } from './config.ts';
import { runIfMain } from './lib/cli/main.ts';
import type { TaskCommand } from './lib/run/types.ts';
import { createIstioNamespace, generateCa, plugCa, verifyCaBundleOnceInstalled } from './lib/steps/ca.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';

const ns = names.istioNamespace;

export const webhookCerts: TaskCommand = {
  kind: 'tasks',
  name: 'webhook-certs',
  summary: 'make a root + intermediate CA, plug it into Istio (cacerts), verify the injector trusts it',
  details: `
Today's form of the tutorial's certificate steps. Creates (once, then reuses) a root CA and an
intermediate CA for this cluster under CACHE_DIR/certs as Istio's tools/certs does, creates the
namespace ${ns} and the secret ${names.cacertsSecret} from them before Istio is installed, and once Istio runs,
checks that the ${names.injectorWebhook} webhook's caBundle is exactly our root-cert.pem.
Runs: kubectl --context <ctx> get|create -f - (Namespace, Secret via stdin)|wait|get mutatingwebhookconfiguration.`,
  tasks: () => [clusterReachable, generateCa, createIstioNamespace, plugCa, verifyCaBundleOnceInstalled],
};

runIfMain(import.meta.url, webhookCerts);
