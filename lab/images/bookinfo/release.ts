// Bookinfo as the pinned release ships it: the sources its images are built from (samples/bookinfo/src) and the image
// each Deployment of samples/bookinfo/platform/kube/bookinfo.yaml runs, so the lab's images carry exactly those names.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { istioHome } from '../../base/common.ts';

/** `samples/bookinfo/src/<app>` of the release directory the lab lays out. */
export const bookinfoSource = (app: string, ...rel: string[]): string =>
  path.join(istioHome, 'samples', 'bookinfo', 'src', app, ...rel);

export const bookinfoManifest = (): string => path.join(istioHome, 'samples', 'bookinfo', 'platform', 'kube', 'bookinfo.yaml');

interface Deployment {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
}

/** Deployment name -> the image of its one container, from bookinfo.yaml. */
export function releaseImages(manifest: string = readFileSync(bookinfoManifest(), 'utf8')): Map<string, string> {
  const images = new Map<string, string>();
  for (const doc of loadAll(manifest) as Deployment[]) {
    const image = doc?.kind === 'Deployment' ? doc.spec?.template?.spec?.containers?.[0]?.image : undefined;
    if (doc?.metadata?.name && image) images.set(doc.metadata.name, image);
  }
  return images;
}

/** The image bookinfo.yaml runs for `deployment` (productpage-v1, reviews-v3, ...); an error names what it has. */
export function releaseImage(deployment: string): string {
  const images = releaseImages();
  const image = images.get(deployment);
  if (!image) throw new Error(`${bookinfoManifest()} has no Deployment ${deployment} (it has ${[...images.keys()].join(', ')})`);
  return image.includes('/') && image.split('/')[0].includes('.') ? image : `docker.io/${image}`;
}

/** Runs a build tool; its last line is the error. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) {
    const why = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').filter(Boolean).at(-1) ?? r.error?.message;
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}): ${why}`);
  }
  return r.stdout;
}
