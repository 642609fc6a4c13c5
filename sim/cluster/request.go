package cluster

import (
	"net/http"
	"strings"
	"sync"

	"github.com/krosim/krosim/sim/verb"
)

// Request is one API request as the API server's apiserver_request_total
// labels it, so that krosim can subtract its own requests from the server's counts.
type Request struct {
	Verb        string // GET, LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION
	Group       string
	Resource    string
	Subresource string
	Scope       string // resource, namespace or cluster
}

// RequestOf is the request a series of the API server's request metrics
// counts, from its labels.
func RequestOf(l map[string]string) Request {
	return Request{Verb: l["verb"], Group: l["group"], Resource: l["resource"], Subresource: l["subresource"], Scope: l["scope"]}
}

// Excluded says which requests are not kro's reconciles: watches, and
// the cluster-wide LISTs of the resources kro keeps informers on (informed:
// its instances; its child watches start without a LIST). kro's own LISTs of
// a forEach collection's items are cluster-wide too, and are its.
func (q Request) Excluded(informed func(resource string) bool) bool {
	return q.Verb == "WATCH" || (q.Verb == "LIST" && q.Scope == "cluster" && informed(q.Resource))
}

// classify labels an HTTP request the way the API server does (requestinfo
// plus the metrics' verb and scope cleaning). ok is false for non-resource
// paths such as /metrics or /apis.
func classify(r *http.Request) (Request, bool) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:] // api, v1
	case len(parts) >= 4 && parts[0] == "apis":
		group, parts = parts[1], parts[3:] // apis, group, version
	default:
		return Request{}, false
	}
	ns := ""
	if len(parts) >= 3 && parts[0] == "namespaces" {
		ns, parts = parts[1], parts[2:]
	}
	q := Request{Group: group, Resource: parts[0]}
	name := ""
	if len(parts) > 1 {
		name = parts[1]
	}
	if len(parts) > 2 {
		q.Subresource = parts[2]
	}
	watch := r.URL.Query().Get("watch")
	switch r.Method {
	case http.MethodGet:
		switch {
		case watch == "true" || watch == "1":
			q.Verb = "WATCH"
		case name == "":
			q.Verb = "LIST"
		default:
			q.Verb = "GET"
		}
	case http.MethodPost:
		q.Verb = "POST"
	case http.MethodPut:
		q.Verb = "PUT"
	case http.MethodPatch:
		q.Verb = "PATCH"
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch") {
			q.Verb = "APPLY"
		}
	case http.MethodDelete:
		q.Verb = "DELETE"
		if name == "" {
			q.Verb = "DELETECOLLECTION"
		}
	default:
		q.Verb = r.Method
	}
	switch {
	case name != "" || q.Verb == "POST":
		q.Scope = "resource"
	case ns != "":
		q.Scope = "namespace"
	default:
		q.Scope = "cluster"
	}
	return q, true
}

// counter counts krosim's own API requests; every transport of its clients
// shares one (rest.Config.Wrap is called once per client).
type counter struct {
	mu sync.Mutex
	n  map[Request]int
}

func newCounter() *counter { return &counter{n: map[Request]int{}} }

// wrap returns a RoundTripper that counts into c.
func (c *counter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if q, ok := classify(r); ok {
			c.mu.Lock()
			c.n[q]++
			c.mu.Unlock()
		}
		return next.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// snapshot returns a copy of the counts.
func (c *counter) snapshot() map[Request]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Request]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// KroVerb maps a server verb to krosim's verbs (sim/api): server-side apply
// and merge patches are both "patch", a PUT of the status subresource is
// "update_status". WATCH has no krosim verb.
func (q Request) KroVerb() (verb.Verb, bool) {
	switch q.Verb {
	case "GET":
		return verb.Get, true
	case "LIST":
		return verb.List, true
	case "POST":
		return verb.Create, true
	case "PUT":
		if q.Subresource == "status" {
			return verb.UpdateStatus, true
		}
		return verb.Update, true
	case "PATCH", "APPLY":
		return verb.Patch, true
	case "DELETE", "DELETECOLLECTION":
		return verb.Delete, true
	}
	return "", false
}
