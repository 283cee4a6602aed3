package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestErrorsAreOneEscapedLine runs a failing enter whose message repeats a
// string with a terminal escape and a newline, as errors repeat strings a
// target controls (its cgroup path, names in its /etc/passwd): stderr must
// get one line, with the escape shown as \xHH.
func TestErrorsAreOneEscapedLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	hostile := "review\x1b]0;pwned\x07\nforged"
	code := Main([]string{"nsx", "enter", "--as", hostile, "-t", strconv.Itoa(os.Getpid()), "-m", "true"}, os.Stdin, &stdout, &stderr)
	got := stderr.String()
	if code != 1 || strings.ContainsAny(got, "\x1b\x07") || strings.Count(got, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q: want 1 and one line without control characters", code, got)
	}
	if !strings.Contains(got, `review\x1b]0;pwned\x07\x0aforged`) {
		t.Fatalf("stderr %q does not show the string escaped", got)
	}
}
