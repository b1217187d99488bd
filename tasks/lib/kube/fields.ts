// The jsonpaths the ambient track asks, in one place: the steps ask them, and the dry-run model answers them as a
// cluster where the chapters before ran would.
import { names } from '../../config.ts';

const escaped = (key: string) => key.replace(/\./g, '\\.');

/** Each DaemonSet of a `get ds/a ds/b` as `name=ready/wanted`, space-separated (the pods ready on the nodes it wants). */
export const daemonSetsReadyPath =
  '{range .items[*]}{.metadata.name}={.status.numberReady}/{.status.desiredNumberScheduled} {end}';

/** The DaemonSets of `daemonSetsReadyPath`'s answer that are not ready on every node they want (or want none). */
export function notReadyDaemonSets(answer: string, wanted: string[]): string[] {
  const seen = new Map(
    answer
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((s) => s.split('=') as [string, string]),
  );
  return wanted.filter((name) => {
    const [ready, want] = (seen.get(name) ?? '').split('/');
    return !(Number(want) >= 1 && ready === want);
  });
}

/** A Gateway's (or a waypoint's) Programmed condition: 'True' once istiod has programmed it. */
export const programmedPath = '{.status.conditions[?(@.type=="Programmed")].status}';

/** A Gateway API CRD's name, then the bundle version its release stamped on it (empty for a CRD without one). */
export const gatewayApiCrdPath = `{.metadata.name} {.metadata.annotations.${escaped('gateway.networking.k8s.io/bundle-version')}}`;

/** A namespace's ambient enrolment label. */
export const dataplaneModePath = `{.metadata.labels.${escaped(names.ambient.dataplaneLabel)}}`;

/**
 * A namespace's sidecar-injection label and its ambient enrolment label, as `<injection>/<enrolment>` (the sidecar
 * track's Bookinfo: `enabled/`; moved: `/ambient`). A separator, not a space: the answer is trimmed.
 */
export const trackLabelsPath = `{.metadata.labels.${escaped(names.injection.namespaceLabel)}}/{.metadata.labels.${escaped(names.ambient.dataplaneLabel)}}`;

/** Whether istiod runs with ambient support ('true': the ambient profile's PILOT_ENABLE_AMBIENT). */
export const ambientSupportPath = '{.spec.template.spec.containers[0].env[?(@.name=="PILOT_ENABLE_AMBIENT")].value}';
