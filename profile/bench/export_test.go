package bench

// GraphRGD is graphRGD for the tests: the Graph suite's RGD of nodes
// resources and edges dependencies.
var GraphRGD = graphRGD
