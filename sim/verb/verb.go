package verb

// Verb is a kind of API request as the model counts it. Its string is the
// key of every per-verb map in results.json and target files.
type Verb string

// The verbs. kro's server-side apply is a Patch; a write of the status
// subresource is UpdateStatus.
const (
	Get          Verb = "get"
	List         Verb = "list"
	Create       Verb = "create"
	Update       Verb = "update"
	Patch        Verb = "patch"
	UpdateStatus Verb = "update_status"
	Delete       Verb = "delete"
)

// All are the verbs in report order.
var All = []Verb{Get, List, Create, Update, Patch, UpdateStatus, Delete}

// Count is len(All), for arrays indexed by Index.
const Count = 7

// Index is v's place in All, -1 for a verb not in it: what
// slices.Index(All, v) finds, without comparing v to the verbs before it.
func (v Verb) Index() int {
	switch v {
	case Get:
		return 0
	case List:
		return 1
	case Create:
		return 2
	case Update:
		return 3
	case Patch:
		return 4
	case UpdateStatus:
		return 5
	case Delete:
		return 6
	}
	return -1
}

// Method is the HTTP method a request of the verb is sent with, as
// client-go's metrics label it ("" for an unknown verb).
func (v Verb) Method() string {
	switch v {
	case Get, List:
		return "GET"
	case Create:
		return "POST"
	case Update, UpdateStatus:
		return "PUT"
	case Patch:
		return "PATCH"
	case Delete:
		return "DELETE"
	}
	return ""
}

// ReadOnly reports whether the verb only reads (the API server admits reads
// and writes under separate inflight limits).
func (v Verb) ReadOnly() bool { return v == Get || v == List }

// Parse returns the verb named s, and whether there is one.
func Parse(s string) (Verb, bool) {
	for _, v := range All {
		if string(v) == s {
			return v, true
		}
	}
	return "", false
}
