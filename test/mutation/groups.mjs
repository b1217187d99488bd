// The mutation groups: the modules where a silent bug hurts most, each against the unit tests about it.
export const groups = {
  download: { mutate: ['tasks/lib/download.ts'], tests: ['test/download.test.ts'] },
  judges: {
    mutate: ['tasks/lib/bookinfo-page.ts', 'tasks/lib/bookinfo-checks.ts', 'tasks/lib/traffic-proof.ts'],
    tests: ['test/bookinfo-page.test.ts', 'test/istio-tasks.test.ts', 'test/traffic.test.ts', 'test/traffic-proof.test.ts'],
  },
  routing: {
    mutate: ['tasks/lib/routing.ts', 'tasks/mtls.ts'],
    tests: [
      'test/routing.test.ts',
      'test/routing-restore.test.ts',
      'test/review-fixes.test.ts',
      'test/istio-tasks.test.ts',
      'test/dry-run-golden.test.ts',
      'test/help-golden.test.ts',
    ],
  },
  teardown: {
    mutate: ['tasks/teardown.ts'],
    tests: ['test/chapters.test.ts', 'test/review-fixes.test.ts', 'test/dry-run-golden.test.ts', 'test/help-golden.test.ts'],
  },
  images: { mutate: ['tasks/lib/images.ts'], tests: ['test/images.test.ts', 'test/dry-run-golden.test.ts'] },
  poll: { mutate: ['tasks/lib/poll.ts', 'tasks/lib/progress.ts'], tests: ['test/poll.test.ts'] },
  shell: { mutate: ['tasks/lib/shell.ts'], tests: ['test/shell.test.ts'] },
  settings: {
    mutate: ['tasks/config/settings.ts'],
    tests: ['test/config.test.ts', 'test/settings.test.ts', 'test/help-golden.test.ts'],
  },
};
