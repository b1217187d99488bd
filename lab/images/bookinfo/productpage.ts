// productpage as samples/bookinfo/src/productpage/Dockerfile makes it: the hash-pinned requirements (and the test
// requirements) installed from PyPI, the unit tests run, gunicorn with 8 gevent workers on [::]:9080 as user 1000.
// The Python is Debian's 3.11 (the Dockerfile's base has 3.13): pip installs for the interpreter the image carries.
import { cpSync } from 'node:fs';
import path from 'node:path';
import { base } from '../base.ts';
import { cachedDir, contentKey, filesUnder, imageInputs } from '../cached-dir.ts';
import type { ImageRecipe } from '../recipe.ts';
import { bookinfoSource, releaseImage, run } from './release.ts';

export const python = '/usr/bin/python3.11';
const sitePackages = '/usr/local/lib/python3.11/dist-packages';

/** The installed requirements: `site/` (the packages) and `bin/` (their scripts, gunicorn among them). */
function installedRequirements(): string {
  const files = ['requirements.txt', 'test-requirements.txt'].map((f) => bookinfoSource('productpage', f));
  return cachedDir(imageInputs, 'productpage-packages', contentKey(files, [python]), (dir) => {
    for (const f of files)
      run(
        python,
        ['-m', 'pip', 'install', '-q', '--require-hashes', '--no-deps', '--target', path.join(dir, 'site'), '-r', f],
        dir,
        {
          PIP_DISABLE_PIP_VERSION_CHECK: '1',
          PIP_ROOT_USER_ACTION: 'ignore',
        },
      );
    cpSync(path.join(dir, 'site', 'bin'), path.join(dir, 'bin'), { recursive: true });
  });
}

/** The application directory (/opt/microservices), its unit tests passed as the Dockerfile's `RUN python -m unittest`. */
function application(packages: string): string {
  const sources = ['productpage.py', 'templates', 'static', 'tests/unit', 'requirements.txt'];
  const files = sources.flatMap((s) => filesUnder(bookinfoSource('productpage', s)));
  return cachedDir(imageInputs, 'productpage-app', contentKey(files, [packages]), (dir) => {
    for (const s of sources) {
      const to = s === 'tests/unit' ? dir : path.join(dir, s);
      cpSync(bookinfoSource('productpage', s), to, { recursive: true });
    }
    run(python, ['-m', 'unittest', 'discover'], dir, { PYTHONPATH: path.join(packages, 'site'), PYTHONDONTWRITEBYTECODE: '1' });
  });
}

export function productpageImage(): ImageRecipe {
  return {
    ref: releaseImage('productpage-v1'),
    rootfs: () => {
      const packages = installedRequirements();
      return [
        ...base(),
        { copy: python, to: '/usr/local/bin/python' },
        { copy: python, to: '/usr/bin/python3.11' },
        { tree: '/usr/lib/python3.11', to: '/usr/lib/python3.11' },
        { tree: path.join(packages, 'site'), to: sitePackages },
        { copy: path.join(packages, 'bin', 'gunicorn'), to: '/usr/local/bin/gunicorn' },
        { tree: application(packages), to: '/opt/microservices' },
      ];
    },
    config: {
      Cmd: ['gunicorn', '-b', '[::]:9080', 'productpage:app', '-w', '8', '--keep-alive', '2', '-k', 'gevent'],
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'FLOOD_FACTOR=0'],
      User: '1000',
      WorkingDir: '/opt/microservices',
    },
  };
}

/** What the image is made from, made if missing: the installed packages and the tested application. */
export const productpageInputs = (): string[] => {
  const packages = installedRequirements();
  return [packages, application(packages)];
};
