#!/usr/bin/env bash
# plain-all.sh: `npm run all` on an existing cluster written as a plain shell script, the baseline of
# `npm run bench` (lab/bench.ts). It mirrors `node --import tsx Taskfile.ts all --dry-run` with CLUSTER=existing
# (the lab's .lab/env): the same changes and the same waits in the same order, but one after another and with no
# checks, probes, logs or skips, so it is meant for a fresh cluster. Not mirrored: the version and API checks, the
# reads each step makes to decide whether it is done, the pod inspections of the injection demo, the addon URLs
# and the traffic proof (all reads); `all` also overlaps the CA with its checks and the addons with the demo.
# It is what a user would write: plain `kubectl create` and `apply` of the files. The tool's own label, which a later
# `all` needs to find this end state its own, is put on afterwards and untimed by lab/bench/label-after.sh.
#
# Inputs (the environment, as the tool reads them; `set -a; . .lab/env; set +a` sets the first five):
#   KUBE_CONTEXT, KUBECONFIG, ISTIO_HOME, ISTIO_VERSION, ISTIO_OVERLAY (optional)
#   CACHE_DIR (the CA goes to $CACHE_DIR/certs, the tool's layout), ISTIO_PROFILE, WAIT_TIMEOUT,
#   SAMPLE_NAMESPACE, TRACING_SAMPLING, TRAFFIC_REQUESTS: the tool's defaults when unset.
# kubectl, make and openssl come from PATH.
set -euo pipefail

ctx=${KUBE_CONTEXT:?KUBE_CONTEXT: the kube context to change}
istio_home=${ISTIO_HOME:?ISTIO_HOME: an unpacked Istio release}
istio_version=${ISTIO_VERSION:?ISTIO_VERSION: the release in ISTIO_HOME}
cache_dir=${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fun-with-istio}
profile=${ISTIO_PROFILE:-demo}
timeout=${WAIT_TIMEOUT:-300s}
sample_ns=${SAMPLE_NAMESPACE:-fun-with-istio}
sampling=${TRACING_SAMPLING:-100}
requests=${TRAFFIC_REQUESTS:-100}
traffic_ns=fun-with-istio-traffic
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

k() { kubectl --context "$ctx" "$@"; }
rollout() { k -n "$1" rollout status deployment "$2" --timeout="$timeout"; }

# webhook-certs: a root and an intermediate CA (Istio's tools/certs recipe), plugged in as Secret cacerts
certs=$cache_dir/certs
cluster=${ctx//[^A-Za-z0-9._-]/_}
mkdir -p "$certs"
make -s -C "$certs" -f "$istio_home/tools/certs/Makefile.selfsigned.mk" root-ca "$cluster-cacerts"
k create namespace istio-system
k -n istio-system create secret generic cacerts \
  --from-file="$certs/$cluster/ca-cert.pem" --from-file="$certs/$cluster/ca-key.pem" \
  --from-file="$certs/$cluster/root-cert.pem" --from-file="$certs/$cluster/cert-chain.pem"

# install-istio
overlay=()
if [[ -n ${ISTIO_OVERLAY:-} ]]; then overlay=(-f "$ISTIO_OVERLAY"); fi
"$istio_home/bin/istioctl" --context "$ctx" install --set "profile=$profile" \
  --set meshConfig.enableTracing=true \
  --set 'meshConfig.extensionProviders[0].name=zipkin' \
  --set 'meshConfig.extensionProviders[0].zipkin.service=zipkin.istio-system.svc.cluster.local' \
  --set 'meshConfig.extensionProviders[0].zipkin.port=9411' \
  "${overlay[@]}" --readiness-timeout "$timeout" -y
k -n istio-system wait deployment --for=condition=Available --all --timeout="$timeout"
k wait mutatingwebhookconfiguration istio-sidecar-injector \
  '--for=jsonpath={.webhooks[0].clientConfig.caBundle}' --timeout="$timeout"

# injection: sleep without a sidecar, the namespace labelled, the pod recreated, opt-out, opt-in, label removed
k create namespace "$sample_ns"
k -n "$sample_ns" apply -f "$root/manifests/sleep.yaml"
rollout "$sample_ns" sleep
k label namespace "$sample_ns" istio-injection=enabled --overwrite
k annotate namespace "$sample_ns" fun-with-istio/injection-labelled=true --overwrite
k -n "$sample_ns" rollout restart deployment sleep
rollout "$sample_ns" sleep
for inject in false true; do
  k -n "$sample_ns" patch deployment sleep --type merge \
    -p "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"sidecar.istio.io/inject\":\"$inject\"}}}}}"
  rollout "$sample_ns" sleep
done
k -n "$sample_ns" patch deployment sleep --type json \
  -p '[{"op":"remove","path":"/spec/template/metadata/labels/sidecar.istio.io~1inject"}]'
rollout "$sample_ns" sleep
k annotate namespace "$sample_ns" "fun-with-istio/injection-verified=$istio_version" --overwrite
k -n "$sample_ns" delete -f "$root/manifests/sleep.yaml" --ignore-not-found --wait=true

# addons: Prometheus, Grafana and Zipkin from the release, the two UIs' Services made NodePorts (patches/)
addons=$istio_home/samples/addons
k apply -f "$addons/prometheus.yaml"
k apply -f "$addons/grafana.yaml"
k -n istio-system patch service grafana --patch-file "$root/patches/grafana-service.yaml"
k apply -f "$addons/extras/zipkin.yaml"
k -n istio-system patch service zipkin --patch-file "$root/patches/zipkin-service.yaml"
k -n istio-system wait deployment/prometheus deployment/grafana deployment/zipkin \
  --for=condition=Available --timeout="$timeout"
k apply -f - <<EOF
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  tracing: [{providers: [{name: zipkin}], randomSamplingPercentage: $sampling}]
EOF

# traffic: httpbin in an injected namespace, called by a load-generator Job with the curl sample's image
k create namespace "$traffic_ns"
k label namespace "$traffic_ns" istio-injection=enabled
k -n "$traffic_ns" apply -f "$istio_home/samples/httpbin/httpbin.yaml"
rollout "$traffic_ns" httpbin
image=$(sed -n 's/^ *image: *//p' "$istio_home/samples/curl/curl.yaml" | head -1)
k create -f - <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: traffic
  namespace: $traffic_ns
  annotations: {fun-with-istio/requests: "$requests"}
spec:
  backoffLimit: 0
  template:
    metadata:
      labels: {app: traffic, sidecar.istio.io/inject: "false"}
    spec:
      restartPolicy: Never
      containers:
      - name: curl
        image: $image
        command: [/bin/sh, -c, 'for i in \$(seq $requests); do curl -s -o /dev/null http://httpbin:8000/get; done']
EOF
k -n "$traffic_ns" wait job traffic --for=condition=Complete --timeout="$timeout"
