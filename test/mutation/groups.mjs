// The mutation groups: the modules where a silent bug hurts most, each against the unit tests about it.
export const groups = {
  download: { mutate: ['tasks/lib/istio/download.ts'], tests: ['test/download.test.ts'] },
  judges: {
    mutate: ['tasks/lib/apps/bookinfo-page.ts', 'tasks/lib/apps/bookinfo-checks.ts', 'tasks/lib/apps/traffic-proof.ts'],
    tests: [
      'test/bookinfo-page.test.ts',
      'test/istio-tasks.test.ts',
      'test/traffic.test.ts',
      'test/traffic-proof.test.ts',
      'test/ambient.test.ts',
    ],
  },
  routing: {
    mutate: ['tasks/lib/istio/routing.ts', 'tasks/mtls.ts'],
    tests: [
      'test/routing.test.ts',
      'test/routing-restore.test.ts',
      'test/edges.test.ts',
      'test/istio-tasks.test.ts',
      'test/dry-run-golden.test.ts',
      'test/help-golden.test.ts',
      'test/mesh-mode-config.test.ts',
    ],
  },
  teardown: {
    mutate: ['tasks/teardown.ts'],
    tests: [
      'test/chapters.test.ts',
      'test/edges.test.ts',
      'test/dry-run-golden.test.ts',
      'test/help-golden.test.ts',
      'test/ambient.test.ts',
      'test/teardown-gateway-api.test.ts',
      'test/upgrade.test.ts',
    ],
  },
  images: { mutate: ['tasks/lib/apps/images.ts'], tests: ['test/images.test.ts', 'test/dry-run-golden.test.ts'] },
  poll: { mutate: ['tasks/lib/run/poll.ts', 'tasks/lib/run/progress.ts'], tests: ['test/poll.test.ts'] },
  shell: { mutate: ['tasks/lib/exec/shell.ts'], tests: ['test/shell.test.ts', 'test/api-reads.test.ts'] },
  reads: {
    mutate: ['tasks/lib/kube/api-reads.ts', 'tasks/lib/kube/kubeconfig.ts'],
    tests: ['test/api-reads.test.ts', 'test/api-reads-limit.test.ts'],
  },
  ambient: {
    mutate: ['tasks/lib/istio/gateway-api.ts'],
    tests: [
      'test/gateway-api.test.ts',
      'test/ambient.test.ts',
      'test/mesh-mode-config.test.ts',
      'test/dry-run-golden.test.ts',
      'test/help-golden.test.ts',
    ],
  },
  'ambient-chapters': {
    mutate: [
      'tasks/lib/apps/ambient-checks.ts',
      'tasks/lib/apps/bookinfo-ambient.ts',
      'tasks/lib/apps/in-mesh-client.ts',
      'tasks/lib/steps/gateway-api.ts',
    ],
    tests: ['test/ambient.test.ts', 'test/ambient-judges.test.ts'],
  },
  settings: {
    mutate: ['tasks/config/settings.ts'],
    tests: [
      'test/config.test.ts',
      'test/settings.test.ts',
      'test/help-golden.test.ts',
      'test/mesh-mode-config.test.ts',
      'test/ambient.test.ts',
    ],
  },
};
