// ratings as samples/bookinfo/src/ratings/Dockerfile makes it: package.json's dependencies from npm, then
// `node /opt/microservices/ratings.js 9080` as user 1000. The Dockerfile's `npm install` resolves ranges afresh;
// here a lock file made from the same package.json (ratings-package-lock.json) keeps every build the same (`npm ci`).
// The Node.js is this machine's (the Dockerfile's base has 23.11).
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { base } from '../base.ts';
import { cachedDir, contentKey, imageInputs } from '../cached-dir.ts';
import type { ImageRecipe } from '../recipe.ts';
import { bookinfoSource, releaseImage, run } from './release.ts';

const lockFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ratings-package-lock.json');
export const node = '/usr/bin/node';

/** /opt/microservices: package.json, ratings.js and node_modules. */
function application(): string {
  const files = [bookinfoSource('ratings', 'package.json'), bookinfoSource('ratings', 'ratings.js'), lockFile];
  return cachedDir(imageInputs, 'ratings-app', contentKey(files), (dir) => {
    copyFileSync(files[0], path.join(dir, 'package.json'));
    copyFileSync(files[1], path.join(dir, 'ratings.js'));
    copyFileSync(lockFile, path.join(dir, 'package-lock.json'));
    run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  });
}

export function ratingsImage(): ImageRecipe {
  return {
    ref: releaseImage('ratings-v1'),
    rootfs: () => [...base(), { copy: node, to: '/usr/local/bin/node' }, { tree: application(), to: '/opt/microservices' }],
    config: {
      Cmd: ['node', '/opt/microservices/ratings.js', '9080'],
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'SERVICE_VERSION=v1'],
      User: '1000',
      WorkingDir: '/opt/microservices',
    },
  };
}

/** What the image is made from, made if missing: the application with its node_modules. */
export const ratingsInputs = (): string[] => [application()];
