// Package api models the Kubernetes API server kro talks to: real objects in a client-go ObjectTracker (each kept once, behind client-go's fake reactor chain), reached with latency, rate limits and faults in virtual time.
package api
