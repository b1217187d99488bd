// What the real istiod serves one pod's proxy: connects to pilot-discovery's plaintext xDS port as that pod's
// Envoy would (a sidecar, or an ambient waypoint), asks for clusters, listeners and the routes they name, and prints
// them as JSON; or, as the node's ztunnel, asks over delta xDS for the ambient workload API (addresses and
// authorizations). The lab has no Envoy and no ztunnel; this is its window on the configuration they would receive.
// Built by lab/build.ts.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	_ "github.com/cncf/xds/go/udpa/type/v1"     // TypedStruct, as Istio's own filters are configured
	_ "github.com/cncf/xds/go/xds/type/v3"      // the same, newer name
	_ "istio.io/istio/pkg/config/xds"           // registers every Envoy type, so typed configs print in full
	_ "istio.io/istio/pkg/workloadapi"          // istio.workload.Address, what ztunnel receives
	_ "istio.io/istio/pkg/workloadapi/security" // istio.security.Authorization
)

// anyType resolves registered types, and prints any other typed config as just its "@type".
type anyType struct{ *protoregistry.Types }

func (anyType) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	if mt, err := protoregistry.GlobalTypes.FindMessageByURL(url); err == nil {
		return mt, nil
	}
	return (&emptypb.Empty{}).ProtoReflect().Type(), nil
}

var marshal = protojson.MarshalOptions{Resolver: anyType{protoregistry.GlobalTypes}}

const (
	clusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	listenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	routeType    = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	// The workload API (WDS) istiod serves ztunnel, over delta xDS only.
	addressType       = "type.googleapis.com/istio.workload.Address"
	authorizationType = "type.googleapis.com/istio.security.Authorization"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "xds-dump: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	addr := flag.String("addr", "", "pilot-discovery's plaintext xDS address, host:port")
	as := flag.String("as", "sidecar", "connect as the pod's sidecar, as a waypoint (the pod is the waypoint's) or as a ztunnel (the pod is ztunnel's)")
	namespace := flag.String("namespace", "default", "the pod's namespace")
	pod := flag.String("pod", "", "the pod's name")
	ip := flag.String("ip", "", "the pod's IP (istiod finds the pod by it)")
	nodeName := flag.String("node-name", "", "the pod's node (ztunnel reports it)")
	labelsJSON := flag.String("labels", "{}", "the pod's labels, as a JSON object")
	version := flag.String("istio-version", "", "ISTIO_VERSION the proxy reports")
	timeout := flag.Duration("timeout", 20*time.Second, "give up after this long")
	flag.Parse()
	if *addr == "" || *pod == "" || *ip == "" {
		fail("-addr, -pod and -ip are required")
	}
	labels := map[string]any{}
	if err := json.Unmarshal([]byte(*labelsJSON), &labels); err != nil {
		fail("-labels: %v", err)
	}
	var metadata map[string]any
	switch *as {
	case "sidecar", "waypoint":
		// What pilot-agent sends for `proxy sidecar` and `proxy waypoint` (the waypoint template sets the same keys).
		metadata = map[string]any{
			"NAMESPACE": *namespace, "NAME": *pod, "LABELS": labels, "ISTIO_VERSION": *version,
			"CLUSTER_ID": "Kubernetes", "INTERCEPTION_MODE": "REDIRECT", "MESH_ID": "cluster.local",
		}
	case "ztunnel":
		// What ztunnel's xDS client sends (src/xds/client.rs node()): NAME, NAMESPACE, INSTANCE_IPS, NODE_NAME, then
		// its proxy metadata (ISTIO_VERSION, CLUSTER_ID). No labels: istiod serves every workload, not one pod's view.
		metadata = map[string]any{
			"NAMESPACE": *namespace, "NAME": *pod, "INSTANCE_IPS": *ip, "NODE_NAME": *nodeName,
			"ISTIO_VERSION": *version, "CLUSTER_ID": "Kubernetes",
		}
	default:
		fail("-as=%s: want sidecar, waypoint or ztunnel", *as)
	}
	meta, err := structpb.NewStruct(metadata)
	if err != nil {
		fail("metadata: %v", err)
	}
	// The node type is the first part of the id: pilot-agent's `proxy <type>` argument, or ztunnel's own.
	node := &core.Node{
		Id:       fmt.Sprintf("%s~%s~%s.%s~%s.svc.cluster.local", *as, *ip, *pod, *namespace, *namespace),
		Metadata: meta,
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)))
	if err != nil {
		fail("dial %s: %v", *addr, err)
	}
	defer conn.Close()
	ads := discovery.NewAggregatedDiscoveryServiceClient(conn)
	var out map[string][]json.RawMessage
	if *as == "ztunnel" {
		out = workloadAPI(ctx, ads, node)
	} else {
		out = envoyConfig(ctx, ads, node)
	}
	text, err := json.Marshal(out)
	if err != nil {
		fail("json: %v", err)
	}
	fmt.Println(string(text))
}

// envoyConfig is what Envoy asks for over state-of-the-world ADS: one request per type, answered and acknowledged
// before the next, as Envoy starts up (CDS, LDS, then RDS).
func envoyConfig(ctx context.Context, ads discovery.AggregatedDiscoveryServiceClient, node *core.Node) map[string][]json.RawMessage {
	stream, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		fail("stream: %v", err)
	}
	fetch := func(typeURL string, names []string) []*anypb.Any {
		if err := stream.Send(&discovery.DiscoveryRequest{Node: node, TypeUrl: typeURL, ResourceNames: names}); err != nil {
			fail("send %s: %v", typeURL, err)
		}
		for {
			resp, err := stream.Recv()
			if err != nil {
				fail("receive %s: %v", typeURL, err)
			}
			if resp.TypeUrl != typeURL {
				continue
			}
			_ = stream.Send(&discovery.DiscoveryRequest{Node: node, TypeUrl: typeURL, ResourceNames: names,
				VersionInfo: resp.VersionInfo, ResponseNonce: resp.Nonce})
			return resp.Resources
		}
	}
	clusters := fetch(clusterType, nil)
	listeners := fetch(listenerType, nil)
	// No names is a wildcard request to Envoy, and istiod answers none for RDS: a waypoint with no HTTP service yet.
	routes := []*anypb.Any{}
	if names := routeNames(listeners); len(names) > 0 {
		routes = fetch(routeType, names)
	}
	return map[string][]json.RawMessage{"clusters": raw(clusters), "listeners": raw(listeners), "routes": raw(routes)}
}

// workloadAPI is what ztunnel asks for: delta ADS (DeltaAggregatedResources; istiod serves the workload types on no
// other stream), a wildcard subscription (no names: every resource) to addresses, then authorizations, each response
// acknowledged. The first response to a wildcard subscription is the full set.
func workloadAPI(ctx context.Context, ads discovery.AggregatedDiscoveryServiceClient, node *core.Node) map[string][]json.RawMessage {
	stream, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		fail("delta stream: %v", err)
	}
	fetch := func(typeURL string) []*anypb.Any {
		if err := stream.Send(&discovery.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL}); err != nil {
			fail("send %s: %v", typeURL, err)
		}
		for {
			resp, err := stream.Recv()
			if err != nil {
				fail("receive %s: %v", typeURL, err)
			}
			_ = stream.Send(&discovery.DeltaDiscoveryRequest{Node: node, TypeUrl: resp.TypeUrl, ResponseNonce: resp.Nonce})
			if resp.TypeUrl != typeURL {
				continue
			}
			resources := make([]*anypb.Any, 0, len(resp.Resources))
			for _, r := range resp.Resources {
				resources = append(resources, r.Resource)
			}
			return resources
		}
	}
	addresses := fetch(addressType)
	authorizations := fetch(authorizationType)
	return map[string][]json.RawMessage{"addresses": raw(addresses), "authorizations": raw(authorizations)}
}

// routeNames are the RDS names the listeners' HTTP connection managers ask for.
func routeNames(listeners []*anypb.Any) []string {
	seen := map[string]bool{}
	for _, a := range listeners {
		l := &listener.Listener{}
		if err := a.UnmarshalTo(l); err != nil {
			continue
		}
		chains := append(l.GetFilterChains(), l.GetDefaultFilterChain())
		for _, c := range chains {
			for _, f := range c.GetFilters() {
				m := &hcm.HttpConnectionManager{}
				if f.GetTypedConfig() == nil || f.GetTypedConfig().UnmarshalTo(m) != nil {
					continue
				}
				if name := m.GetRds().GetRouteConfigName(); name != "" {
					seen[name] = true
				}
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func raw(resources []*anypb.Any) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(resources))
	for _, r := range resources {
		b, err := marshal.Marshal(r)
		if err != nil {
			fail("marshal %s: %v", r.TypeUrl, err)
		}
		out = append(out, b)
	}
	return out
}
