package cli

import (
	"fmt"
	"io"

	"github.com/krosim/krosim/model"
	"github.com/krosim/krosim/model/openapi"
)

// stdinName is how an input file names standard input on the command line.
const stdinName = "-"

// stdinOnce refuses a command line that reads standard input twice: the
// second reader would find it empty.
func stdinOnce(lists ...[]string) error {
	n := 0
	for _, l := range lists {
		for _, f := range l {
			if f == stdinName {
				n++
			}
		}
	}
	if n > 1 {
		return usagef("standard input (-) is given %d times; it can be read once", n)
	}
	return nil
}

// loadRGDFile loads the RGDs of file, or of standard input for "-", whose
// problems then name "<stdin>".
func loadRGDFile(e *env, lim model.Limits, file string) ([]*model.RGD, error) {
	if file == stdinName {
		return lim.LoadReader(model.Stdin, e.stdin)
	}
	return lim.LoadFile(file)
}

// loadCRDs loads the CRDs of file, or of standard input for "-".
func loadCRDs(e *env, file string) (*openapi.Set, error) {
	if file != stdinName {
		return model.LoadCRDFile(file)
	}
	data, err := io.ReadAll(io.LimitReader(e.stdin, int64(model.DefaultLimits.FileBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", model.Stdin, err)
	}
	if len(data) > model.DefaultLimits.FileBytes {
		return nil, fmt.Errorf("%s: over the limit of %d bytes", model.Stdin, model.DefaultLimits.FileBytes)
	}
	return model.LoadCRDs(model.Stdin, data)
}
