// Package verb names the API request verbs the model counts, and the HTTP method each is sent as.
package verb
