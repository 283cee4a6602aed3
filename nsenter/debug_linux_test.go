package nsenter_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/testutil"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/procfs"
	"github.com/nsxproject/nsx/target"
)

// debugOut runs a debug program and returns its output.
func debugOut(t *testing.T, tg *target.Pinned, d nsenter.DebugOptions, name string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	cmd := nsenter.Debug(tg, nsenter.DefaultOptions(), d, name, args...)
	cmd.Stdout = &out
	err := cmd.Run()
	return out.String(), err
}

// ownMountsAgain polls ownMounts until it equals want or a second has
// passed: the thread a debug run used exits soon after the run, not at once.
func ownMountsAgain(t *testing.T, want string) string {
	t.Helper()
	got := ownMounts(t)
	for deadline := time.Now().Add(time.Second); got != want && time.Now().Before(deadline); got = ownMounts(t) {
		time.Sleep(5 * time.Millisecond)
	}
	return got
}

// ownMounts is what a debug run could leak into nsx's own mount namespace:
// the namespace of every thread, and the mounts nsx debug makes (its tmpfs
// sources are named nsx-debug*, and a fresh procfs). The rest of the host's
// mount table is left out: other tests and daemons change it meanwhile.
func ownMounts(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, task := range tasks {
		if l, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/mnt"); err == nil && !seen[l] {
			seen[l] = true
			b.WriteString(l + "\n")
		}
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		if strings.Contains(line, " nsx-debug") || strings.Contains(line, " - proc ") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestDebugSeesTargetProcessesAndFiles(t *testing.T) {
	fx := testutil.SharedUser(t)
	targetMounts := testutil.Mountinfo(t, fx.PID)
	host := ownMounts(t)
	out, err := debugOut(t, pin(t, fx.PID), nsenter.DebugOptions{}, "sh", "-c",
		`cat /proc/1/comm; hostname; readlink /proc/self/ns/net; test "$(stat -c %i /target/etc)" = "$(stat -c %i /etc)" && echo same-etc; touch /target/nsx-debug-lib 2>&1 || :`)
	if err != nil {
		t.Fatal(err)
	}
	want := "sleep\nnsx-test\n" + fx.NS(t, "net") + "\nsame-etc\ntouch: cannot touch '/target/nsx-debug-lib': Read-only file system\n"
	if out != want {
		t.Errorf("debug program saw %q, want %q", out, want)
	}
	if diff := testutil.MountsChanged(t, fx.PID, targetMounts); diff != "" {
		t.Errorf("the target's mountinfo changed:\n%s", diff)
	}
	if after := ownMountsAgain(t, host); after != host {
		t.Errorf("nsx's own mountinfo changed:\n%s\n%s", host, after)
	}
}

func TestDebugFailuresLeaveNothing(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	// The fixture's unshare process, a child of this one, ends with
	// fx.Stop below; only the children Debug may leave are compared.
	st, err := procfs.ReadStat(fx.PID)
	if err != nil {
		t.Fatal(err)
	}
	fixture := st.PPID
	before, fds, host := children(t, fixture), openFds(t), ownMounts(t)

	// The child fails: no such program.
	_, err = debugOut(t, tg, nsenter.DebugOptions{}, "/nsx-debug-no-such-program")
	var ne *nsenter.Error
	if err == nil || !strings.Contains(err.Error(), "failed to execute") {
		t.Errorf("missing program: %v", err)
	} else if !errors.As(err, &ne) || !errors.Is(err, nsenter.ErrExec) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("missing program: %#v, want ErrExec with ENOENT", err)
	}
	// The toolbox is no root filesystem and no program is named.
	empty := t.TempDir()
	if _, err := debugOut(t, tg, nsenter.DebugOptions{Toolbox: empty}, ""); err == nil || !strings.Contains(err.Error(), "not a root filesystem") {
		t.Errorf("empty toolbox: %v", err)
	}
	if after := openFds(t); after != fds {
		t.Errorf("open fds: %d before, %d after failed starts", fds, after)
	}
	// The target is gone before the start.
	fx.Stop()
	fds = openFds(t)
	for deadline := time.Now().Add(5 * time.Second); tg.Alive() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the target did not die")
		}
	}
	if err := nsenter.Debug(tg, nsenter.DefaultOptions(), nsenter.DebugOptions{}, "true").Run(); err == nil {
		t.Error("debugging a dead target succeeded")
	}
	if after := children(t, fixture); after != before {
		t.Errorf("children: %q before, %q after", before, after)
	}
	if after := openFds(t); after != fds {
		t.Errorf("open fds: %d before, %d after", fds, after)
	}
	if after := ownMountsAgain(t, host); after != host {
		t.Errorf("nsx's own mountinfo changed")
	}
}

func TestDebugRefusesTargetMountOptions(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	for name, o := range map[string]func(*nsenter.Options){
		"root":      func(o *nsenter.Options) { o.Root = true },
		"wd":        func(o *nsenter.Options) { o.WorkDir = true },
		"no-fork":   func(o *nsenter.Options) { o.NoFork = true },
		"read-only": func(o *nsenter.Options) { o.ReadOnly = true },
	} {
		opts := nsenter.DefaultOptions()
		o(&opts)
		cmd := nsenter.Debug(tg, opts, nsenter.DebugOptions{}, "true")
		var err error
		if opts.NoFork {
			err = cmd.Exec()
		} else {
			err = cmd.Run()
		}
		if err == nil || !strings.HasPrefix(err.Error(), "nsenter: debug ") || !errors.Is(err, nsenter.ErrUnsupported) {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
}
