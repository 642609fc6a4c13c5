// Package workload creates and deletes the instances a run simulates, as a user or a CI pipeline would.
package workload
