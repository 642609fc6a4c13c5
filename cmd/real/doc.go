// Package real runs krosim's workload against a real API server and the real kro controller, and measures them.
package real
