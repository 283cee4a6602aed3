package e2e

import (
	"testing"

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
	script := trapScript(forwardedSignalsInOrder)
	for _, bin := range []struct{ who, path string }{{"util-linux", oracleBin}, {"nsx", nsx}} {
		r := startSig(t, bin.path, false, "unshare", "-u", "--", "sh", "-c", script)
		want := deliverEach(t, r, forwardedSignalsInOrder)
		if rc := r.status(t); rc != 5 || r.output() != want {
			t.Errorf("%s: status %d, output %q; want 5, %q", bin.who, rc, r.output(), want)
		}
	}
}
