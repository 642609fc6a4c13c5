package kro

import (
	"github.com/krosim/krosim/sim/api"
)

// Labels and finalizer kro puts on what it manages.
const (
	LabelOwned        = "kro.run/owned"
	LabelInstance     = api.IndexLabel // kro.run/instance-name
	LabelInstanceNS   = "kro.run/instance-namespace"
	LabelInstanceID   = "kro.run/instance-id"
	LabelNode         = "kro.run/node-id"
	LabelRGD          = "kro.run/resource-graph-definition-name"
	LabelCollectionIx = "kro.run/collection-index"
	Finalizer         = "kro.run/finalizer"
)
