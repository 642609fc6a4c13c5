// Package queue is client-go's rate-limited workqueue, rebuilt on virtual time.
package queue
