// The tutorial's `sleep` sample: deployed by the injection chapter, removed by it and by teardown.
import path from 'node:path';
import { manifestsDir, names } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { exists, inNamespace, isOurs, onObjects, ourLabels } from '../kube/kube.ts';
import { type K8sObject, prepare, readManifests } from '../kube/manifests.ts';
import type { Ctx } from '../run/types.ts';

export const sampleFile = path.join(manifestsDir, `${names.sampleApp}.yaml`);
export const sampleDeployment = (ctx: Ctx) => inNamespace(ctx.config.sampleNamespace, 'deployment', names.sampleApp);

export function sampleObjects(ctx: Ctx): K8sObject[] {
  return prepare(readManifests(sampleFile), { namespace: ctx.config.sampleNamespace, labels: ourLabels() });
}

/** Whether the sample is deployed; a `sleep` that is not the tool's is an error, never something to change. */
export async function sampleDeployed(ctx: Ctx): Promise<boolean> {
  const deployment = sampleDeployment(ctx);
  if (!(await exists(ctx, deployment))) return false;
  if (!(await isOurs(ctx, deployment)))
    throw new StepError(
      `deployment/${names.sampleApp} in ${ctx.config.sampleNamespace} was not made by fun-with-istio; set SAMPLE_NAMESPACE to another namespace`,
    );
  return true;
}

export async function deleteSample(ctx: Ctx): Promise<void> {
  await onObjects(ctx, 'delete', sampleObjects(ctx), { flags: ['--ignore-not-found', '--wait=true'] });
}
