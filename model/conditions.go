package model

import (
	"fmt"

	"github.com/google/cel-go/common/ast"
	"gopkg.in/yaml.v3"
)

// splitConditions returns the status mapping without its `conditions` key,
// and that key's value: kro compiles status.conditions apart from the other
// status fields, with the runtime variable in scope.
func (l *loader) splitConditions(status *yaml.Node) (rest, conds *yaml.Node) {
	status = l.deref(status)
	if status == nil || status.Kind != yaml.MappingNode {
		return status, nil
	}
	for i := 0; i+1 < len(status.Content); i += 2 {
		if status.Content[i].Value == "conditions" {
			cp := *status
			cp.Content = append(append([]*yaml.Node{}, status.Content[:i]...), status.Content[i+2:]...)
			return &cp, status.Content[i+1]
		}
	}
	return status, nil
}

// conditions compiles schema.status.conditions: a list of single
// ${expressions}, each returning a condition or a list of them, checked as
// kro v0.9.4 checks them (pkg/graph/conditions.go): literal statuses are
// True, False or Unknown, literal types are not empty and not declared by two
// entries, and runtime.condition(schema, 'X') names one of kro's built-in
// condition types.
func (c *compiler) conditions(n *yaml.Node) []*Expr {
	l := c.l
	n = l.deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		if n != nil {
			l.probs.addf(pos(n), "status.conditions must be a list")
		}
		return nil
	}
	var out []*Expr
	declared := map[string]bool{}
	for i, en := range n.Content {
		en = l.deref(en)
		if en == nil || en.Kind != yaml.ScalarNode || en.ShortTag() != "!!str" {
			if en != nil {
				l.probs.addf(pos(en), "status.conditions[%d] must be a CEL expression string", i)
			}
			continue
		}
		if t, err := parseTemplate(en.Value); err == nil && !t.standalone {
			l.probs.addf(pos(en), "status.conditions[%d] %q must be a single ${expression}", i, en.Value)
			continue
		}
		v := c.value(en, Path{"status", "conditions", i}, ctxCondition, nil)
		if v == nil {
			continue
		}
		if !v.Standalone {
			l.probs.addf(pos(en), "status.conditions[%d] %q must be a single ${expression}", i, en.Value)
			continue
		}
		root := v.Expr.AST.NativeRep().Expr()
		for typ := range literalConditionTypes(root) {
			if declared[typ] {
				l.probs.addf(pos(en), "condition type %q is declared by more than one conditions entry", typ)
			}
			declared[typ] = true
		}
		out = append(out, v.Expr)
	}
	for _, e := range out {
		if err := checkConditionCalls(e.AST.NativeRep().Expr(), declared); err != nil {
			l.probs.addf(e.Pos, "%v in expression %q", err, e.Source)
		}
	}
	return out
}

// literalConditionTypes returns the literal types of the runtime.newCondition calls below e.
func literalConditionTypes(e ast.Expr) map[string]bool {
	out := map[string]bool{}
	visit(e, func(x ast.Expr) {
		if isRuntimeCall(x, "newCondition") && len(x.AsCall().Args()) == 1 {
			if typ, ok := mapEntryString(x.AsCall().Args()[0], "type"); ok {
				out[typ] = true
			}
		}
	})
	return out
}

// checkConditionCalls applies kro's literal rules to the runtime calls below e.
func checkConditionCalls(e ast.Expr, authorTypes map[string]bool) error {
	var err error
	visit(e, func(x ast.Expr) {
		if err != nil || x.Kind() != ast.CallKind {
			return
		}
		args := x.AsCall().Args()
		switch {
		case isRuntimeCall(x, "newCondition") && len(args) == 1:
			if st, ok := mapEntryString(args[0], "status"); ok && !conditionStatuses[st] {
				err = fmt.Errorf("runtime.newCondition: status must be one of True, False, Unknown (got %q)", st)
			} else if typ, ok := mapEntryString(args[0], "type"); ok && typ == "" {
				err = fmt.Errorf("runtime.newCondition: type must not be empty")
			}
		case isRuntimeCall(x, "condition") && len(args) == 2:
			if args[0].Kind() != ast.IdentKind || args[0].AsIdent() != "schema" {
				return
			}
			typ, ok := literalString(args[1])
			switch {
			case !ok || builtinConditions[typ]:
			case authorTypes[typ]:
				err = fmt.Errorf("runtime.condition(schema, %q): custom conditions cannot reference each other", typ)
			default:
				err = fmt.Errorf("runtime.condition(schema, %q): unknown condition type; only kro's built-in types (InstanceManaged, GraphResolved, ResourcesReady, Ready) can be read from schema", typ)
			}
		}
	})
	return err
}

func visit(e ast.Expr, fn func(ast.Expr)) {
	fn(e)
	for _, ch := range children(e) {
		visit(ch, fn)
	}
}

func isRuntimeCall(e ast.Expr, method string) bool {
	if e.Kind() != ast.CallKind {
		return false
	}
	c := e.AsCall()
	return c.IsMemberFunction() && c.FunctionName() == method &&
		c.Target().Kind() == ast.IdentKind && c.Target().AsIdent() == RuntimeVar
}

func literalString(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().Value().(string)
	return s, ok
}

func mapEntryString(e ast.Expr, key string) (string, bool) {
	if e.Kind() != ast.MapKind {
		return "", false
	}
	for _, en := range e.AsMap().Entries() {
		me := en.AsMapEntry()
		if k, ok := literalString(me.Key()); ok && k == key {
			return literalString(me.Value())
		}
	}
	return "", false
}
