package flame

import (
	"os"
	"os/exec"
)

// Chromium finds a Chromium to open the HTML headless, for checking it:
// $CHROMIUM, else Debian's, else one on the PATH; false when there is none.
func Chromium() (string, bool) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, true
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, true
	}
	return "", false
}
