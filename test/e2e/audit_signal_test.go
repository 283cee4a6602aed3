package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/testutil"
)

// TestAuditNsxSignalled: nsx gets SIGTERM while the program runs; it passes
// it on, the program dies of it, and the end record says so before nsx
// dies of the same signal.
func TestAuditNsxSignalled(t *testing.T) {
	log := filepath.Join(auditDir(t, "log"), "audit.log")
	h := newAuditHost(t, "audit = file:"+log+"\n", "")
	fx := testutil.Start(t, []string{"--net"}, `echo ready > "$READY"; exec sleep 3600`)
	cmd := h.command(`exec "$NSX" enter -t ` + strconv.Itoa(fx.PID) + ` -n -- sleep 3600`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The start record is written just before the program starts.
	for i := 0; ; i++ {
		if b, _ := os.ReadFile(log); len(b) > 0 && len(testutil.Children(cmd.Process.Pid)) > 0 {
			break
		}
		if i == 400 {
			t.Fatal("nsx did not start the program")
		}
		time.Sleep(25 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("nsx ended with %v, want death by SIGTERM", ws)
	}
	_, end := checkPair(t, fileRecords(t, log))
	if end.Signal != "SIGTERM" {
		t.Fatalf("end record: signal %q exit %v, want SIGTERM", end.Signal, end.ExitCode)
	}
}
