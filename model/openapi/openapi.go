package openapi

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"weak"
)

//go:generate go run ./gen -o builtin.json.gz

// Schema is the part of an OpenAPI v3 schema that decides a field's CEL type.
type Schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Type                 string             `json:"type,omitempty"`
	Format               string             `json:"format,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	AdditionalProperties *Schema            `json:"additionalProperties,omitempty"`
	OneOf                []*Schema          `json:"oneOf,omitempty"`
	IntOrString          bool               `json:"x-kubernetes-int-or-string,omitempty"`
	PreserveUnknown      bool               `json:"x-kubernetes-preserve-unknown-fields,omitempty"`
}

// Set is a collection of kinds' schemas. Named types are shared through
// Types and referenced by Ref, so recursive types stay finite.
type Set struct {
	Source string             `json:"source"`          // where the schemas come from
	Kinds  map[string]string  `json:"kinds"`           // "group/version/Kind" (core: "version/Kind") -> type name
	Types  map[string]*Schema `json:"types"`           // by name
	Roots  map[string]*Schema `json:"roots,omitempty"` // inline root schemas by kind key (CRDs)
}

// KindKey is the key of a kind in Set.Kinds: apiVersion "/" kind.
func KindKey(apiVersion, kind string) string { return apiVersion + "/" + kind }

// Kind returns the root schema of a kind, or nil when the set has none.
func (s *Set) Kind(apiVersion, kind string) *Schema {
	if s == nil {
		return nil
	}
	key := KindKey(apiVersion, kind)
	if r, ok := s.Roots[key]; ok {
		return r
	}
	if name, ok := s.Kinds[key]; ok {
		return &Schema{Ref: name}
	}
	return nil
}

// Resolve follows a schema's Ref, returning the named type or sc itself.
func (s *Set) Resolve(sc *Schema) *Schema {
	for i := 0; sc != nil && sc.Ref != "" && i < 16; i++ {
		sc = s.Types[sc.Ref]
	}
	return sc
}

// Add adds the kinds of o to s, o's kinds winning.
func (s *Set) Add(o *Set) {
	if s.Roots == nil {
		s.Roots = map[string]*Schema{}
	}
	for k, v := range o.Roots {
		s.Roots[k] = v
	}
	for k, v := range o.Kinds {
		s.Kinds[k] = v
	}
	for k, v := range o.Types {
		s.Types[k] = v
	}
}

//go:embed builtin.json.gz
var builtinGz []byte

// builtin is the decoded builtinGz while anything holds it. Decoded, the
// schemas take about 1 MB of heap; loaders only need them while they load,
// so a run does not keep them, and loads close together share them.
var builtin struct {
	sync.Mutex
	set weak.Pointer[Set]
}

// Builtin returns the schemas of the Kubernetes built-in kinds. The caller
// must not modify the set.
func Builtin() *Set {
	builtin.Lock()
	defer builtin.Unlock()
	if s := builtin.set.Value(); s != nil {
		return s
	}
	s, err := Decode(builtinGz)
	if err != nil {
		panic(fmt.Sprintf("openapi: embedded builtin.json.gz: %v", err)) // generated file is broken
	}
	builtin.set = weak.Make(s)
	return s
}

// Encode writes a set as gzipped JSON, byte for byte the same for the same set.
func Encode(s *Set) ([]byte, error) {
	js, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(js); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode reads a set written by Encode.
func Decode(gz []byte) (*Set, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	s := &Set{}
	if err := json.Unmarshal(js, s); err != nil {
		return nil, err
	}
	return s, nil
}

// CRD returns the kinds a CustomResourceDefinition defines, one for each
// version with an openAPIV3Schema, from the CRD as JSON.
func CRD(js []byte) (*Set, error) {
	var crd struct {
		APIVersion string
		Kind       string
		Spec       struct {
			Group string
			Names struct{ Kind string }
			// A CRD with one schema for every version (apiextensions v1beta1).
			Validation *struct {
				OpenAPIV3Schema *Schema `json:"openAPIV3Schema"`
			}
			Versions []struct {
				Name   string
				Schema *struct {
					OpenAPIV3Schema *Schema `json:"openAPIV3Schema"`
				}
			}
		}
	}
	if err := json.Unmarshal(js, &crd); err != nil {
		return nil, fmt.Errorf("reading CustomResourceDefinition: %v", err)
	}
	if crd.Kind != "CustomResourceDefinition" {
		return nil, fmt.Errorf("kind is %q, not CustomResourceDefinition", crd.Kind)
	}
	if crd.Spec.Group == "" || crd.Spec.Names.Kind == "" {
		return nil, fmt.Errorf("CustomResourceDefinition needs spec.group and spec.names.kind")
	}
	s := &Set{Source: "CustomResourceDefinition", Kinds: map[string]string{}, Types: map[string]*Schema{}, Roots: map[string]*Schema{}}
	for _, v := range crd.Spec.Versions {
		var sc *Schema
		switch {
		case v.Schema != nil && v.Schema.OpenAPIV3Schema != nil:
			sc = v.Schema.OpenAPIV3Schema
		case crd.Spec.Validation != nil && crd.Spec.Validation.OpenAPIV3Schema != nil:
			sc = crd.Spec.Validation.OpenAPIV3Schema
		default:
			continue
		}
		s.Roots[KindKey(crd.Spec.Group+"/"+v.Name, crd.Spec.Names.Kind)] = sc
	}
	return s, nil
}
