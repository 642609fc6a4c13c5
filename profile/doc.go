// Package profile turns a simulated run into a virtual-time pprof profile and an attribution of the target's time by phase, resource, expression and verb.
package profile
