package result

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// File is results.json's name in a run's directory.
const File = "results.json"

// Encode returns r as results.json's bytes: indented JSON and a newline.
func Encode(r *Result) ([]byte, error) {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(js, '\n'), nil
}

// Decode parses results.json's bytes and checks their format version.
func Decode(data []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if r.Format != Format {
		return nil, fmt.Errorf("format %q, want %q", r.Format, Format)
	}
	return &r, nil
}

// Read reads the results.json of a run directory.
func Read(dir string) (*Result, error) {
	data, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		return nil, err
	}
	r, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, File), err)
	}
	return r, nil
}
