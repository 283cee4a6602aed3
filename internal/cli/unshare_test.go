package cli

import (
	"io"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/nsxproject/nsx/internal/testutil"
)

func TestIDMapHoles(t *testing.T) {
	for _, c := range []struct {
		name   string
		single int64
		ranges []idRange
		self   int64
		want   []idRange
	}{
		{"single only", 5, nil, 0, []idRange{{5, 0, 1}}},
		{"range only", -1, []idRange{{0, 1000, 10}}, 0, []idRange{{0, 1000, 10}}},
		// util-linux 2.41.5: --map-user 3 --map-users 0:0:10 as root.
		{"hole in both", 3, []idRange{{0, 0, 10}}, 0, []idRange{{3, 0, 1}, {0, 1, 3}, {4, 4, 6}}},
		{"same id", 0, []idRange{{0, 0, 10}}, 0, []idRange{{0, 0, 1}, {1, 1, 9}}},
		{"outside", 0, []idRange{{0, 5, 1}}, 0, []idRange{{0, 0, 1}}},
		{"all", 0, []idRange{{0, 0, 4294967295}}, 0, []idRange{{0, 0, 1}, {1, 1, 4294967294}}},
		// As nobody: newuidmap is given [1-10) -> [0-9).
		{"unprivileged", 0, []idRange{{0, 0, 10}}, 65534, []idRange{{0, 65534, 1}, {1, 0, 9}}},
	} {
		m := &idMapRequest{single: c.single, ranges: c.ranges}
		if got := m.lines(c.self); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSignalByName(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"TERM": 15, "sigterm": 15, "SIGUSR1": 10, "kill": 9, "IOT": 6, "CLD": 17, "RTMIN+1": 35, "SIGRTMAX-2": 62} {
		if got, ok := signalByName(in); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"15", "", "rtmin", "BOGUS", "RTMIN+99"} {
		if _, ok := signalByName(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestParseIDs(t *testing.T) {
	for in, want := range map[string]uint64{"5": 5, " +5": 5, "010": 10, "4294967297": 4294967297} {
		if n, msg := parseULong(in, "uid"); msg != "" || n != want {
			t.Errorf("%q: %d %q", in, n, msg)
		}
	}
	for in, want := range map[string]string{
		"-1":                   "failed to parse uid: '-1': Numerical result out of range",
		"5x":                   "failed to parse uid: '5x'",
		"":                     "failed to parse uid: ''",
		"0x10":                 "failed to parse uid: '0x10'",
		"99999999999999999999": "failed to parse uid: '99999999999999999999': Numerical result out of range",
	} {
		if _, msg := parseULong(in, "uid"); msg != want {
			t.Errorf("%q: %q, want %q", in, msg, want)
		}
	}
}

// FuzzParseUnshare checks unshare's grammar on arbitrary argv: it never
// panics, and an error is one line plus util-linux's pointer to --help at
// most.
func FuzzParseUnshare(f *testing.F) {
	for _, s := range []string{
		"-fp --mount-proc sh", "--net=/x -r", "--map-users 0:1000:10 --map-user 3", "--map-u=1",
		"--kill-child=TERM -T --monotonic -5", "--propagation bad", "-S -1", "--map-groups 1,2,3",
		"-n=/x", "--setgroups allow -c", "--mount-binfmt", "-- -x", "--boottime 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		var stderr strings.Builder
		env := &Env{Prog: "unshare", Argv0: "unshare", Stdout: io.Discard, Stderr: &stderr, Compat: true}
		r, code := parseUnshare(env, args)
		if r != nil {
			return
		}
		if code != 1 {
			t.Fatalf("%q: failed with exit code %d, want 1", args, code)
		}
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "Try '")) {
			t.Fatalf("%q: error is not one line: %q", args, stderr.String())
		}
	})
}

// TestUnshareUsesEnvStdio: the program writes to the files Main was given,
// not to the process's own stdout.
func TestUnshareUsesEnvStdio(t *testing.T) {
	testutil.RequireRoot(t)
	out, err := os.CreateTemp(t.TempDir(), "nsx-unshare-out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var stderr strings.Builder
	code := Main([]string{"nsx", "unshare", "-u", "sh", "-c", "hostname nsx-unshare-stdio; hostname"}, os.Stdin, out, &stderr)
	data, _ := os.ReadFile(out.Name())
	if code != 0 || string(data) != "nsx-unshare-stdio\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, data, stderr.String())
	}
	if h, _ := os.Hostname(); h == "nsx-unshare-stdio" {
		t.Fatal("the host's hostname changed")
	}
}
