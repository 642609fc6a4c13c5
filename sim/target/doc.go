// Package target describes the modeled system: kro's controller settings, its vCPUs, and the API server it talks to.
package target
