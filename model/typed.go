package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/google/cel-go/common/types"

	"github.com/krosim/krosim/model/openapi"
)

// kinds types resources from OpenAPI schemas, as kro does from the cluster's
// /openapi/v3 and CRDs' openAPIV3Schema. Converted types are shared by every
// RGD a loader reads, so each named schema is converted once.
type kinds struct {
	set   *openapi.Set
	named map[string]*Type // by schema type name
	roots map[string]*Type // by kind key; nil for an untyped kind
}

func newKinds(extra *openapi.Set) *kinds {
	set := openapi.Builtin()
	if extra != nil {
		s := &openapi.Set{Source: set.Source, Kinds: map[string]string{}, Types: map[string]*openapi.Schema{}}
		s.Add(set)
		s.Add(extra)
		set = s
	}
	return &kinds{set: set, named: map[string]*Type{}, roots: map[string]*Type{}}
}

// add adds CRDs' kinds.
func (k *kinds) add(crds *openapi.Set) {
	s := &openapi.Set{Source: k.set.Source, Kinds: map[string]string{}, Types: map[string]*openapi.Schema{}}
	s.Add(k.set)
	s.Add(crds)
	k.set = s
	for key := range crds.Roots {
		delete(k.roots, key)
	}
}

// root returns the type of a kind's objects, or nil when no schema types it.
func (k *kinds) root(apiVersion, kind string) *Type {
	key := openapi.KindKey(apiVersion, kind)
	if t, ok := k.roots[key]; ok {
		return t
	}
	sc := k.set.Kind(apiVersion, kind)
	var t *Type
	if sc != nil {
		t = k.convert(sc, "k8s:"+key)
		if t.Kind == Object {
			t = withObjectMeta(t)
		}
	}
	k.roots[key] = t
	return t
}

// withObjectMeta is the apiserver's WithTypeAndObjectMeta, which kro applies
// to each resource: a root without a typed metadata.name and generateName
// gets string kind and apiVersion and a metadata of just those two.
func withObjectMeta(t *Type) *Type {
	if md := t.Field("metadata"); md != nil && md.Type.Kind == Object {
		n, g := md.Type.Field("name"), md.Type.Field("generateName")
		if n != nil && g != nil && n.Type.Kind == String && g.Type.Kind == String {
			return t
		}
	}
	out := *t
	out.Fields = nil
	for _, f := range t.Fields {
		if f.Name != "kind" && f.Name != "apiVersion" && f.Name != "metadata" {
			out.Fields = append(out.Fields, f)
		}
	}
	str := &Type{Kind: String}
	out.Fields = append(out.Fields, &Field{Name: "apiVersion", Type: str}, &Field{Name: "kind", Type: str},
		&Field{Name: "metadata", Type: &Type{Kind: Object, Name: t.Name + ".metadata",
			Fields: []*Field{{Name: "generateName", Type: str}, {Name: "name", Type: str}}}})
	sort.Slice(out.Fields, func(i, j int) bool { return out.Fields[i].Name < out.Fields[j].Name })
	return &out
}

// convert converts a schema to a Type the way kro's SchemaDeclType does.
// name names an object type; named schemas are converted once, so recursive
// types stay finite.
func (k *kinds) convert(sc *openapi.Schema, name string) *Type {
	if sc.Ref != "" {
		if t, ok := k.named[sc.Ref]; ok {
			return t
		}
		t := &Type{}
		k.named[sc.Ref] = t
		if r := k.set.Types[sc.Ref]; r != nil {
			*t = *k.convert(r, "k8s:"+sc.Ref)
		} else {
			t.Kind = Dyn
		}
		return t
	}
	switch {
	case sc.IntOrString:
		return &Type{Kind: Dyn}
	case sc.Type == "object" && sc.AdditionalProperties != nil:
		return &Type{Kind: Map, Elem: k.convert(sc.AdditionalProperties, name+".@elem")}
	case sc.Type == "object":
		t := &Type{Kind: Object, Name: name, Open: sc.PreserveUnknown}
		names := make([]string, 0, len(sc.Properties))
		for n := range sc.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t.Fields = append(t.Fields, &Field{Name: n, Type: k.convert(sc.Properties[n], name+"."+n)})
		}
		return t
	case sc.Type == "array" && sc.Items != nil:
		return &Type{Kind: List, Elem: k.convert(sc.Items, name+".@idx")}
	case sc.Type == "string" && (sc.Format == "date-time" || sc.Format == "date"):
		return &Type{Kind: Timestamp}
	case sc.Type == "string":
		return &Type{Kind: String}
	case sc.Type == "integer":
		return &Type{Kind: Integer}
	case sc.Type == "number":
		return &Type{Kind: Float}
	case sc.Type == "boolean":
		return &Type{Kind: Boolean}
	}
	return &Type{Kind: Dyn} // no type kro can convert: it leaves the field dyn
}

// typeAt returns the type at path p below t, dyn where the schema says
// nothing, as kro's expectedTypeForField does.
func typeAt(t *Type, p Path) *Type {
	dyn := &Type{Kind: Dyn}
	for _, e := range p {
		if t == nil {
			return dyn
		}
		switch e := e.(type) {
		case int:
			if t.Kind != List {
				return dyn
			}
			t = t.Elem
		case string:
			for t.Kind == List { // kro looks a name up in a list's items
				t = t.Elem
			}
			switch {
			case t.Kind == Object && t.Field(e) != nil:
				t = t.Field(e).Type
			case t.Kind == Map:
				t = t.Elem
			default:
				return dyn
			}
		}
	}
	if t == nil {
		return dyn
	}
	return t
}

// assignable reports whether a value of CEL type out may be written to a
// field of type want, following kro's validateExpressionType: CEL's
// assignability, then its structural compatibility rules.
func (p *schemaProvider) assignable(out *types.Type, want *Type) bool {
	if want.Kind == Dyn || out.Kind() == types.DynKind || out.Kind() == types.AnyKind {
		return true
	}
	if out.Kind() == types.OpaqueKind && out.TypeName() == "optional_type" {
		return p.assignable(out.Parameters()[0], want)
	}
	switch want.Kind {
	case Object:
		switch out.Kind() {
		case types.MapKind:
			if out.Parameters()[0].Kind() != types.StringKind && out.Parameters()[0].Kind() != types.DynKind {
				return false
			}
			for _, f := range want.Fields {
				if !p.assignable(out.Parameters()[1], f.Type) {
					return false
				}
			}
		case types.StructKind:
			from := p.objects[out.TypeName()]
			if from == nil || want.Open || from == want {
				return true
			}
			for _, f := range from.Fields {
				w := want.Field(f.Name)
				if w == nil || !p.assignable(p.celType(f.Type), w.Type) {
					return false
				}
			}
		}
		return true // kro finds no declaration to compare a scalar or list with
	case List:
		return out.Kind() == types.ListKind && p.assignable(out.Parameters()[0], want.Elem)
	case Map, Any:
		elem := want.Elem
		if want.Kind == Any {
			elem = &Type{Kind: Dyn}
		}
		switch out.Kind() {
		case types.MapKind:
			return p.assignable(out.Parameters()[1], elem) &&
				(out.Parameters()[0].Kind() == types.StringKind || out.Parameters()[0].Kind() == types.DynKind)
		case types.StructKind:
			from := p.objects[out.TypeName()]
			if from == nil {
				return true
			}
			for _, f := range from.Fields {
				if !p.assignable(p.celType(f.Type), elem) {
					return false
				}
			}
			return true
		}
		return false
	}
	return p.celType(want).Kind() == out.Kind()
}

// describe names a field type in a message.
func describe(t *Type) string {
	switch t.Kind {
	case List:
		return "list of " + describe(t.Elem)
	case Map:
		return "map of " + describe(t.Elem)
	}
	return t.Kind.String()
}

// describeCEL names an expression's type, hiding the internal object names.
func describeCEL(t *types.Type) string {
	s := t.String()
	if strings.Contains(s, "schema:") {
		return "object"
	}
	return s
}

// crdKinds reads the kinds a CustomResourceDefinition document defines.
func crdKinds(doc any) (*openapi.Set, error) {
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return openapi.CRD(js)
}

// LoadCRDFile reads the CustomResourceDefinitions of a YAML file, for
// Limits.CRDs. Documents of other kinds are an error: a CRD file holds CRDs.
func LoadCRDFile(path string) (*openapi.Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return LoadCRDs(path, data)
}

// LoadCRDs is LoadCRDFile of data read from the file (or standard input) named path.
// A List's items (kubectl get crd -o yaml) count as documents.
func LoadCRDs(path string, data []byte) (*openapi.Set, error) {
	set := &openapi.Set{Source: path, Kinds: map[string]string{}, Types: map[string]*openapi.Schema{}, Roots: map[string]*openapi.Schema{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var v map[string]any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %v", path, doc, err)
		}
		objs, list := []any{v}, false
		if kind, _ := v["kind"].(string); strings.HasSuffix(kind, "List") && v["items"] != nil {
			items, ok := v["items"].([]any)
			if !ok {
				return nil, fmt.Errorf("%s: document %d: %s: items must be a list", path, doc, kind)
			}
			objs, list = items, true
		}
		for i, obj := range objs {
			m, _ := obj.(map[string]any)
			if m == nil {
				continue
			}
			s, err := crdKinds(m)
			switch {
			case err != nil && list:
				return nil, fmt.Errorf("%s: document %d: items[%d]: %v", path, doc, i, err)
			case err != nil:
				return nil, fmt.Errorf("%s: document %d: %v", path, doc, err)
			}
			set.Add(s)
		}
	}
	if len(set.Roots) == 0 {
		return nil, fmt.Errorf("%s: no CustomResourceDefinition with an openAPIV3Schema", path)
	}
	return set, nil
}
