package cli

import (
	"io"
	"os"
	"strings"
	"testing"
)

func openFds(t testing.TB) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// FuzzParseEnter checks nsenter's grammar on arbitrary argv: it never
// panics, an error is one line plus util-linux's pointer to --help at
// most, and nothing it opened on the way stays open after a failure or
// after the request is released.
func FuzzParseEnter(f *testing.F) {
	for _, s := range []string{
		"-t 1 -a", "-nt 1", "--net=/proc/self/ns/net -m", "--w=/x", "-w -W/", "-S follow -G 12",
		"--root=/ --wd=/ true", "-- -x", "--bogus", "-N abc", "--targ=1 --ne", "-n=/proc/self/ns/net",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, line string, compat bool) {
		args := strings.Fields(line)
		before := openFds(t)
		var stderr strings.Builder
		env := &Env{Prog: "nsenter", Argv0: "nsenter", Stdout: io.Discard, Stderr: &stderr, Compat: compat}
		if !compat {
			env.Prog, env.Argv0 = "nsx enter", "nsx enter"
		}
		r, code := parseEnter(env, args)
		if r == nil {
			if code != 1 {
				t.Fatalf("%q: failed with exit code %d, want 1", args, code)
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "Try '")) {
				t.Fatalf("%q: error is not one line: %q", args, stderr.String())
			}
		} else {
			r.closeFiles()
		}
		if after := openFds(t); after != before {
			t.Fatalf("%q: %d fds open before parsing, %d after", args, before, after)
		}
	})
}
