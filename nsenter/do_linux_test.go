package nsenter_test

import (
	"errors"
	"os/exec"
	"testing"

	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/target"
)

// TestDoAndCommandWordFailuresAlike: Do plans its joins as Command does,
// so the same failure (a target that died after it was pinned) is the same
// error, of the same kind. It needs no privileges: the target is the
// test's own child.
func TestDoAndCommandWordFailuresAlike(t *testing.T) {
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tg, err := target.PinPID(cmd.Process.Pid, 0)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	defer tg.Close()
	cmd.Process.Kill()
	cmd.Wait() // reaped: the pidfd now names a process that is gone

	kinds := namespace.SetOf(namespace.Net, namespace.UTS)
	ran := false
	doErr := nsenter.Do(tg, kinds, func() error { ran = true; return nil })
	opts := nsenter.DefaultOptions()
	opts.Kinds = kinds
	cmdErr := nsenter.Command(tg, opts, "true").Run()
	if ran {
		t.Error("Do ran fn although the joins failed")
	}
	if doErr == nil || cmdErr == nil {
		t.Fatalf("entering a dead target: Do %v, Command %v", doErr, cmdErr)
	}
	if doErr.Error() != cmdErr.Error() {
		t.Errorf("Do says %q, Command %q", doErr, cmdErr)
	}
	for _, err := range []error{doErr, cmdErr} {
		var ne *nsenter.Error
		if !errors.As(err, &ne) || !errors.Is(err, nsenter.ErrTargetGone) {
			t.Errorf("%#v is not an *nsenter.Error of kind ErrTargetGone", err)
		}
	}
	if err := nsenter.Do(tg, namespace.SetOf(namespace.User), func() error { return nil }); !errors.Is(err, nsenter.ErrUnsupported) {
		t.Errorf("Do with a user namespace: %v, want ErrUnsupported", err)
	}
}
