// Package flame draws flame graphs of pprof profiles as self-contained SVG, as HTML that zooms on click, and as folded stacks.
package flame
