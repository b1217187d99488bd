// An image as a docker-archive tar (what `ctr images import` reads): one layer made from a staged root filesystem, its
// config and a manifest naming the image. Layers are reproducible: sorted, owned by root, mtime 0 (GNU tar).
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

/** Writes `out` (atomically) from the root filesystem in `rootfs`; returns the layer's digest. */
export function writeDockerArchive(rootfs: string, ref: string, config: ImageConfig, out: string): string {
  const work = `${out}.parts`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const layer = path.join(work, 'layer.tar');
    tar(['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', rootfs, '-cf', layer, '.'], work);
    const diffId = `sha256:${sha256File(layer)}`;
    const imageConfig = {
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: config,
      rootfs: { type: 'layers', diff_ids: [diffId] },
    };
    writeFileSync(path.join(work, 'config.json'), JSON.stringify(imageConfig));
    writeFileSync(
      path.join(work, 'manifest.json'),
      JSON.stringify([{ Config: 'config.json', RepoTags: [ref], Layers: ['layer.tar'] }]),
    );
    tar(
      [
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--mtime=@0',
        '-cf',
        `${out}.tmp`,
        'manifest.json',
        'config.json',
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
