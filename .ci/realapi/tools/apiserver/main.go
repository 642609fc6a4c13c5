// Command apiserver is k8s.io/apiextensions-apiserver plus what kro needs from
// a real cluster's API server: root discovery and CRD OpenAPI schemas.
//
// Upstream's standalone apiextensions-apiserver leaves two things to the rest
// of a real control plane (kube-aggregator, kube-apiserver):
//
//  1. Root discovery. It hard-codes EnableDiscovery = false, so GET /apis is
//  404. kubectl and every controller-runtime manager (kro's included) need
//     /apis to build a RESTMapper; against the unmodified binary kro fails with
//     "failed to get server groups". Here GET /api and GET /apis are answered
//     from the server's own aggregated-discovery manager, which the
//     apiextensions discovery controller already keeps up to date with every
//     CRD group. The handler sits inside the normal handler chain, so
//     discovery requests are authenticated and authorized like any other.
//  2. CRD OpenAPI. It configures only OpenAPI v3, but starts its CRD OpenAPI
//     controllers (v2 and v3) only when the v2 spec is configured too, so
//     /openapi/v3 never lists CRD groups. kro resolves every resource's schema
//     from /openapi/v3 and rejects RGDs with "cannot resolve group version".
//     Here the v2 OpenAPI config is set the same way as the v3 one, as
//     kube-apiserver does, which turns both controllers on.
//
// Flags, defaults and every other request path are upstream's.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/spf13/cobra"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	"k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	generatedopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	aggregated "k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/component-base/cli"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	os.Exit(cli.Run(newCommand(ctx, os.Stdout, os.Stderr)))
}

// newCommand mirrors k8s.io/apiextensions-apiserver/pkg/cmd/server.NewServerCommand,
// so that flags and defaults are exactly upstream's.
func newCommand(ctx context.Context, out, errOut io.Writer) *cobra.Command {
	o := options.NewCustomResourceDefinitionsServerOptions(out, errOut)
	cmd := &cobra.Command{
		Use:   "krosim-apiserver",
		Short: "apiextensions-apiserver with root discovery (/api, /apis)",
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return o.ServerRunOptions.ComponentGlobalsRegistry.Set()
		},
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return run(c.Context(), o)
		},
	}
	cmd.SetContext(ctx)
	o.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, o *options.CustomResourceDefinitionsServerOptions) error {
	config, err := o.Config()
	if err != nil {
		return err
	}

	// Serve OpenAPI v2 as well (see the package comment, point 2); built
	// exactly like upstream's OpenAPIV3Config in options.Config.
	config.GenericConfig.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(
		openapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generatedopenapi.GetOpenAPIDefinitions),
		openapinamer.NewDefinitionNamer(apiserver.Scheme, scheme.Scheme))

	// The handler chain is built inside New, before the server (and its
	// discovery managers) exist; the wrapper reads server when serving.
	var server *apiserver.CustomResourceDefinitions
	buildChain := config.GenericConfig.BuildHandlerChainFunc
	config.GenericConfig.BuildHandlerChainFunc = func(h http.Handler, c *genericapiserver.Config) http.Handler {
		return buildChain(withRootDiscovery(h, func() *genericapiserver.GenericAPIServer { return server.GenericAPIServer }), c)
	}

	server, err = config.Complete().New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return err
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// withRootDiscovery answers GET /api and GET /apis and passes everything else to next.
func withRootDiscovery(next http.Handler, generic func() *genericapiserver.GenericAPIServer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || (r.URL.Path != "/api" && r.URL.Path != "/apis") {
			next.ServeHTTP(w, r)
			return
		}
		s := generic()
		if r.URL.Path == "/api" {
			// No legacy (core) group: an empty aggregated document or an
			// empty APIVersions, depending on what the client accepts.
			aggregated.WrapAggregatedDiscoveryToHandler(
				http.HandlerFunc(serveEmptyAPIVersions), s.AggregatedLegacyDiscoveryGroupManager, nil).ServeHTTP(w, r)
			return
		}
		agg := s.AggregatedDiscoveryGroupManager
		aggregated.WrapAggregatedDiscoveryToHandler(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveAPIGroupList(w, r, agg) }),
			agg, nil).ServeHTTP(w, r)
	})
}

func serveEmptyAPIVersions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, &metav1.APIVersions{
		TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
		Versions: []string{},
	})
}

// serveAPIGroupList serves the unaggregated /apis document (metav1.APIGroupList)
// for clients that do not ask for aggregated discovery, derived from the
// aggregated one so that both always agree. Versions keep the aggregated
// document's order, whose first entry is the preferred version.
func serveAPIGroupList(w http.ResponseWriter, r *http.Request, agg http.Handler) {
	req := r.Clone(r.Context())
	req.Header.Set("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	req.Header.Del("If-None-Match")
	rec := httptest.NewRecorder()
	agg.ServeHTTP(rec, req)
	var doc apidiscoveryv2.APIGroupDiscoveryList
	if rec.Code != http.StatusOK {
		http.Error(w, fmt.Sprintf("aggregated discovery: HTTP %d", rec.Code), http.StatusInternalServerError)
		return
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		http.Error(w, "aggregated discovery: "+err.Error(), http.StatusInternalServerError)
		return
	}

	list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{}}
	for _, g := range doc.Items {
		if len(g.Versions) == 0 {
			continue
		}
		group := metav1.APIGroup{Name: g.Name}
		for _, v := range g.Versions {
			group.Versions = append(group.Versions, metav1.GroupVersionForDiscovery{
				GroupVersion: g.Name + "/" + v.Version,
				Version:      v.Version,
			})
		}
		group.PreferredVersion = group.Versions[0]
		list.Groups = append(list.Groups, group)
	}
	writeJSON(w, list)
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
