package kro

import (
	"github.com/krosim/krosim/model"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type schemaGVR = schema.GroupVersionResource

func isConflict(err error) bool { return apierrors.IsConflict(err) }

// setPath sets v at path inside obj, creating maps as needed. List indexes
// must already exist (templates hold the list).
func setPath(obj map[string]any, path model.Path, v any) {
	var cur any = obj
	for i, e := range path {
		last := i == len(path)-1
		switch k := e.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return
			}
			if last {
				m[k] = v
				return
			}
			next, ok := m[k]
			if !ok || next == nil {
				next = map[string]any{}
				m[k] = next
			}
			cur = next
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return
			}
			if last {
				l[k] = v
				return
			}
			cur = l[k]
		}
	}
}
