package spawn

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// catchProbe, set in the environment, makes TestMain run catchMain: a
// caught signal stays caught for the life of a process, so each check runs
// in a process of its own.
const catchProbe = "NSX_SPAWN_CATCH_PROBE"

// catchScript reports each signal it traps and exits 7 on TERM.
const catchScript = `trap 'echo got-USR1' USR1; trap 'echo got-USR2' USR2; trap 'echo got-HUP' HUP; ` +
	`trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done`

// catchMain catches, starts catchScript, and prints one line per step: a
// signal sent before ForwardCaught is held and then passed on, one sent
// after is passed on at once, and one sent after StopForwarding is dropped
// while this process lives on. It ends with the program's SigIgn mask.
func catchMain() {
	var prog *exec.Cmd
	fail := func(f string, a ...any) {
		if prog != nil && prog.Process != nil {
			prog.Process.Kill() // no program outlives a failed probe
		}
		fmt.Printf("probe: "+f+"\n", a...)
		os.Exit(2)
	}
	if !CatchSignals() {
		fail("CatchSignals declined")
	}
	if CatchSignals() {
		fail("a second CatchSignals caught again")
	}
	handler, _ := caughtHandler()
	handled := 0
	for _, sig := range forwardedSignals {
		var act sigaction
		setSigaction(sig, nil, &act)
		if act.handler == handler && act.flags&(saSiginfo|saOnstack|saRestorer) == saSiginfo|saOnstack|saRestorer {
			handled++
		}
	}
	fmt.Printf("handled %d\n", handled)
	self := os.Getpid()
	syscall.Kill(self, syscall.SIGUSR1) // held: there is no program yet
	prog = exec.Command("sh", "-c", catchScript)
	out, err := prog.StdoutPipe()
	if err != nil {
		fail("%v", err)
	}
	if err := prog.Start(); err != nil {
		fail("%v", err)
	}
	go func() { // a hang guard: a held signal that never went out
		time.Sleep(20 * time.Second)
		fail("hung")
	}()
	lines := bufio.NewScanner(out)
	next := func() string {
		if !lines.Scan() {
			return "(end)"
		}
		return lines.Text()
	}
	fmt.Println(next()) // ready
	if err := ForwardCaught(prog.Process.Pid); err != nil {
		fail("ForwardCaught: %v", err)
	}
	fmt.Println(next()) // the held USR1
	syscall.Kill(self, syscall.SIGUSR2)
	fmt.Println(next())
	ign, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", prog.Process.Pid))
	StopForwarding()
	syscall.Kill(self, syscall.SIGHUP) // dropped, unless ignored anyway
	time.Sleep(50 * time.Millisecond)  // time for a wrongly passed-on HUP to reach the trap
	prog.Process.Signal(syscall.SIGTERM)
	for l := next(); l != "(end)"; l = next() {
		fmt.Println(l) // a HUP that went out after all
	}
	err = prog.Wait()
	fmt.Println("program:", err)
	for _, l := range strings.Split(string(ign), "\n") {
		if strings.HasPrefix(l, "SigIgn:") {
			fmt.Println("program", l)
		}
	}
	os.Exit(0)
}

// sigIgnHas reports whether the SigIgn line in out has sig.
func sigIgnHas(t *testing.T, out string, sig syscall.Signal) bool {
	t.Helper()
	i := strings.Index(out, "SigIgn:")
	if i < 0 {
		t.Fatalf("no SigIgn in %q", out)
	}
	mask, err := strconv.ParseUint(strings.TrimSpace(out[i+len("SigIgn:"):]), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return mask&(1<<(uint(sig)-1)) != 0
}

// TestCatchSignalsHoldsForwardsAndStops checks that the kernel reports the
// handler on every forwarded signal, and, through the program's own traps,
// each state of the handler.
func TestCatchSignalsHoldsForwardsAndStops(t *testing.T) {
	if !canCatch {
		t.Skip("no handler on this architecture: os/signal catches")
	}
	out := runProbe(t, catchProbe, "")
	want := "handled 9\nready\ngot-USR1\ngot-USR2\nprogram: exit status 7\n"
	if got, _, _ := strings.Cut(out, "program SigIgn"); got != want {
		t.Errorf("probe printed %q, want %q before the mask", got, want)
	}
	if sigIgnHas(t, out, syscall.SIGHUP) {
		t.Errorf("the program ignores SIGHUP though nsx did not: %q", out)
	}
}

// TestCatchSignalsLeavesIgnoredIgnored: started with SIGHUP ignored (as
// nohup starts a program), the probe does not catch it, and the program
// inherits the ignoring, as from util-linux.
func TestCatchSignalsLeavesIgnoredIgnored(t *testing.T) {
	if !canCatch {
		t.Skip("no handler on this architecture: os/signal catches")
	}
	out := runProbe(t, catchProbe, `trap "" HUP; `)
	if !sigIgnHas(t, out, syscall.SIGHUP) {
		t.Errorf("the program does not ignore SIGHUP: %q", out)
	}
	if !strings.HasPrefix(out, "handled 8\n") {
		t.Errorf("want the handler on the 8 signals not ignored: %q", out)
	}
	if strings.Contains(out, "got-HUP") {
		t.Errorf("an ignored HUP was passed on: %q", out)
	}
}
