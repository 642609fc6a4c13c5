// Package openapi holds the OpenAPI schemas that type a resource's fields:
// the Kubernetes built-in kinds, generated from client-go, and CRDs.
package openapi
