// npm run lab:down — stops every lab process (process groups, the real node's pods, then stragglers by pid), removes
// what a real node leaves on the host (mounts, cgroups, its network namespace, stray files, changed kernel settings)
// and .lab/.
import { stopAll } from './stop.ts';

stopAll().then(
  () => console.log('[lab down] stopped; .lab/ removed'),
  (e: unknown) => {
    console.error(`[lab down] ${(e as Error).message}`);
    process.exit(1);
  },
);
