package e2e

// Signals, driven as a terminal or a supervisor would: the program must see
// what it would see if nsenter had executed it in place, and nsx must end
// with the program's status. The 2.41.5 oracle executes in place unless it
// enters a PID namespace; with -p it forks and dies of the signal itself,
// orphaning the program (nsx forwards there: docs/compat.md).

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/internal/testutil"
)

// sigScript traps INT and TERM with status 5, cleaning up its background
// sleep, and says when the trap is set. The sleep starts before the trap:
// started after, its shell could take the trap's kill between fork and exec
// with the trap it inherited and lose it, and the sleep outlived the test.
const sigScript = `sleep 20 & trap 'kill $! 2>/dev/null; exit 5' INT TERM; echo ready; wait; echo woke`

// sigRun is one started nsenter with its output.
type sigRun struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	pty  *os.File // the master, when on a terminal
	done chan struct{}
	eof  chan struct{} // the output is complete
	err  error
}

func (r *sigRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// startSig starts bin as "nsenter" (or as given by argv0) in a new session:
// with a pseudo-terminal as its controlling terminal and stdio when onPty,
// else with pipes. It returns once the program has printed "ready".
func startSig(t *testing.T, bin string, onPty bool, args ...string) *sigRun {
	t.Helper()
	r := &sigRun{done: make(chan struct{}), eof: make(chan struct{})}
	cmd := exec.Command(bin, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env = []string{"LC_ALL=C", "PATH=" + diffPath}
	var reader *os.File
	if onPty {
		master, slave := openPty(t)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		defer slave.Close()
		r.pty, reader = master, master
	} else {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = pw, pw
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		defer pw.Close()
		reader = pr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.cmd = cmd
	t.Cleanup(func() {
		// The whole session: an orphaned program, its sleep.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
		reader.Close()
	})
	go func() {
		defer close(r.eof)
		buf := make([]byte, 512)
		for {
			n, err := reader.Read(buf)
			r.mu.Lock()
			r.out.Write(buf[:n])
			r.mu.Unlock()
			if err != nil {
				return // EOF, or EIO once the terminal's last user is gone
			}
		}
	}()
	go func() { r.err = cmd.Wait(); close(r.done) }()
	deadline := time.Now().Add(20 * time.Second) // a hang guard, not a measurement
	for !strings.Contains(r.output(), "ready") {
		select {
		case <-r.done:
			t.Fatalf("%q ended before the program was ready: %v\n%s", args, r.err, r.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q: program never ready:\n%s", args, r.output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r
}

// status waits for nsenter and its output and returns its status as a
// shell shows it (128+N for a death by signal).
func (r *sigRun) status(t *testing.T) int {
	t.Helper()
	return r.statusOnly(t, true)
}

// statusOnly is status that may skip waiting for the output, which an
// orphaned program holds open.
func (r *sigRun) statusOnly(t *testing.T, output bool) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second): // a hang guard
		t.Fatalf("%q still running:\n%s", r.cmd.Args, r.output())
	}
	if output {
		select {
		case <-r.eof:
		case <-time.After(30 * time.Second): // a hang guard
			t.Fatalf("%q: output still open:\n%s", r.cmd.Args, r.output())
		}
	}
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(m, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := unix.Open(fmt.Sprintf("/dev/pts/%d", n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(m), "ptmx"), os.NewFile(uintptr(s), "pts")
}

// sigDeliver sends sig the way named: "pid" to nsenter's PID only, "group"
// to its whole process group, "tty" as the terminal's Ctrl-C.
func sigDeliver(t *testing.T, r *sigRun, how string, sig syscall.Signal) {
	t.Helper()
	var err error
	switch how {
	case "pid":
		err = syscall.Kill(r.cmd.Process.Pid, sig)
	case "group":
		err = syscall.Kill(-r.cmd.Process.Pid, sig)
	case "tty":
		_, err = r.pty.Write([]byte{3}) // ^C: INT to the foreground group
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestNsenterSignals(t *testing.T) {
	oracleBin := testutil.OracleAs(t, "nsenter", "nsenter")
	_, nsx := diffBins(t)
	tg := testutil.SharedUser(t)
	userTg := testutil.AllKinds(t)
	T, U := fmt.Sprint(tg.PID), fmt.Sprint(userTg.PID)
	type mode struct {
		name string
		args []string
		// forks: the oracle forks here (a PID namespace) and so dies of
		// a signal sent to it alone instead of passing it on.
		forks bool
	}
	modes := []mode{
		{"thread", []string{"-t", T, "-n", "-u"}, false},
		{"raw child", []string{"-t", T, "-n", "-S", "0", "-G", "0"}, false},
		{"pid namespace", []string{"-t", T, "-p", "-m"}, true},
		{"user namespace", []string{"-t", U, "-U", "-n", "--preserve-credentials"}, false},
		{"time namespace", []string{"-t", U, "-T", "-n"}, false},
		{"user and pid namespaces", []string{"-t", U, "-U", "-p", "-m", "--preserve-credentials"}, true},
	}
	for _, m := range modes {
		for _, d := range []struct {
			how string
			sig syscall.Signal
		}{{"pid", syscall.SIGTERM}, {"pid", syscall.SIGINT}, {"group", syscall.SIGINT}, {"tty", syscall.SIGINT}} {
			name := fmt.Sprintf("%s/%s-%s", m.name, d.how, unix.SignalName(d.sig))
			t.Run(name, func(t *testing.T) {
				args := append(append([]string{"nsenter"}, m.args...), "--", "sh", "-c", sigScript)
				ul := startSig(t, oracleBin, d.how == "tty", args...)
				sigDeliver(t, ul, d.how, d.sig)
				ulRC := ul.statusOnly(t, !m.forks)
				nx := startSig(t, nsx, d.how == "tty", args...)
				sigDeliver(t, nx, d.how, d.sig)
				nxRC := nx.status(t)
				if nxRC != 5 {
					t.Errorf("nsx: status %d, want the program's 5\n%s", nxRC, nx.output())
				}
				oracleDies := m.forks
				switch {
				case oracleDies && ulRC != 128+int(d.sig):
					t.Errorf("util-linux (forking): status %d, want death by %v (documented deviation)", ulRC, d.sig)
				case !oracleDies && ulRC != nxRC:
					t.Errorf("util-linux: status %d, nsx %d", ulRC, nxRC)
				}
				if strings.Contains(nx.output(), "woke") {
					t.Errorf("nsx: the program's wait was not interrupted:\n%s", nx.output())
				}
			})
		}
	}
}

// TestEnterSignalsReadOnly covers nsx enter's own modes, which util-linux
// lacks: --read-only's private mount namespace copy.
func TestEnterSignalsReadOnly(t *testing.T) {
	_, nsx := diffBins(t)
	tg := testutil.SharedUser(t)
	for _, how := range []string{"pid", "tty"} {
		args := []string{"nsx", "enter", "--read-only", "-m", "-t", fmt.Sprint(tg.PID), "--", "sh", "-c", sigScript}
		for _, extra := range [][]string{nil, {"-S", "0"}} {
			a := append(append(append([]string{}, args[:3]...), extra...), args[3:]...)
			r := startSig(t, nsx, how == "tty", a...)
			sigDeliver(t, r, how, syscall.SIGINT)
			if rc := r.status(t); rc != 5 {
				t.Errorf("%q by %s: status %d, want 5\n%s", a, how, rc, r.output())
			}
		}
	}
}

// TestEnterSignalsDocker enters a docker container (busybox's sh, all its
// namespaces) and sends TERM to nsx and Ctrl-C on its terminal.
func TestEnterSignalsDocker(t *testing.T) {
	enginetest.Require(t, "docker")
	_, nsx := diffBins(t)
	name := enginetest.Name("nsx-exact-sig")
	enginetest.RunDocker(t, name)
	for _, d := range []struct {
		how string
		sig syscall.Signal
	}{{"pid", syscall.SIGTERM}, {"tty", syscall.SIGINT}} {
		r := startSig(t, nsx, d.how == "tty", "nsx", "enter", "docker:"+name, "--", "sh", "-c", sigScript)
		sigDeliver(t, r, d.how, d.sig)
		if rc := r.status(t); rc != 5 {
			t.Errorf("%s %v: status %d, want 5\n%s", d.how, d.sig, rc, r.output())
		}
	}
}

// TestEnterForwardsEverySignal sends each forwarded signal to nsx's PID and
// checks the program saw each one exactly once, in order, as it would if
// it had been executed in place (the oracle, with -n, executes in place).
func TestEnterForwardsEverySignal(t *testing.T) {
	oracleBin := testutil.OracleAs(t, "nsenter", "nsenter")
	_, nsx := diffBins(t)
	tg := testutil.SharedUser(t)
	script := trapScript(forwardedSignalsInOrder)
	for _, bin := range []struct{ who, path string }{{"util-linux", oracleBin}, {"nsx", nsx}} {
		for _, mode := range [][]string{{"-n"}, {"-n", "-S", "0"}} {
			args := append(append([]string{"nsenter", "-t", fmt.Sprint(tg.PID)}, mode...), "--", "sh", "-c", script)
			r := startSig(t, bin.path, false, args...)
			want := deliverEach(t, r, forwardedSignalsInOrder)
			if rc := r.status(t); rc != 5 || r.output() != want {
				t.Errorf("%s %q: status %d, output %q; want 5, %q", bin.who, mode, rc, r.output(), want)
			}
		}
	}
}

// forwardedSignalsInOrder are the signals the forwarding tests send, TERM
// last: trapScript's program exits on it.
var forwardedSignalsInOrder = []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
	syscall.SIGALRM, syscall.SIGWINCH, syscall.SIGCONT, syscall.SIGTERM}

// trapScript is a shell program that prints "ready", then "got-NAME" for
// each of sigs as it arrives, and exits 5 after reporting TERM.
func trapScript(sigs []syscall.Signal) string {
	var traps strings.Builder
	for _, s := range sigs {
		n := strings.TrimPrefix(unix.SignalName(s), "SIG")
		fmt.Fprintf(&traps, `trap 'echo got-%s' %s; `, n, n)
	}
	// Each trap runs once the read returns; the fifo-free way to wait for
	// the next signal is a short sleep loop, which a trap interrupts.
	return traps.String() + `trap 'echo got-TERM; exit 5' TERM; echo ready; while :; do sleep 0.05; done`
}

// deliverEach sends sigs to the process r started, each once the program
// has reported the one before, and returns what trapScript should have
// printed by the end.
func deliverEach(t *testing.T, r *sigRun, sigs []syscall.Signal) string {
	t.Helper()
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
	return want.String()
}

// A signal that arrives while a container is still being resolved ends nsx
// as it would end any program that does not catch it: nsx catches the
// forwarded signals from early on, but passes them on only once there is a
// program, and no program starts afterwards.
func TestSignalDuringResolution(t *testing.T) {
	testutil.RequireRoot(t) // for ctrNSX's shared directory
	nsx := ctrNSX(t)
	sock := t.TempDir() + "/silent.sock"
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c // read nothing, answer nothing
		}
	}()
	marker := t.TempDir() + "/ran"
	cmd := exec.Command(nsx, "enter", "docker:nsx-silent", "--", "touch", marker)
	cmd.Env = []string{"LC_ALL=C", "PATH=" + diffPath, "DOCKER_HOST=unix://" + sock}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("nsx never asked the engine")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("nsx after SIGTERM while resolving: %v, want death by SIGTERM", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the program ran after nsx was told to end")
	}
}
