// Istio's analyzers on files, Service and Pod included (see lab/NOTES.md). Built by lab/build.ts.
package main

import (
	"fmt"
	"os"

	"istio.io/istio/istioctl/pkg/util/formatting"
	"istio.io/istio/pkg/config/analysis/analyzers"
	"istio.io/istio/pkg/config/analysis/local"
	"istio.io/istio/pkg/config/resource"
)

func main() {
	var readers []local.ReaderSource
	for _, f := range os.Args[1:] {
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		readers = append(readers, local.ReaderSource{Name: f, Reader: fh})
	}
	sa := local.NewIstiodAnalyzer(analyzers.AllCombined(), "", resource.Namespace("istio-system"), nil)
	if err := sa.AddTestReaderKubeSource(readers); err != nil {
		fmt.Fprintln(os.Stderr, "parse:", err)
		os.Exit(3)
	}
	if err := sa.AddDefaultResources(); err != nil {
		fmt.Fprintln(os.Stderr, "defaults:", err)
		os.Exit(3)
	}
	res, err := sa.Analyze(make(chan struct{}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "analyze:", err)
		os.Exit(4)
	}
	out, err := formatting.Print(res.Messages, formatting.JSONFormat, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	fmt.Println(out)
}
