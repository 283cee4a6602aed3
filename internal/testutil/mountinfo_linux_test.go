package testutil_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/testutil"
)

// MountsChanged reports mounts that appear or vanish, except a mount whose
// directory the host removed (the kernel detaches it then).
func TestMountsChanged(t *testing.T) {
	testutil.RequireTool(t, "nsenter")
	fx := testutil.Start(t, []string{"--mount", "--propagation", "private"}, `echo ready > "$READY"; exec sleep 1000`)
	dir := t.TempDir()
	kept, gone := filepath.Join(dir, "kept"), filepath.Join(dir, "gone")
	for _, d := range []string{kept, gone} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inTarget := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(fx.PID), "-m"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	before := testutil.Mountinfo(t, fx.PID)
	inTarget("mount", "-t", "tmpfs", "nsx-probe", kept)
	if diff := testutil.MountsChanged(t, fx.PID, before); !strings.HasPrefix(diff, "+ ") || !strings.Contains(diff, kept) {
		t.Errorf("a new mount: %q", diff)
	}
	inTarget("mount", "-t", "tmpfs", "nsx-probe", gone)
	withBoth := testutil.Mountinfo(t, fx.PID)
	if err := os.Remove(gone); err != nil {
		t.Fatalf("remove the directory under the target's mount: %v", err)
	}
	if diff := testutil.MountsChanged(t, fx.PID, withBoth); diff != "" {
		t.Errorf("a mount detached by the host's rmdir was reported: %q", diff)
	}
	inTarget("umount", kept)
	if diff := testutil.MountsChanged(t, fx.PID, withBoth); !strings.HasPrefix(diff, "- ") || !strings.Contains(diff, kept) {
		t.Errorf("a vanished mount: %q", diff)
	}
}
