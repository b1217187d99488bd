// The mutation groups: the modules where a silent bug hurts most, each against the unit tests about it. The routing
// restore and mTLS, teardown's guards and the images list are not here yet: their tests (istio-tasks, chapters) wait
// out real WAIT_TIMEOUTs, 20-40 s a run, so a full run of those groups takes an hour on two cores (measured
// 2026-11-29); they come in once the poll takes an injectable clock (issue 18).
export const groups = {
  download: { mutate: ['tasks/lib/download.ts'], tests: ['test/download.test.ts'] },
  judges: {
    mutate: ['tasks/lib/bookinfo-page.ts', 'tasks/lib/bookinfo-checks.ts', 'tasks/lib/traffic-proof.ts'],
    tests: ['test/bookinfo-page.test.ts', 'test/istio-tasks.test.ts', 'test/traffic.test.ts'],
  },
  shell: { mutate: ['tasks/lib/shell.ts'], tests: ['test/shell.test.ts'] },
  settings: { mutate: ['tasks/config/settings.ts'], tests: ['test/config.test.ts'] },
};
