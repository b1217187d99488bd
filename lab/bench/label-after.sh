#!/usr/bin/env bash
# label-after.sh: run by `npm run bench` after plain-all.sh, untimed. It puts the tool's label on what the plain
# script made, so the `all` that follows finds that end state its own (and must change nothing). A user's script
# would not do this: it is the bench's, not part of the baseline. Inputs as plain-all.sh's.
set -euo pipefail

ctx=${KUBE_CONTEXT:?KUBE_CONTEXT: the kube context}
istio_home=${ISTIO_HOME:?ISTIO_HOME: an unpacked Istio release}
sample_ns=${SAMPLE_NAMESPACE:-fun-with-istio}
traffic_ns=fun-with-istio-traffic
managed=app.kubernetes.io/managed-by=fun-with-istio
addons=$istio_home/samples/addons

k() { kubectl --context "$ctx" "$@"; }
k label --overwrite namespace istio-system "$sample_ns" "$traffic_ns" "$managed"
k -n istio-system label --overwrite secret/cacerts telemetry/mesh-default "$managed"
k label --overwrite -f "$addons/prometheus.yaml" -f "$addons/grafana.yaml" -f "$addons/extras/zipkin.yaml" "$managed"
k -n "$traffic_ns" label --overwrite -f "$istio_home/samples/httpbin/httpbin.yaml" "$managed"
k -n "$traffic_ns" label --overwrite job traffic "$managed"
