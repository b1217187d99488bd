// The mutation groups: the modules where a silent bug hurts most, each against the unit tests about it. The routing
// restore and mTLS, teardown's guards and the images list are not here yet: with the tests about them (istio-tasks
// with review-fixes, 40-50 s a run; chapters, ~25 s) a full run of those groups takes about an hour on two cores
// (measured 2026-11-29); they come in once the poll takes an injectable clock and those tests get faster (issue 18).
export const groups = {
  download: { mutate: ['tasks/lib/download.ts'], tests: ['test/download.test.ts'] },
  judges: {
    mutate: ['tasks/lib/bookinfo-page.ts', 'tasks/lib/bookinfo-checks.ts', 'tasks/lib/traffic-proof.ts'],
    tests: ['test/bookinfo-page.test.ts', 'test/istio-tasks.test.ts', 'test/traffic.test.ts'],
  },
  shell: { mutate: ['tasks/lib/shell.ts'], tests: ['test/shell.test.ts'] },
  settings: { mutate: ['tasks/config/settings.ts'], tests: ['test/config.test.ts'] },
};
