// npm run lab:down — stops every lab process (process groups, then stragglers by pid) and removes .lab/.
import { stopAll } from './stop.ts';

stopAll().then(
  () => console.log('[lab down] stopped; .lab/ removed'),
  (e: unknown) => {
    console.error(`[lab down] ${(e as Error).message}`);
    process.exit(1);
  },
);
