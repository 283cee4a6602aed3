package nsenter_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/testutil"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/target"
)

// m0Probe is set in the test binary run by TestDoNeverTaintsTheMainThread.
const m0Probe = "NSX_TEST_DO_ON_MAIN_THREAD"

// TestMain, in the probe, calls nsenter.Do from the main goroutine, on the
// main thread (m0) once package initialisation is over (the runtime keeps
// the main goroutine locked to m0 only during it): that is where Do's
// goroutine lands unless something keeps it off. It prints the main
// thread's net namespace before and after.
func TestMain(m *testing.M) {
	pid, err := strconv.Atoi(os.Getenv(m0Probe))
	if err != nil {
		os.Exit(m.Run())
	}
	main := fmt.Sprintf("/proc/self/task/%d/ns/net", os.Getpid())
	before, _ := os.Readlink(main)
	tg, err := target.PinPID(pid, 0)
	if err == nil {
		err = nsenter.Do(tg, namespace.SetOf(namespace.Net), func() error { return nil })
	}
	after, _ := os.Readlink(main)
	fmt.Println(before, after, err)
	os.Exit(0)
}

// TestDoNeverTaintsTheMainThread: nsx's init does not lock the main
// goroutine to the main thread (m0), so only the join engine's own care
// keeps a joined thread off m0. Had Do run fn there, m0 would stay in the
// target's net namespace for good (the runtime parks m0 instead of ending
// it), and /proc/self/ns, which shows m0's namespaces, would lie. The probe
// calls Do from the main goroutine on m0, where an unprotected Do's
// goroutine lands.
func TestDoNeverTaintsTheMainThread(t *testing.T) {
	fx := testutil.SharedUser(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), m0Probe+"="+strconv.Itoa(fx.PID))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 3 || f[2] != "<nil>" {
		t.Fatalf("probe: %q", out)
	}
	if f[0] != f[1] {
		t.Errorf("after Do the main thread is in %s, not %s", f[1], f[0])
	}
	if want := fx.NS(t, "net"); f[0] == want {
		t.Errorf("the probe started in the target's net namespace %s", want)
	}
}
