// The tutorial's other path, "manual proxy injection": istioctl kube-inject with the injector's own
// configuration, read from the cluster's ConfigMaps, so no webhook (and no port-forward) is involved.
// Prints the injected manifest: npm run -s kube-inject -- manifests/sleep.yaml | kubectl apply -f -
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { names } from './config.ts';
import { StepError, UsageError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { parseJson } from './lib/exec/tool-output.ts';
import { ensureRelease } from './lib/istio/release.ts';
import { inNamespace, verbArgs } from './lib/kube/kube.ts';
import { readManifests } from './lib/kube/manifests.ts';
import type { ActionCommand, Ctx } from './lib/run/types.ts';
import { requireCluster } from './lib/steps/prerequisites.ts';

const ns = names.istioNamespace;

interface ConfigMap {
  data?: Record<string, string>;
}

async function configMap(ctx: Ctx, name: string): Promise<Record<string, string>> {
  const ref = inNamespace(ns, 'configmap', name);
  const r = await ctx.sh.kubectl(verbArgs('get', ref, ['-o', 'json']), {
    allowFailure: true,
    query: { op: 'get', ref, required: true },
  });
  if (r.exitCode !== 0)
    throw new StepError(
      `cannot read configmap ${name} in ${ns}: is Istio installed in context ${ctx.config.context}? (${r.stderr.trim().split('\n').pop()})`,
    );
  return parseJson<ConfigMap>(r.stdout, 'kubectl get configmap').data ?? {};
}

/** Writes the injector's template, values and mesh config where istioctl can read them. */
async function injectorFiles(ctx: Ctx): Promise<{ config: string; values: string; mesh: string }> {
  const injector = await configMap(ctx, names.injectorConfigMap);
  const mesh = await configMap(ctx, names.meshConfigMap);
  const dir = path.join(ctx.config.injectDir, ctx.config.context.replace(/[^A-Za-z0-9._-]/g, '_'));
  const files = {
    config: path.join(dir, 'inject-config.yaml'),
    values: path.join(dir, 'values.json'),
    mesh: path.join(dir, 'mesh.yaml'),
  };
  if (ctx.options.dryRun) return files; // a dry run writes no files
  if (!injector.config || !injector.values || !mesh.mesh)
    throw new StepError(`the injector ConfigMaps in ${ns} lack config, values or mesh`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.config, injector.config);
  writeFileSync(files.values, injector.values);
  writeFileSync(files.mesh, mesh.mesh);
  return files;
}

export const kubeInject: ActionCommand = {
  kind: 'action',
  name: 'kube-inject',
  track: { mode: 'sidecar' },
  examples: ['npm run -s kube-inject -- manifests/sleep.yaml | kubectl apply -f -'],
  args: 'FILE',
  summary: 'manual proxy injection: print FILE with the sidecar added (istioctl kube-inject)',
  details: `
The tutorial's alternative to the webhook. Reads the injector's configuration from the cluster
(configmaps ${names.injectorConfigMap} and ${names.meshConfigMap} in ${ns}), then runs istioctl kube-inject with it on
FILE and prints the result, ready for kubectl apply. Needs Istio installed (install-istio);
gets the release (istioctl) if it is not in the cache yet.
Runs: kubectl --context <ctx> -n ${ns} get configmap, istioctl --context <ctx> kube-inject.`,
  checkArgs: (args) => {
    if (args.length !== 1) throw new UsageError('kube-inject needs one FILE (npm run -s kube-inject -- manifests/sleep.yaml)');
    readManifests(args[0], UsageError); // a missing or malformed file is a usage error, before the cluster is asked
  },
  action: async (ctx, [file]) => {
    await requireCluster(ctx); // before the release is downloaded for nothing
    await ensureRelease(ctx);
    const f = await injectorFiles(ctx);
    const r = await ctx.sh.istioctl([
      'kube-inject',
      '--injectConfigFile',
      f.config,
      '--meshConfigFile',
      f.mesh,
      '--valuesFile',
      f.values,
      '-f',
      path.resolve(file),
    ]);
    if (!ctx.options.dryRun) ctx.out(r.stdout);
    return 0;
  },
};

runIfMain(import.meta.url, kubeInject);
