import { durationSeconds, names } from './config.ts';
import { workloadImages } from './lib/apps/images.ts';
import { proofs, type Verdict } from './lib/apps/traffic-proof.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { meshReportsMetrics, metricsOff } from './lib/istio/mesh-metrics.ts';
import { sidecarMode } from './lib/istio/mesh-mode.ts';
import { releaseFile } from './lib/istio/release-file.ts';
import { cannotLookHere, noDataPlane } from './lib/kube/data-plane.ts';
import {
  annotationOf,
  deleteObjects,
  exists,
  getObject,
  inNamespace,
  onObjects,
  ourLabels,
  rolloutStatus,
  waitFor,
} from './lib/kube/kube.ts';
import type { K8sObject } from './lib/kube/manifests.ts';
import { observe } from './lib/run/poll.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { ownNamespace } from './lib/steps/namespace.ts';
import { clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const { namespace, server, port, job } = names.traffic;
const jobRef = inNamespace(namespace, 'job', job);
/** On the Job: how many requests it was made to send (so a re-run with the same count changes nothing). */
const requestsAnnotation = 'fun-with-istio/requests';

const createTrafficNamespace = ownNamespace(
  `Create the namespace ${namespace}, ${sidecarMode.joined}`,
  namespace,
  sidecarMode.namespaceLabels,
);

const deployServer = step(`Deploy ${server} (samples/httpbin/httpbin.yaml)`, {
  done: async (ctx) => (await exists(ctx, inNamespace(namespace, 'deployment', server))) && `${server} is deployed`,
  run: async (ctx) => {
    const { docs, label } = releaseFile(ctx, 'httpbin/httpbin.yaml', namespace);
    await onObjects(ctx, 'apply', docs, { label });
    await rolloutStatus(ctx, inNamespace(namespace, 'deployment', server));
  },
});

/**
 * The Job's shell script: `count` requests, counted as they are answered (curl -f: an HTTP error is not an answer),
 * failing unless every one was. Shell arithmetic only: an image's shell need not have seq, and an empty loop must
 * not pass for traffic sent.
 */
export const loadScript = (count: number, url: string): string =>
  `ok=0; i=0; while [ "$i" -lt ${count} ]; do i=$((i+1)); curl -sf -o /dev/null ${url} && ok=$((ok+1)); done; ` +
  `echo "$ok of ${count} requests answered"; [ "$ok" -eq ${count} ]`;

/** The load generator: the curl sample's image, calling httpbin TRAFFIC_REQUESTS times, then done. */
function loadJob(ctx: Ctx): K8sObject {
  const [image = 'curl (from samples/curl/curl.yaml)'] = workloadImages(releaseFile(ctx, 'curl/curl.yaml', namespace).docs);
  const script = loadScript(ctx.config.trafficRequests, `http://${server}:${port}/get`);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: job,
      namespace,
      labels: ourLabels(),
      annotations: { [requestsAnnotation]: String(ctx.config.trafficRequests) },
    },
    spec: {
      backoffLimit: 0,
      template: {
        // No sidecar for the client: the proof reads httpbin's side (reporter=destination, httpbin's spans), and a
        // Job's pod ends only if no sidecar keeps running (classic sidecars do, below Kubernetes 1.33).
        metadata: { labels: { app: job, [names.injection.podLabel]: 'false' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'curl', image, command: ['/bin/sh', '-c', script] }] },
      },
    },
  };
}

/** What a Job that only seemed to run sent. */
const noneSent = "this cluster's nodes run no containers: no request was sent";

const sendTraffic = step('Send the requests from a load-generator Job', {
  // Done only when a Job for this count succeeded: a failed one, or one for another count, is replaced.
  done: async (ctx) => {
    const found = await getObject(ctx, jobRef);
    const succeeded = (found?.status as { succeeded?: number } | undefined)?.succeeded === 1;
    if (!succeeded || annotationOf(found, requestsAnnotation) !== String(ctx.config.trafficRequests)) return false;
    if (await noDataPlane(ctx)) return `job/${job} is complete, but ${noneSent}`;
    return `job/${job} sent ${ctx.config.trafficRequests} requests (another TRAFFIC_REQUESTS sends again)`;
  },
  run: async (ctx, task) => {
    // A Job's pod template cannot change: a Job for another count is replaced.
    if (await exists(ctx, jobRef)) await deleteObjects(ctx, jobRef, { wait: true });
    await onObjects(ctx, 'create', [loadJob(ctx)]);
    task.output = `${ctx.config.trafficRequests} requests to http://${server}:${port}/get`;
    await waitFor(ctx, jobRef, 'condition=Complete', (l) => (task.output = l));
    // Where nodes run no containers a Job completes without running: say so, not that requests went out.
    if (await noDataPlane(ctx)) task.output = `job/${job} is complete, but ${noneSent}`;
  },
});

const proveTraffic = step('Prove the mesh saw them (Prometheus, and the tracer)', {
  run: async (ctx, task) => {
    // The test lab: its nodes run no containers, so no request was really sent. Say so; do not pretend.
    if (await cannotLookHere(ctx, task)) return;
    const deadline = ctx.clock.now() + durationSeconds(ctx.config.waitTimeout) * 1000;
    const toProve = proofs(ctx.config);
    const metrics = toProve.some((p) => p.metrics) ? await meshReportsMetrics(ctx) : true;
    const said: string[] = [];
    /** A verdict, in the run log and on screen. */
    const say = (line: string): void => {
      ctx.sh.note(line);
      said.push(line);
    };
    for (const proof of toProve) {
      // A mesh without Istio's metrics (telemetry off) can never count requests: say so, and prove the rest.
      if (proof.metrics && !metrics) {
        say(`${proof.what}: ${metricsOff}`);
        continue;
      }
      const ask = async (): Promise<Verdict> => {
        const r = await ctx.sh.kubectl(['get', '--raw', proof.path], { allowFailure: true });
        return r.exitCode === 0 ? proof.judge(r.stdout) : { problem: r.stderr.trim().split('\n').pop() ?? 'no answer' };
      };
      const seen = (v: Verdict) => 'seen' in v && v.seen > 0;
      const says = () => `waiting for ${proof.what}${proof.metrics ? ' (Prometheus scrapes every 15 s)' : ''}`;
      const judge = (verdict: Verdict) => {
        if ('problem' in verdict) throw new StepError(`${proof.what}: ${verdict.problem}`);
        if (verdict.seen === 0)
          throw new StepError(`no ${proof.what.replace(/^a /, '')} for ${server} after ${ctx.config.waitTimeout}`);
        say(`${proof.what}: ${verdict.seen}`);
      };
      await observe(ctx, ask, seen, judge, { deadline, everyMs: 3000, waiting: { task, says } });
    }
    if (said.length) task.output = said.join('\n');
  },
});

/** The server, which needs only the injector: `all` deploys it while the injection demo runs. */
export const trafficServerSteps = (): Task[] => [createTrafficNamespace, deployServer];
/** The requests and their proof, which need the addons and the tracing. */
export const trafficSendSteps = (): Task[] => [sendTraffic, proveTraffic];
export const trafficSteps = (): Task[] => [...trafficServerSteps(), ...trafficSendSteps()];

export const traffic: TaskCommand = {
  kind: 'tasks',
  name: 'traffic',
  track: { mode: 'sidecar' },
  reads: ['traffic'],
  owns: { namespaces: [names.traffic.namespace] },
  summary: 'something to look at: httpbin, TRAFFIC_REQUESTS requests to it, proven in Prometheus and the tracer',
  examples: ['npm run traffic', 'TRAFFIC_REQUESTS=500 npm run traffic', 'npm run dashboard -- grafana   # then look'],
  details: `
Deploys the release's httpbin into ${namespace} (sidecar injection on), runs a Job that sends it
TRAFFIC_REQUESTS requests with the curl sample's image, then proves the mesh saw them: the request count
in Prometheus (istio_requests_total) and a trace of ${server} in Zipkin or Jaeger, asked through the API
server's service proxy. On a cluster whose nodes run no containers (the test lab) it says so instead.
Runs: kubectl --context <ctx> create|apply -f -|rollout status|wait|get --raw.`,
  tasks: () => [clusterReachable, istioRunning, getRelease, ...trafficSteps()],
};

runIfMain(import.meta.url, traffic);
