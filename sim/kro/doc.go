// Package kro runs kro v0.9.4's controller (RGD controller, workqueue, instance workers and reconcile) against the model API server.
package kro
