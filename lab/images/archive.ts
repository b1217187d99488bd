// Images as a docker-archive tar (what `ctr images import` reads): one layer made from a staged root filesystem, a
// config per image and a manifest naming them. Several images may share the layer (Bookinfo's reviews v1, v2 and v3
// differ only in their environment). Layers are reproducible: sorted, owned by root, mtime 0 (GNU tar).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of an OCI image config the lab's images set (the rest take the runtime's defaults). */
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
}

function tar(args: string[], cwd: string): void {
  const r = spawnSync('tar', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr.trim() || r.error?.message}`);
}

const sha256File = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

/** One image of an archive: its name and its config. */
export interface ArchiveImage {
  ref: string;
  config: ImageConfig;
}

/** Writes `out` (atomically) with `images`, each made of the root filesystem in `rootfs`; returns the layer's digest. */
export function writeDockerArchive(rootfs: string, images: ArchiveImage[], out: string): string {
  const work = `${out}.parts`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const layer = path.join(work, 'layer.tar');
    tar(['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', rootfs, '-cf', layer, '.'], work);
    const diffId = `sha256:${sha256File(layer)}`;
    const manifest = images.map(({ ref, config }) => {
      const imageConfig = JSON.stringify({
        architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
        os: 'linux',
        config,
        rootfs: { type: 'layers', diff_ids: [diffId] },
      });
      // Named by its digest, as `docker save` names configs: two images never share a file unless they are equal.
      const name = `${createHash('sha256').update(imageConfig).digest('hex')}.json`;
      writeFileSync(path.join(work, name), imageConfig);
      return { Config: name, RepoTags: [ref], Layers: ['layer.tar'] };
    });
    writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest));
    tar(
      [
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--mtime=@0',
        '-cf',
        `${out}.tmp`,
        'manifest.json',
        ...new Set(manifest.map((m) => m.Config)),
        'layer.tar',
      ],
      work,
    );
    renameSync(`${out}.tmp`, out);
    return diffId;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
