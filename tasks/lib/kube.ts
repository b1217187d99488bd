// Small read-only kubectl queries shared by the chapters.
import { names } from '../config.ts';
import type { Ctx } from './types.ts';

/** The label every object the tool creates carries, so teardown can tell its own from the user's. */
export function managedLabels(): Record<string, string> {
  return { [names.managedBy.key]: names.managedBy.value };
}

/** `kubectl get <args> -o name --ignore-not-found`: true when the object exists. A dry run answers `dryRunAnswer`. */
export async function exists(ctx: Ctx, args: string[], dryRunAnswer = false): Promise<boolean> {
  const r = await ctx.sh.kubectl(['get', ...args, '-o', 'name', '--ignore-not-found'], { dryRun: { stdout: dryRunAnswer ? 'found' : '' } });
  return r.stdout.trim() !== '';
}

/** One field of one object through jsonpath, '' when the object or field is missing. */
export async function field(ctx: Ctx, args: string[], jsonpath: string, dryRunAnswer = ''): Promise<string> {
  const r = await ctx.sh.kubectl(['get', ...args, '-o', `jsonpath=${jsonpath}`, '--ignore-not-found'], { dryRun: { stdout: dryRunAnswer } });
  return r.stdout.trim();
}

const escapeKey = (key: string) => key.replace(/\./g, '\\.');

/** True when the object carries the tool's managed-by label. */
export async function isManaged(ctx: Ctx, args: string[], dryRunAnswer = false): Promise<boolean> {
  const value = await field(ctx, args, labelPath(names.managedBy.key), dryRunAnswer ? names.managedBy.value : '');
  return value === names.managedBy.value;
}

/** jsonpath of a label, on the object itself or at `at` (e.g. '.spec.template.metadata'). */
export const labelPath = (key: string, at = '.metadata') => `{${at}.labels.${escapeKey(key)}}`;
export const annotationPath = (key: string) => `{.metadata.annotations.${escapeKey(key)}}`;
