// Package api models the Kubernetes API server kro talks to: real objects in client-go's fake store, reached with latency, rate limits and faults in virtual time.
package api
