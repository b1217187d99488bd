// The pinned Istio release: downloaded and verified once into the cache, unpacked next to it.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Config, IstioRelease, ReleaseSource } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { type DownloadOptions, downloadVerified } from './download.ts';

export const releaseReady = (config: Pick<IstioRelease, 'istioctl'>): boolean => existsSync(config.istioctl);

type Download = Extract<ReleaseSource, { kind: 'download' }>;

/** Where the pinned release is downloaded from; ISTIO_HOME means there is nothing to download. */
export function downloadOf(config: Pick<IstioRelease, 'release'>): Download {
  if (config.release.kind !== 'download') throw new StepError('ISTIO_HOME is set: there is no release to download');
  return config.release;
}

/** Downloads (or reuses) the archive, checks it, and unpacks it into `config.istioHome` (the pinned release or the previous one). */
export async function obtainRelease(
  config: Pick<IstioRelease, 'istioHome' | 'release'>,
  o: DownloadOptions = {},
): Promise<'cached' | 'downloaded'> {
  const { istioHome } = config;
  const release = downloadOf(config);
  const how = await downloadVerified(release.url, release.shaUrl, release.archive, o);
  const parent = path.dirname(istioHome);
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(path.join(parent, '.unpack-'));
  try {
    const { x: untar } = await import('tar');
    await untar({ file: release.archive, cwd: tmp, strict: true }).catch((e: Error) => {
      throw new StepError(`${release.asset} is not a readable tar.gz (${e.message}); delete ${release.archive} and re-run`);
    });
    const top = readdirSync(tmp);
    const unpacked = path.join(tmp, top[0] ?? '');
    if (top.length !== 1 || !existsSync(path.join(unpacked, 'bin', 'istioctl')))
      throw new StepError(`${release.asset} does not look like an Istio release (no ${top[0] ?? '?'}/bin/istioctl)`);
    rmSync(istioHome, { recursive: true, force: true });
    renameSync(unpacked, istioHome);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return how;
}

/** For commands that need istioctl or the samples but are not the install chapter (teardown, kube-inject). */
export async function ensureRelease(ctx: { config: Config; options: { dryRun: boolean }; signal: AbortSignal }): Promise<void> {
  if (ctx.options.dryRun || ctx.config.release.kind === 'given' || releaseReady(ctx.config)) return;
  await obtainRelease(ctx.config, { signal: ctx.signal });
}
