package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/testutil"
)

// TestUnshareForwardsEverySignal sends each signal nsx forwards to nsx
// unshare's PID and checks the program saw each one exactly once, in order,
// as it does under util-linux's unshare, which executes it in place. A
// signal nsx does not catch (ALRM, say) ends nsx instead and orphans the
// program.
func TestUnshareForwardsEverySignal(t *testing.T) {
	oracleBin := testutil.OracleAs(t, "unshare", "unshare")
	_, nsx := diffBins(t)
	sigs := []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
		syscall.SIGALRM, syscall.SIGWINCH, syscall.SIGCONT, syscall.SIGTERM}
	var traps strings.Builder
	for _, s := range sigs {
		n := strings.TrimPrefix(unix.SignalName(s), "SIG")
		fmt.Fprintf(&traps, `trap 'echo got-%s' %s; `, n, n)
	}
	script := traps.String() + `trap 'echo got-TERM; exit 5' TERM; echo ready; while :; do sleep 0.05; done`
	for _, bin := range []struct{ who, path string }{{"util-linux", oracleBin}, {"nsx", nsx}} {
		r := startSig(t, bin.path, false, "unshare", "-u", "--", "sh", "-c", script)
		var want strings.Builder
		want.WriteString("ready\n")
		for _, s := range sigs {
			line := "got-" + strings.TrimPrefix(unix.SignalName(s), "SIG") + "\n"
			if err := syscall.Kill(r.cmd.Process.Pid, s); err != nil {
				t.Fatal(err)
			}
			want.WriteString(line)
			deadline := time.Now().Add(20 * time.Second) // a hang guard
			for !strings.HasSuffix(r.output(), line) && time.Now().Before(deadline) && s != syscall.SIGTERM {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if rc := r.status(t); rc != 5 || r.output() != want.String() {
			t.Errorf("%s: status %d, output %q; want 5, %q", bin.who, rc, r.output(), want.String())
		}
	}
}
