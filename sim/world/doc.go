// Package world simulates the cluster's own controllers: they make the objects kro creates become ready.
package world
