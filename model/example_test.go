package model_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/krosim/krosim/model"
)

const exampleRGD = `apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata:
  name: webapps.kro.run
spec:
  schema:
    apiVersion: v1alpha1
    kind: WebApp
    spec:
      name: string | default=web
  resources:
    - id: service
      template:
        apiVersion: v1
        kind: Service
        metadata:
          name: ${deployment.metadata.name}
    - id: deployment
      template:
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: ${schema.spec.name}
        spec:
          template:
            spec:
              containers:
                - name: web
                  envFrom:
                    - configMapRef:
                        name: ${config.metadata.name}
    - id: config
      template:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ${schema.spec.name}-config
`

// Load orders resources as kro does: dependencies first, otherwise in YAML order.
func ExampleLoad() {
	rgds, err := model.Load("webapp.yaml", []byte(exampleRGD))
	if err != nil {
		fmt.Println(err)
		return
	}
	g := rgds[0]
	for _, i := range g.Order {
		r := g.Resources[i]
		var deps []string
		for _, d := range r.Deps {
			deps = append(deps, g.Resources[d].ID)
		}
		fmt.Printf("%s %s level %d after %v\n", r.ID, r.Kind, r.Level, deps)
	}
	fmt.Println("edges:", g.Edges())
	// Output:
	// config ConfigMap level 0 after []
	// deployment Deployment level 1 after [config]
	// service Service level 2 after [deployment]
	// edges: [[deployment service] [config deployment]]
}

// Every problem in a file comes back at once, with its position, source line and a caret.
func ExampleProblems() {
	bad := strings.Replace(exampleRGD, "${config.metadata.name}", "${confg.metadata.name}", 1)
	_, err := model.Load("webapp.yaml", []byte(bad))
	var ps model.Problems
	if errors.As(err, &ps) {
		fmt.Println(ps.Detail())
	}
	// Output:
	// webapp.yaml:31:33: references unknown identifiers: [confg]
	//  31 |                         name: ${confg.metadata.name}
	//     |                                 ^
}
