// Package smd converts the structured-merge-diff schema that client-go's
// apply configurations embed into OpenAPI schemas.
package smd

import (
	"bytes"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/krosim/krosim/model/openapi"
)

type schema struct {
	Types []named `yaml:"types"`
}

type named struct {
	Name string `yaml:"name"`
	atom `yaml:",inline"`
}

// atom is a type reference or an inline type.
type atom struct {
	NamedType string `yaml:"namedType"`
	Scalar    string `yaml:"scalar"`
	List      *struct {
		ElementType atom `yaml:"elementType"`
	} `yaml:"list"`
	Map *struct {
		Fields []struct {
			Name string `yaml:"name"`
			Type atom   `yaml:"type"`
		} `yaml:"fields"`
		ElementType *atom `yaml:"elementType"`
	} `yaml:"map"`
}

// Extract returns the schema YAML in the source of client-go's
// applyconfigurations/internal package.
func Extract(goSource []byte) ([]byte, error) {
	const open, end = "typed.YAMLObject(`", "`)"
	i := bytes.Index(goSource, []byte(open))
	if i < 0 {
		return nil, fmt.Errorf("smd: no %s in the source", open)
	}
	rest := goSource[i+len(open):]
	j := bytes.Index(rest, []byte(end))
	if j < 0 {
		return nil, fmt.Errorf("smd: unterminated schema YAML")
	}
	return rest[:j], nil
}

// Convert converts the schema YAML. kinds maps each kind key (see
// openapi.KindKey) to its type name. scalars gives the OpenAPI schema of each
// named untyped scalar (times, quantities, int-or-string), since the
// structured-merge-diff schema only says "untyped" for them. Numeric scalars
// become integers: the Kubernetes API has no floating-point fields.
func Convert(source string, y []byte, kinds map[string]string, scalars map[string]*openapi.Schema) (*openapi.Set, error) {
	var s schema
	if err := yaml.Unmarshal(y, &s); err != nil {
		return nil, fmt.Errorf("smd: %v", err)
	}
	byName := map[string]*named{}
	for i := range s.Types {
		byName[s.Types[i].Name] = &s.Types[i]
	}
	out := &openapi.Set{Source: source, Kinds: map[string]string{}, Types: map[string]*openapi.Schema{}}
	var missing []string
	var add func(name string)
	var conv func(a atom) *openapi.Schema
	conv = func(a atom) *openapi.Schema {
		switch {
		case a.NamedType != "":
			add(a.NamedType)
			return &openapi.Schema{Ref: a.NamedType}
		case a.Scalar != "" && (a.List != nil || a.Map != nil):
			return &openapi.Schema{PreserveUnknown: true} // deduced: anything
		case a.Scalar == "numeric":
			return &openapi.Schema{Type: "integer"}
		case a.Scalar == "string":
			return &openapi.Schema{Type: "string"}
		case a.Scalar == "boolean":
			return &openapi.Schema{Type: "boolean"}
		case a.Scalar == "untyped":
			return &openapi.Schema{PreserveUnknown: true}
		case a.List != nil:
			return &openapi.Schema{Type: "array", Items: conv(a.List.ElementType)}
		case a.Map != nil && a.Map.ElementType != nil && len(a.Map.Fields) == 0:
			return &openapi.Schema{Type: "object", AdditionalProperties: conv(*a.Map.ElementType)}
		case a.Map != nil:
			o := &openapi.Schema{Type: "object", Properties: map[string]*openapi.Schema{}}
			for _, f := range a.Map.Fields {
				o.Properties[f.Name] = conv(f.Type)
			}
			return o
		}
		return &openapi.Schema{PreserveUnknown: true}
	}
	add = func(name string) {
		if _, done := out.Types[name]; done {
			return
		}
		t, ok := byName[name]
		if !ok {
			missing = append(missing, name)
			return
		}
		if sc, ok := scalars[name]; ok {
			out.Types[name] = sc
			return
		}
		if t.Scalar == "untyped" && t.List == nil && t.Map == nil {
			missing = append(missing, "scalar "+name)
			return
		}
		out.Types[name] = &openapi.Schema{} // placeholder against recursion
		out.Types[name] = conv(t.atom)
	}
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := byName[kinds[k]]; !ok {
			continue // a kind client-go registers but applies without a schema
		}
		out.Kinds[k] = kinds[k]
		add(kinds[k])
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("smd: types without a schema: %v", missing)
	}
	return out, nil
}
