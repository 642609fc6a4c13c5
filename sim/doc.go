// Package sim runs kro against the model API server in virtual time and reports what happened.
package sim
