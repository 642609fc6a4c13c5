// Package kro runs kro's instance controller against the model API server: its workqueue, workers and reconcile loop.
package kro
