package cli

import (
	"github.com/krosim/krosim/sim/cluster"
	"github.com/spf13/pflag"
)

// clusterFlags choose a real cluster, as kubectl's flags do. A real cluster
// is used only when asked for by one of them: $KUBECONFIG alone never
// turns a simulation into a run on whatever cluster it names.
type clusterFlags struct {
	kubeconfig string
	context    string
	real       bool
}

// declareClusterFlags declares --kubeconfig (whose help says what the
// command does on a real cluster), --context and --real.
func declareClusterFlags(fs *pflag.FlagSet, kubeconfigHelp string) *clusterFlags {
	c := &clusterFlags{}
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", kubeconfigHelp)
	fs.BoolVar(&c.real, "real", false, "the same on the cluster of $KUBECONFIG, else ~/.kube/config, as kubectl finds it ($KUBECONFIG alone never selects a real cluster)")
	fs.StringVar(&c.context, "context", "", "kubeconfig context of the real cluster (default: the current context); implies --real")
	return c
}

// requested says whether the command line asks for a real cluster.
func (c *clusterFlags) requested() bool { return c.real || c.kubeconfig != "" || c.context != "" }

// access is where the client config comes from: --kubeconfig, else
// client-go's loading rules, with --context.
func (c *clusterFlags) access() cluster.Kubeconfig {
	return cluster.Kubeconfig{Path: c.kubeconfig, Context: c.context}
}
