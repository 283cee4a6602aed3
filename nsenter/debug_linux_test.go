package nsenter_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/testutil"
	"github.com/nsxproject/nsx/nsenter"
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

func ownMounts(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDebugSeesTargetProcessesAndFiles(t *testing.T) {
	fx := testutil.SharedUser(t)
	targetMounts, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", fx.PID))
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
	if after, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", fx.PID)); string(after) != string(targetMounts) {
		t.Errorf("the target's mountinfo changed")
	}
	if after := ownMounts(t); after != host {
		t.Errorf("nsx's own mountinfo changed:\n%s\n%s", host, after)
	}
}

func TestDebugFailuresLeaveNothing(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	before, fds, host := children(t), openFds(t), ownMounts(t)

	// The child fails: no such program.
	_, err := debugOut(t, tg, nsenter.DebugOptions{}, "/nsx-debug-no-such-program")
	var ne *nsenter.Error
	if err == nil || !strings.Contains(err.Error(), "failed to execute") {
		t.Errorf("missing program: %v", err)
	} else if !errors.As(err, &ne) || ne.ExitCode != 127 {
		t.Errorf("missing program: %#v, want exit code 127", err)
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
	if after := children(t); after != before {
		t.Errorf("children: %q before, %q after", before, after)
	}
	if after := openFds(t); after != fds {
		t.Errorf("open fds: %d before, %d after", fds, after)
	}
	if after := ownMounts(t); after != host {
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
		if err == nil || !strings.HasPrefix(err.Error(), "debug ") {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
}
