// npm run mutation (test/mutation/run.ts): mutation testing of the checks and guards where a silent bug hurts most
// (issue 18), one group at a time (MUTATION_GROUP): each group's modules against the unit tests that are about them,
// so a mutant runs a few focused files, not the whole suite. The TAP runner runs node:test files through tsx.
// TypeScript 7 has no compiler API: no type checker drops mutants, and Stryker is pointed at no tsconfig.
import { groups } from './test/mutation/groups.mjs';

const name = process.env.MUTATION_GROUP ?? 'download';
const group = groups[name];
if (!group) throw new Error(`MUTATION_GROUP=${name}: not one of ${Object.keys(groups).join(', ')}`);

export default {
  testRunner: 'tap',
  tap: { testFiles: group.tests, nodeArgs: ['--import', 'tsx'] },
  mutate: group.mutate,
  coverageAnalysis: 'perTest',
  // Most tests wait on timers (a check's WAIT_TIMEOUT), not on the CPU: four at a time on two cores.
  concurrency: 4,
  timeoutMS: 30000,
  tsconfigFile: 'no-tsconfig-for-stryker.json',
  disableTypeChecks: false,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  incremental: true,
  incrementalFile: `test/mutation/incremental/${name}.json`,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
