package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
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

// fullWriter fails every write as a write to /dev/full does.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestHelpWriteErrors checks that help and version texts whose write fails
// end with util-linux's close_stdout message and exit 1, as lsns --help
// >/dev/full does, in glibc's words.
func TestHelpWriteErrors(t *testing.T) {
	for _, argv := range [][]string{
		{"nsx", "--help"}, {"nsx", "-V"}, {"nsx", "help"}, {"nsx", "help", "ls"},
		{"lsns", "--help"}, {"lsns", "-V"}, {"nsx", "ls", "--help"}, {"nsx", "debug", "-V"},
	} {
		var stderr bytes.Buffer
		code := Main(argv, os.Stdin, fullWriter{}, &stderr)
		if code != 1 || !strings.HasSuffix(stderr.String(), ": write error: No space left on device\n") {
			t.Errorf("%q: exit %d, stderr %q; want 1 and a write error", argv, code, stderr.String())
		}
	}
}
