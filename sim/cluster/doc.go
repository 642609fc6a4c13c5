// Package cluster runs krosim's workload on a real cluster, where the real kro reconciles it, and measures kro from its /metrics and the API server's.
package cluster
