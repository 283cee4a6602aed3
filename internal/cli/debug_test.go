package cli

import (
	"io"
	"strings"
	"testing"
)

// The refusals happen while parsing, before any target is looked up, so
// this runs unprivileged: each is one line, exit 1, naming the option.
func TestDebugRefusesOptions(t *testing.T) {
	for _, args := range [][]string{
		{"-m"}, {"--mount"}, {"-r"}, {"--root=/"}, {"-w"}, {"-F"}, {"--read-only"},
		{"-n"}, {"-p"}, {"-U"}, {"-T"}, {"-a"}, {"-N", "3"}, {"--user-parent"}, {"-Z"},
	} {
		var stderr strings.Builder
		env := &Env{Prog: "nsx debug", Argv0: "nsx debug", Stdout: io.Discard, Stderr: &stderr}
		code := runDebug(env, append(args, "docker:nsx-debug-unit", "--", "true"))
		msg := strings.TrimSuffix(stderr.String(), "\n")
		if code != 1 || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "nsx debug: --") || !strings.Contains(msg, "is refused: ") {
			t.Errorf("%v: exit %d, %q; want one refusal line", args, code, stderr.String())
		}
	}
}

func TestDebugNeedsTarget(t *testing.T) {
	var stderr strings.Builder
	env := &Env{Prog: "nsx debug", Argv0: "nsx debug", Stdout: io.Discard, Stderr: &stderr}
	if code := runDebug(env, []string{"--rw"}); code != 1 || !strings.Contains(stderr.String(), "no target given") {
		t.Errorf("no target: exit %d, %q", code, stderr.String())
	}
}

func TestDebugHelp(t *testing.T) {
	var out strings.Builder
	env := &Env{Prog: "nsx debug", Argv0: "nsx debug", Stdout: &out, Stderr: io.Discard}
	if code := runDebug(env, []string{"--help"}); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, s := range []string{"nsx debug [options]", "--rw", "--toolbox", "/target", "/proc/<pid>/root"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("help lacks %q", s)
		}
	}
}
