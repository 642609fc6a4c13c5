package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/krosim/krosim/model/openapi"
)

// Limits bound what the loader accepts, so hostile or broken input fails
// with a clear message instead of exhausting the host.
type Limits struct {
	FileBytes int // size of one file
	Documents int // YAML documents in one file
	// Nodes bounds the YAML nodes of one file, counted before parsing
	// from the bytes that can start one (':', ',', '-', newlines and
	// flow brackets): yaml.v3 builds every node of a document at once, so
	// a file of millions of tiny keys would otherwise take minutes and
	// gigabytes before any other check could run.
	Nodes     int
	Resources int // resources in one RGD
	ExprBytes int // length of one expression string
	Depth     int // nesting of a template or schema
	Aliases   int // YAML alias uses in one file
	// Fields bounds spec.schema.spec with its custom types expanded, as
	// each instance's spec is built: types that use each other several
	// times grow it exponentially.
	Fields int

	// CELCost bounds one evaluation of one expression in cel-go cost units
	// (cel.CostLimit), deterministic where a timer is not: over it, the
	// evaluation fails. 0: no bound, as in kro v0.9.4 (hostile RGDs can then
	// hang or exhaust the host). Expressions whose estimated cost may pass it
	// are warned about (RGD.Warnings).
	CELCost uint64
	// CELBytes bounds the strings json.marshal and random.seededString build
	// and the data an expression's value converts into, which the cost model
	// underestimates (a list sharing itself n times is 2^n elements as JSON).
	// 0: no bound.
	CELBytes int

	// CRDs type the custom kinds they define; CustomResourceDefinition
	// documents in the loaded YAML add to them. Built-in kinds are always typed.
	CRDs *openapi.Set

	// Clock, when set, times each RGD's compilation (RGD.CompileTime). It is
	// host time and not deterministic, so the model never reads a clock itself.
	Clock func() time.Time
}

// DefaultLimits admit every real kro example with a wide margin.
var DefaultLimits = Limits{
	FileBytes: 16 << 20,
	Documents: 256,
	Nodes:     500_000,
	Resources: 5000,
	ExprBytes: 64 << 10,
	Depth:     64,
	Aliases:   1000,
	Fields:    10000,
	// Kubernetes' per-expression limit (apiserver's PerCallLimit) and kro
	// issue #191's proposal. No RGD in testdata/ reaches it: every run of
	// TestOutputsUnchanged keeps its output and has no failed instance.
	CELCost: 1_000_000,
	// The size limit of a ConfigMap or Secret: no larger value fits an object.
	CELBytes: 1 << 20,
}

// Stdin is the name Load gives to input read from standard input, in RGD.File and positions.
const Stdin = "<stdin>"

// LoadFile reads every ResourceGraphDefinition in a YAML file.
func LoadFile(path string) ([]*RGD, error) { return DefaultLimits.LoadFile(path) }

// LoadFile is LoadFile under these limits. It reads no more than one byte
// over the size limit, so an endless file such as /dev/zero fails fast.
func (lim Limits) LoadFile(path string) ([]*RGD, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return lim.LoadReader(path, f)
}

// LoadReader is Load of what r holds, such as standard input (name Stdin),
// read up to one byte over the size limit.
func (lim Limits) LoadReader(name string, r io.Reader) ([]*RGD, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(lim.FileBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return lim.Load(name, data)
}

// Load reads every ResourceGraphDefinition in the YAML documents of data,
// compiles their expressions and builds their graphs. When anything is wrong
// it returns Problems holding every problem found in the file, with positions.
func Load(name string, data []byte) ([]*RGD, error) {
	return DefaultLimits.Load(name, data)
}

// Load is Load under these limits.
func (lim Limits) Load(name string, data []byte) ([]*RGD, error) {
	l := &loader{lim: lim, data: data, probs: problems{src: newSource(name, data)}, kinds: newKinds(lim.CRDs)}
	rgds := l.load(data)
	if l.probs.n > 0 {
		return nil, l.probs.sorted()
	}
	return rgds, nil
}

type loader struct {
	lim     Limits
	data    []byte
	kinds   *kinds
	probs   problems
	aliases int
}

// nodeStarts returns the offset of the (limit+1)-th byte of data that can
// start a YAML node, or -1 if there are no more than limit of them. It
// over-counts (a ':' in a string counts too), which only matters for files
// near the limit.
func nodeStarts(data []byte, limit int) int {
	n := 0
	for i, b := range data {
		switch b {
		case ':', ',', '-', '\n', '[', '{':
			if n++; n > limit {
				return i
			}
		}
	}
	return -1
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (l *loader) load(data []byte) []*RGD {
	if len(data) > l.lim.FileBytes {
		l.probs.addf(offsetPos(data, l.lim.FileBytes), "file is over the limit of %d bytes", l.lim.FileBytes)
		return nil
	}
	if off := nodeStarts(data, l.lim.Nodes); off >= 0 {
		l.probs.addf(offsetPos(data, off), "file has over %d YAML nodes (keys, items, lines); an RGD has far fewer", l.lim.Nodes)
		return nil
	}
	var rgds []*RGD
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			l.yamlError(err)
			return nil
		}
		if doc > l.lim.Documents {
			l.probs.addf(pos(&n), "more than %d YAML documents", l.lim.Documents)
			return nil
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].ShortTag() == "!!null") {
			continue // an empty document: only comments or ---
		}
		l.duplicateKeys(&n)
		docs = append(docs, n.Content[0])
	}
	docs = l.lists(docs, 0)
	if len(docs) > l.lim.Documents {
		l.probs.addf(pos(docs[l.lim.Documents]), "more than %d objects (YAML documents and List items)", l.lim.Documents)
		return nil
	}
	// CRDs first: an RGD may come before the CRD of a kind it uses.
	docs = slices.DeleteFunc(docs, l.crd)
	for _, n := range docs {
		if g := l.rgd(n); g != nil {
			rgds = append(rgds, g)
		}
	}
	if len(rgds) == 0 && l.probs.n == 0 {
		l.probs.addf(Pos{Line: 1, Col: 1}, "no ResourceGraphDefinition found")
	}
	return rgds
}

// lists replaces every List among docs (kind: List, or any kind ending in
// List, with items, as kubectl get -o yaml writes) by its items, as if each
// were a document of its own; their positions stay where they are in the file.
func (l *loader) lists(docs []*yaml.Node, depth int) []*yaml.Node {
	var out []*yaml.Node
	for _, n := range docs {
		d := l.deref(n)
		kind, items := l.lookup(d, "kind"), l.lookup(d, "items")
		if kind == nil || kind.Kind != yaml.ScalarNode || !strings.HasSuffix(kind.Value, "List") || items == nil {
			out = append(out, n)
			continue
		}
		switch {
		case items.Kind == yaml.ScalarNode && items.ShortTag() == "!!null":
			continue // an empty List
		case items.Kind != yaml.SequenceNode:
			l.probs.addf(pos(items), "%s: items must be a list", kind.Value)
			continue
		case depth >= l.lim.Depth:
			l.probs.addf(pos(d), "Lists nested deeper than %d", l.lim.Depth)
			continue
		}
		var inner []*yaml.Node
		for _, it := range items.Content {
			if it.Kind == yaml.ScalarNode && it.ShortTag() == "!!null" {
				continue
			}
			inner = append(inner, it)
		}
		out = append(out, l.lists(inner, depth+1)...)
	}
	return out
}

// crd reads a CustomResourceDefinition document, reporting whether n is one.
func (l *loader) crd(n *yaml.Node) bool {
	n = l.deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	if k := l.lookup(n, "kind"); k == nil || k.Value != "CustomResourceDefinition" {
		return false
	}
	var doc any
	if err := n.Decode(&doc); err != nil {
		l.probs.addf(pos(n), "CustomResourceDefinition: %v", err)
		return true
	}
	set, err := crdKinds(doc)
	if err != nil {
		l.probs.addf(pos(n), "%v", err)
		return true
	}
	l.kinds.add(set)
	return true
}

// yamlError reports a yaml.v3 error at the best position its text allows.
func (l *loader) yamlError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			// yaml.v3 adds one to its zero-based line for scanner
			// errors only (decode.go, parser.fail): a parser error's
			// line is one early.
			line++
		}
		line = min(line, len(l.probs.src.lines))
		// yaml.v3 gives no column: point at the line's first character.
		text := l.probs.src.line(line)
		col := 1 + runeLen(text) - runeLen(strings.TrimLeft(text, " \t"))
		l.probs.addf(Pos{Line: line, Col: col}, "invalid YAML: %s", m[2])
		return
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if off, what, ok := firstBadByte(l.data); ok {
		// The reader's errors (bad UTF-8, control characters) carry no line.
		l.probs.addf(offsetPos(l.data, off), "invalid YAML: %s", what)
		return
	}
	l.probs.addf(Pos{Line: 1, Col: 1}, "invalid YAML: %s", msg)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "scalar"
}

// parserProblems are the messages of yaml.v3's parser (parserc.go), as
// opposed to its scanner's.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// duplicateKeys reports every key a mapping repeats, as kubectl does: YAML
// leaves a repeated key undefined and a decoder keeps one of them silently.
// Aliases are not followed: the node they name is checked where it stands.
func (l *loader) duplicateKeys(doc *yaml.Node) {
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Kind == yaml.AliasNode {
			continue
		}
		if n.Kind == yaml.MappingNode {
			first := map[string]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind != yaml.ScalarNode {
					// Kubernetes objects are JSON, whose keys are strings.
					l.probs.addf(pos(k), "a mapping key must be a string, not a %s", kindName(k))
					continue
				}
				if f, dup := first[k.Value]; dup {
					l.probs.addf(pos(k), "duplicate key %q (first at %d:%d)", k.Value, f.Line, f.Column)
					continue
				}
				first[k.Value] = k
			}
		}
		for i := len(n.Content) - 1; i >= 0; i-- {
			stack = append(stack, n.Content[i])
		}
	}
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// deref follows aliases, counting them against the limit.
func (l *loader) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		l.aliases++
		if l.aliases > l.lim.Aliases {
			if l.aliases == l.lim.Aliases+1 {
				l.probs.addf(pos(n), "more than %d YAML alias uses", l.lim.Aliases)
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

// pairs returns the key/value nodes of a mapping, or reports what it is instead.
func (l *loader) pairs(n *yaml.Node, what string) [][2]*yaml.Node {
	n = l.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		l.probs.addf(pos(n), "%s must be a mapping", what)
		return nil
	}
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], l.deref(n.Content[i+1])})
	}
	return out
}

func (l *loader) lookup(n *yaml.Node, key string) *yaml.Node {
	n = l.deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return l.deref(n.Content[i+1])
		}
	}
	return nil
}

// str returns the string of a scalar, reporting anything else.
func (l *loader) str(n *yaml.Node, what string) (string, bool) {
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		l.probs.addf(pos(n), "%s must be a string", what)
		return "", false
	}
	return n.Value, true
}

// reserved are names kro does not allow as resource ids or iterators.
var reserved = map[string]bool{}

func init() {
	// kro's own reserved words, then CEL's reserved symbols.
	for _, w := range strings.Fields(`apiVersion context dependency dependencies each externalRef
		externalReference externalRefs externalReferences graph instance item items kind kro metadata
		namespace object resource resourcegraphdefinition resourceGraphDefinition resources root
		runtime schema self serviceAccountName spec status this variables vars version
		true false null in as break const continue else for function if import let loop package
		return var void while`) {
		reserved[w] = true
	}
}

var (
	idPattern   = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	kindPattern = regexp.MustCompile(`^[A-Z][a-zA-Z0-9]*$`)
)

func (l *loader) rgd(root *yaml.Node) *RGD {
	root = l.deref(root)
	if root == nil || root.Kind != yaml.MappingNode {
		if root != nil {
			l.probs.addf(pos(root), "a ResourceGraphDefinition must be a mapping")
		}
		return nil
	}
	av, _ := l.str(l.lookup(root, "apiVersion"), "apiVersion")
	kind, _ := l.str(l.lookup(root, "kind"), "kind")
	if av != "kro.run/v1alpha1" || kind != "ResourceGraphDefinition" {
		l.probs.addf(pos(root), "want apiVersion kro.run/v1alpha1, kind ResourceGraphDefinition; got %q, %q", av, kind)
		return nil
	}
	g := &RGD{File: l.probs.src.name, Pos: pos(root), node: root}
	g.Pos.File = g.File
	if md := l.lookup(root, "metadata"); md != nil {
		g.Name, _ = l.str(l.lookup(md, "name"), "metadata.name")
	}
	if g.Name == "" {
		l.probs.addf(pos(root), "metadata.name is required")
	}
	spec := l.lookup(root, "spec")
	if spec == nil {
		l.probs.addf(pos(root), "spec is required")
		return nil
	}
	schema := l.lookup(spec, "schema")
	if schema == nil {
		l.probs.addf(pos(spec), "spec.schema is required")
		return nil
	}
	before := l.probs.n
	statusNode := l.schema(g, schema)
	resNodes := l.resources(g, l.lookup(spec, "resources"), spec)
	if l.probs.n > before {
		return nil // compiling against a broken schema or resource list would only add noise
	}
	var start time.Time
	if l.lim.Clock != nil {
		start = l.lim.Clock()
	}
	c, err := newCompiler(l, g)
	if err != nil {
		l.probs.addf(g.Pos, "building the CEL environment: %v", err)
		return nil
	}
	c.precompile(append(append([]*yaml.Node{}, resNodes...), statusNode))
	for i, r := range g.Resources {
		c.resource(r, resNodes[i])
	}
	if statusNode != nil {
		var condNode *yaml.Node
		statusNode, condNode = l.splitConditions(statusNode)
		if condNode != nil {
			g.Conditions = c.conditions(condNode)
		}
		l.walk(statusNode, Path{"status"}, 0, func(p Path, n *yaml.Node) {
			if v := c.value(n, p, ctxStatus, nil); v != nil {
				g.Status = append(g.Status, v)
			}
		})
	}
	if l.lim.Clock != nil {
		g.CompileTime = l.lim.Clock().Sub(start)
	}
	g.Exprs = c.exprs
	if l.probs.n > before {
		return nil
	}
	if err := buildGraph(g); err != nil {
		var ce *CycleError
		if errors.As(err, &ce) && len(ce.Cycle) > 0 {
			for _, i := range ce.Cycle {
				ce.IDs = append(ce.IDs, g.Resources[i].ID)
			}
			l.probs.addf(g.Resources[ce.Cycle[0]].Pos, "%v", err)
		} else {
			l.probs.addf(g.Pos, "%v", err)
		}
		return nil
	}
	return g
}

// schema reads spec.schema and returns its status node for compiling later.
func (l *loader) schema(g *RGD, n *yaml.Node) *yaml.Node {
	g.APIVersion, _ = l.str(l.lookup(n, "apiVersion"), "spec.schema.apiVersion")
	g.Kind, _ = l.str(l.lookup(n, "kind"), "spec.schema.kind")
	g.Group = "kro.run"
	if gr := l.lookup(n, "group"); gr != nil {
		g.Group, _ = l.str(gr, "spec.schema.group")
	}
	if g.APIVersion == "" {
		l.probs.addf(pos(n), "spec.schema.apiVersion is required")
	}
	if g.Kind == "" {
		l.probs.addf(pos(n), "spec.schema.kind is required")
	} else if !kindPattern.MatchString(g.Kind) {
		l.probs.addf(pos(l.lookup(n, "kind")), "spec.schema.kind %q must be PascalCase", g.Kind)
	}
	g.Types = map[string]*Type{}
	var cycles []typeCycle
	if tn := l.lookup(n, "types"); tn != nil {
		pairs := l.pairs(tn, "spec.schema.types")
		// Declare every name first so types may refer to each other in any order.
		for _, kv := range pairs {
			g.Types[kv[0].Value] = &Type{Kind: Object, Name: kv[0].Value}
		}
		// A type written as a type string is an alias of it with its
		// markers; aliases come first, so that the fields of other types
		// may use them with markers of their own.
		var names []string
		for _, kv := range pairs {
			if name, v := kv[0].Value, kv[1]; v != nil && v.Kind == yaml.ScalarNode {
				f, err := parseTypeExpr(name, v.Value, g.Types)
				if err != nil {
					l.probs.addf(pos(v), "spec.schema.types.%s: %v", name, err)
					continue
				}
				f.Pos = pos(v)
				t := g.Types[name]
				*t = *f.Type
				t.Name, t.Alias = name, f
			}
		}
		for _, kv := range pairs {
			t := g.Types[kv[0].Value]
			if v := kv[1]; v == nil || v.Kind != yaml.ScalarNode {
				t.Fields = l.fields(v, kv[0].Value, g.Types, 1)
			}
			names = append(names, kv[0].Value)
		}
		cycles = typeCycles(names, g.Types)
		for _, c := range cycles {
			l.probs.addf(c.pos, "spec.schema.types: %v", c.err)
		}
	}
	g.Spec = &Type{Kind: Object, Name: "spec"}
	if sn := l.lookup(n, "spec"); sn != nil {
		g.Spec.Fields = l.fields(sn, "spec", g.Types, 1)
		if len(cycles) == 0 && expandedFields(g.Spec, l.lim.Fields) > l.lim.Fields {
			l.probs.addf(pos(sn), "spec.schema.spec has over %d fields with its custom types expanded", l.lim.Fields)
		}
	}
	return l.lookup(n, "status")
}

// fields reads a SimpleSchema mapping: leaves are type expressions, nested mappings are objects.
func (l *loader) fields(n *yaml.Node, path string, types map[string]*Type, depth int) []*Field {
	if depth > l.lim.Depth {
		l.probs.addf(pos(n), "schema nested deeper than %d", l.lim.Depth)
		return nil
	}
	var out []*Field
	for _, kv := range l.pairs(n, path) {
		name, v := kv[0].Value, kv[1]
		if v == nil {
			continue
		}
		switch v.Kind {
		case yaml.MappingNode:
			sub := path + "." + name
			out = append(out, &Field{Name: name, Pos: pos(kv[0]), Markers: map[string]string{},
				Type: &Type{Kind: Object, Name: sub, Fields: l.fields(v, sub, types, depth+1)}})
		case yaml.ScalarNode:
			f, err := parseTypeExpr(name, v.Value, types)
			if err != nil {
				l.probs.addf(pos(v), "%s.%s: %v", path, name, err)
				continue
			}
			f.Pos = pos(v)
			out = append(out, f)
		default:
			l.probs.addf(pos(v), "%s.%s must be a type string or a mapping of fields", path, name)
		}
	}
	return out
}

// resources reads spec.resources and returns each resource's node.
func (l *loader) resources(g *RGD, n *yaml.Node, spec *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil // an RGD without resources is legal: it only defines an API
	}
	if n.Kind != yaml.SequenceNode {
		l.probs.addf(pos(n), "spec.resources must be a list")
		return nil
	}
	if len(n.Content) > l.lim.Resources {
		l.probs.addf(pos(n), "%d resources, over the limit of %d", len(n.Content), l.lim.Resources)
		return nil
	}
	seen := map[string]*Resource{}
	var nodes []*yaml.Node
	for i, rn := range n.Content {
		rn = l.deref(rn)
		if rn == nil || rn.Kind != yaml.MappingNode {
			l.probs.addf(pos(n.Content[i]), "spec.resources[%d] must be a mapping", i)
			continue
		}
		r := &Resource{Index: len(g.Resources), Pos: pos(rn)}
		r.Pos.File = g.File
		idNode := l.lookup(rn, "id")
		if idNode == nil {
			l.probs.addf(pos(rn), "spec.resources[%d]: id is required", i)
			continue
		}
		r.ID, _ = l.str(idNode, "id")
		switch {
		case reserved[r.ID]:
			l.probs.addf(pos(idNode), "resource id %q is reserved", r.ID)
		case !idPattern.MatchString(r.ID):
			l.probs.addf(pos(idNode), "resource id %q must be lowerCamelCase (letters and digits)", r.ID)
		case seen[r.ID] != nil:
			first := seen[r.ID].Pos
			l.probs.addf(pos(idNode), "duplicate resource id %q (first defined at line %d)", r.ID, first.Line)
			continue
		}
		seen[r.ID] = r
		tmpl, ext := l.lookup(rn, "template"), l.lookup(rn, "externalRef")
		switch {
		case tmpl != nil && ext != nil:
			l.probs.addf(pos(rn), "resource %q has both template and externalRef; want exactly one", r.ID)
		case tmpl == nil && ext == nil:
			l.probs.addf(pos(rn), "resource %q has neither template nor externalRef; want exactly one", r.ID)
		default:
			body := tmpl
			if ext != nil {
				body, r.External = ext, true
			}
			if body.Kind != yaml.MappingNode {
				l.probs.addf(pos(body), "resource %q: template must be a mapping", r.ID)
				break
			}
			r.Template, _ = l.plain(body, 0).(map[string]any)
			r.APIVersion, _ = r.Template["apiVersion"].(string)
			r.Kind, _ = r.Template["kind"].(string)
			if r.APIVersion == "" || r.Kind == "" {
				l.probs.addf(pos(body), "resource %q: apiVersion and kind are required", r.ID)
			}
			if r.External {
				l.externalRef(r, body, l.lookup(rn, "forEach"))
			}
		}
		l.iterators(r, l.lookup(rn, "forEach"), seen)
		g.Resources = append(g.Resources, r)
		nodes = append(nodes, rn)
	}
	return nodes
}

// externalRef checks an externalRef as kro v0.9.4 does
// (pkg/graph/validation.go): no forEach, and its metadata names exactly one
// of a name or a selector, a selector being a mapping or one ${expression}.
func (l *loader) externalRef(r *Resource, ext, forEach *yaml.Node) {
	if forEach != nil && (forEach.Kind != yaml.SequenceNode || len(forEach.Content) > 0) {
		l.probs.addf(pos(forEach), "resource %q: cannot use externalRef with forEach", r.ID)
	}
	md := l.lookup(ext, "metadata")
	name, sel := l.lookup(md, "name"), l.lookup(md, "selector")
	hasName := name != nil && name.Kind == yaml.ScalarNode && name.ShortTag() != "!!null" && strings.TrimSpace(name.Value) != ""
	hasSel := sel != nil && !(sel.Kind == yaml.ScalarNode && sel.ShortTag() == "!!null")
	at := pos(ext)
	if md != nil && md.Kind == yaml.MappingNode {
		at = pos(md)
	}
	if hasName == hasSel {
		l.probs.addf(at, "resource %q: externalRef.metadata: exactly one of name or selector must be provided", r.ID)
		return
	}
	r.Selects = hasSel
	if !hasSel || sel.Kind == yaml.MappingNode {
		return
	}
	if t, err := parseTemplate(sel.Value); sel.Kind != yaml.ScalarNode || sel.ShortTag() != "!!str" || err != nil || !t.standalone || len(t.spans) != 1 {
		l.probs.addf(pos(sel), "resource %q: externalRef.metadata.selector must be a Kubernetes LabelSelector object or a CEL expression that resolves to one", r.ID)
	}
}

// iterators reads the names a forEach binds: `forEach: [{name: "${list}"}, ...]`.
// Their expressions are compiled later, once every name is declared.
func (l *loader) iterators(r *Resource, n *yaml.Node, ids map[string]*Resource) {
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.probs.addf(pos(n), "resource %q: forEach must be a list of {name: ${expression}}", r.ID)
		return
	}
	for _, en := range n.Content {
		pairs := l.pairs(en, "forEach entry")
		if len(pairs) != 1 {
			if len(pairs) > 1 {
				l.probs.addf(pos(en), "resource %q: a forEach entry binds exactly one name", r.ID)
			}
			continue
		}
		k := pairs[0][0]
		switch name := k.Value; {
		case !idPattern.MatchString(name):
			l.probs.addf(pos(k), "forEach name %q must be lowerCamelCase", name)
		case ids[name] != nil || name == "schema":
			l.probs.addf(pos(k), "forEach name %q shadows a resource id or schema", name)
		case reserved[name]:
			l.probs.addf(pos(k), "forEach name %q is reserved", name)
		default:
			r.ForEach = append(r.ForEach, &Iterator{Name: name, node: pairs[0][1]})
		}
	}
}

// plain converts a YAML node into unstructured Go data as Kubernetes holds it.
func (l *loader) plain(n *yaml.Node, depth int) any {
	n = l.deref(n)
	if n == nil {
		return nil
	}
	if depth > l.lim.Depth {
		l.probs.addf(pos(n), "nested deeper than %d", l.lim.Depth)
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for _, kv := range l.merged(n) {
			m[kv[0].Value] = l.plain(kv[1], depth+1)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = l.plain(c, depth+1)
		}
		return s
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return v
			}
		case "!!float":
			if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return v
			}
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b
			}
		case "!!null":
			return nil
		}
		return n.Value
	}
	return nil
}

// merged returns a mapping's key/value pairs with YAML merge keys (<<)
// resolved: explicit keys win over merged ones, and among merged mappings
// the earlier wins, as YAML specifies.
func (l *loader) merged(n *yaml.Node) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	at := map[string]int{}
	add := func(k, v *yaml.Node, override bool) {
		if i, ok := at[k.Value]; ok {
			if override {
				out[i] = [2]*yaml.Node{k, v}
			}
			return
		}
		at[k.Value] = len(out)
		out = append(out, [2]*yaml.Node{k, v})
	}
	var explicit [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() != "!!merge" {
			explicit = append(explicit, [2]*yaml.Node{k, v})
			continue
		}
		v = l.deref(v)
		srcs := []*yaml.Node{v}
		if v != nil && v.Kind == yaml.SequenceNode {
			srcs = v.Content
		}
		for _, src := range srcs {
			src = l.deref(src)
			if src == nil || src.Kind != yaml.MappingNode {
				l.probs.addf(pos(k), "a merge key (<<) must refer to a mapping")
				continue
			}
			for _, kv := range l.merged(src) {
				add(kv[0], kv[1], false)
			}
		}
	}
	for _, kv := range explicit {
		add(kv[0], kv[1], true)
	}
	return out
}

// walk calls fn for every string scalar holding ${ below n, with its path.
func (l *loader) walk(n *yaml.Node, p Path, depth int, fn func(Path, *yaml.Node)) {
	n = l.deref(n)
	if n == nil || depth > l.lim.Depth {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for _, kv := range l.merged(n) {
			k := kv[0]
			if hasExpr(k.Value) {
				l.probs.addf(pos(k), "expressions are not allowed in keys")
			}
			l.walk(kv[1], append(p[:len(p):len(p)], k.Value), depth+1, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			l.walk(c, append(p[:len(p):len(p)], i), depth+1, fn)
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" && hasExpr(n.Value) {
			fn(p, n)
		}
	}
}

// walkQuiet calls fn for every string scalar holding ${ below n, reporting nothing.
func (l *loader) walkQuiet(n *yaml.Node, fn func(*yaml.Node)) {
	seen := 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		for n != nil && n.Kind == yaml.AliasNode && seen < l.lim.Aliases {
			seen++
			n = n.Alias
		}
		if n == nil || depth > l.lim.Depth {
			return
		}
		switch n.Kind {
		case yaml.MappingNode, yaml.SequenceNode, yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		case yaml.ScalarNode:
			if n.ShortTag() == "!!str" && hasExpr(n.Value) {
				fn(n)
			}
		}
	}
	walk(n, 0)
}

// valuePos maps a byte offset in a scalar's value to its position in the
// file, walking the raw text: quotes, escapes, folded lines and block indentation.
func (l *loader) valuePos(n *yaml.Node, off int) Pos {
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		return l.blockPos(n, off)
	}
	lines := len(l.probs.src.lines)
	line := n.Line
	text := []rune(l.probs.src.line(line))
	i := n.Column - 1
	var quote rune
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		quote, i = '"', i+1
	case yaml.SingleQuotedStyle:
		quote, i = '\'', i+1
	}
	for v := 0; ; {
		if i >= len(text) || (quote == 0 && i > 0 && strings.TrimSpace(string(text[i:])) == "") {
			// The value goes on on the next line; the line break folds into one character.
			if line >= lines || v >= off {
				return Pos{Line: line, Col: i + 1}
			}
			line++
			text = []rune(l.probs.src.line(line))
			i = len(text) - runeLen(strings.TrimLeft(string(text), " \t"))
			v++
			continue
		}
		if v >= off {
			return Pos{Line: line, Col: i + 1}
		}
		r := text[i]
		switch {
		case quote == '"' && r == '\\' && i+1 < len(text):
			raw, bytes := 2, 1
			switch text[i+1] {
			case 'x':
				raw = 4
			case 'u':
				raw, bytes = 6, utf8.RuneLen(hexRune(text, i+2, 4))
			case 'U':
				raw, bytes = 10, utf8.RuneLen(hexRune(text, i+2, 8))
			}
			i += raw
			v += max(bytes, 1)
		case quote == '\'' && r == '\'' && i+1 < len(text) && text[i+1] == '\'':
			i += 2
			v++
		default:
			i++
			v += utf8.RuneLen(r)
		}
	}
}

// hexRune decodes n hex digits at text[i:].
func hexRune(text []rune, i, n int) rune {
	if i+n > len(text) {
		return utf8.RuneError
	}
	var r rune
	for _, c := range text[i : i+n] {
		d := strings.IndexRune("0123456789abcdef", unicode.ToLower(c))
		if d < 0 {
			return utf8.RuneError
		}
		r = r*16 + rune(d)
	}
	return r
}

// blockPos maps an offset in a literal or folded block scalar: its content
// starts on the line after the indicator, at the block's indentation, and
// each line break is one character of the value.
func (l *loader) blockPos(n *yaml.Node, off int) Pos {
	line := n.Line + 1
	indent := -1
	for v := 0; line <= len(l.probs.src.lines); line++ {
		text := l.probs.src.line(line)
		if strings.TrimSpace(text) == "" {
			if v >= off {
				return Pos{Line: line, Col: 1}
			}
			v++
			continue
		}
		if indent < 0 {
			indent = len(text) - len(strings.TrimLeft(text, " "))
		}
		content := ""
		if len(text) > indent {
			content = text[indent:]
		}
		if off <= v+len(content) {
			return Pos{Line: line, Col: indent + 1 + runeLen(content[:off-v])}
		}
		v += len(content) + 1
	}
	return Pos{Line: n.Line, Col: n.Column}
}

func runeLen(s string) int { return len([]rune(s)) }
