package nsenter_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/testutil"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/target"
)

// sandbox pins a process in new user, UTS and network namespaces named
// "sandbox" (startSandbox), which needs no privileges, and returns it with
// options that enter its user and UTS namespaces.
func sandbox(t *testing.T) (*target.Pinned, nsenter.Options) {
	t.Helper()
	sb, err := startSandbox()
	if err != nil {
		t.Fatalf("user-namespace sandbox: %v", err)
	}
	t.Cleanup(func() { stopSandbox(sb) })
	tg := pin(t, sb.Process.Pid)
	opts := nsenter.DefaultOptions()
	opts.Kinds = namespace.SetOf(namespace.User, namespace.UTS)
	opts.PreserveCredentials = true
	return tg, opts
}

func TestProcessStateOfExitAndSignal(t *testing.T) {
	tg, opts := sandbox(t)

	cmd := nsenter.Command(tg, opts, "sh", "-c", "hostname; exit 42")
	out, err := cmd.Output()
	if string(out) != "sandbox\n" {
		t.Errorf("output %q, want the sandbox's hostname", out)
	}
	var ee *nsenter.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("exit 42: got %v, want an *ExitError", err)
	}
	if ee.ProcessState != cmd.ProcessState {
		t.Errorf("ExitError's state %p, Cmd's %p", ee.ProcessState, cmd.ProcessState)
	}
	st := cmd.ProcessState
	if st.ExitCode() != 42 || !st.Exited() || st.Success() || st.Signaled() || st.String() != "exit status 42" || err.Error() != "exit status 42" {
		t.Errorf("exit 42: ExitCode %d Exited %v Success %v Signaled %v String %q", st.ExitCode(), st.Exited(), st.Success(), st.Signaled(), st)
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || ws.ExitStatus() != 42 {
		t.Errorf("Sys() = %#v, want a syscall.WaitStatus of exit 42", st.Sys())
	}
	if st.Pid() != cmd.Process.Pid {
		t.Errorf("state's pid %d, process's %d", st.Pid(), cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != os.ErrProcessDone {
		t.Errorf("signal after Wait: %v, want os.ErrProcessDone", err)
	}

	cmd = nsenter.Command(tg, opts, "sh", "-c", "kill -USR1 $$")
	err = cmd.Run()
	st = cmd.ProcessState
	if !errors.As(err, &ee) || !st.Signaled() || st.Signal() != syscall.SIGUSR1 || st.ExitCode() != -1 || st.Exited() {
		t.Fatalf("kill -USR1: got %v (state %v)", err, st)
	}
	if want := "signal: " + syscall.SIGUSR1.String(); err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}

	cmd = nsenter.Command(tg, opts, "true")
	if err := cmd.Run(); err != nil || !cmd.ProcessState.Success() || cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("true: %v, state %v", err, cmd.ProcessState)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("a second Wait succeeded")
	}
}

// startReporting starts cmd with its output on a pipe and returns once the
// program has written its first line, which must be the sandbox's hostname:
// the program is then known to run inside.
func startReporting(t *testing.T, cmd *nsenter.Cmd) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	// Should what the test waits for never happen, end the program with a
	// signal no test expects rather than hang.
	watchdog := time.AfterFunc(2*time.Minute, func() { cmd.Process.Signal(syscall.SIGUSR2) })
	t.Cleanup(func() { watchdog.Stop() })
	line, _ := bufio.NewReader(r).ReadString('\n')
	if line != "sandbox\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("program's first line %q, want the sandbox's hostname", line)
	}
}

func TestCommandContextKillsOnCancel(t *testing.T) {
	tg, opts := sandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := nsenter.CommandContext(ctx, tg, opts, "sh", "-c", "hostname; exec sleep 600")
	startReporting(t, cmd)
	cancel()
	err := cmd.Wait()
	var ee *nsenter.ExitError
	if !errors.As(err, &ee) || ee.Signal() != syscall.SIGKILL {
		t.Fatalf("Wait after cancel: %v, want death by SIGKILL", err)
	}
}

func TestCommandContextCancelFunc(t *testing.T) {
	tg, opts := sandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The program ends with status 0 on SIGTERM: Wait then reports the
	// context's error, as exec.Cmd does. Its sleep starts before the trap,
	// so that it cannot take the trap's kill with an inherited trap (between
	// fork and exec) and outlive the test.
	cmd := nsenter.CommandContext(ctx, tg, opts, "sh", "-c", `sleep 600 & trap 'kill $!; exit 0' TERM; hostname; wait`)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	startReporting(t, cmd)
	cancel()
	if err := cmd.Wait(); !errors.Is(err, context.Canceled) || !cmd.ProcessState.Success() {
		t.Fatalf("Wait after cancel: %v (state %v), want context.Canceled after exit 0", err, cmd.ProcessState)
	}
}

func TestCommandContextWaitDelayKills(t *testing.T) {
	tg, opts := sandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := nsenter.CommandContext(ctx, tg, opts, "sh", "-c", "hostname; exec sleep 600")
	cancelled := make(chan struct{})
	cmd.Cancel = func() error { close(cancelled); return nil } // asks nothing of the program
	cmd.WaitDelay = 50 * time.Millisecond
	startReporting(t, cmd)
	cancel()
	err := cmd.Wait()
	<-cancelled
	var ee *nsenter.ExitError
	if !errors.As(err, &ee) || ee.Signal() != syscall.SIGKILL {
		t.Fatalf("Wait: %v, want death by SIGKILL after WaitDelay", err)
	}
}

func TestCommandContextDoneEntersNothing(t *testing.T) {
	tg, opts := sandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before, fds := children(t), openFds(t)
	cmd := nsenter.CommandContext(ctx, tg, opts, "true")
	cmd.Stdin, cmd.Stdout = strings.NewReader("x"), io.Discard
	if err := cmd.Start(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with a done context: %v, want context.Canceled", err)
	}
	if cmd.Process != nil {
		t.Error("Process set after a refused start")
	}
	if after := children(t); after != before {
		t.Errorf("children of the test: %q before, %q after", before, after)
	}
	if after := openFds(t); after != fds {
		t.Errorf("open fds: %d before, %d after a refused start", fds, after)
	}
}

func TestCancelNeedsContext(t *testing.T) {
	tg, opts := sandbox(t)
	cmd := nsenter.Command(tg, opts, "true")
	cmd.Cancel = func() error { return nil }
	if err := cmd.Run(); err == nil {
		t.Fatal("Cancel without a context accepted")
	}
}

func TestOutputKeepsStderrInExitError(t *testing.T) {
	tg, opts := sandbox(t)
	out, err := nsenter.Command(tg, opts, "sh", "-c", "hostname; hostname >&2; exit 3").Output()
	var ee *nsenter.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("got %v, want exit status 3", err)
	}
	if string(out) != "sandbox\n" || string(ee.Stderr) != "sandbox\n" {
		t.Errorf("stdout %q, ExitError.Stderr %q; want the sandbox's hostname in each", out, ee.Stderr)
	}
	cmd := nsenter.Command(tg, opts, "hostname")
	cmd.Stdout = io.Discard
	if _, err := cmd.Output(); err == nil {
		t.Error("Output with Stdout set succeeded")
	}
}

func TestCombinedOutputInOrder(t *testing.T) {
	tg, opts := sandbox(t)
	// Interleaved writes to both streams come back in the order made,
	// which only one shared pipe guarantees.
	script := "for i in 1 2 3 4 5 6 7 8; do echo out$i; echo err$i >&2; done; hostname >&2"
	out, err := nsenter.Command(tg, opts, "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := '1'; i <= '8'; i++ {
		want.WriteString("out" + string(i) + "\nerr" + string(i) + "\n")
	}
	want.WriteString("sandbox\n")
	if string(out) != want.String() {
		t.Errorf("combined output %q, want %q", out, want.String())
	}
}

// A program that ends without reading all of a non-file Stdin succeeds:
// the broken pipe of the copy is not its failure.
func TestUnreadStdinIsNotAnError(t *testing.T) {
	tg, opts := sandbox(t)
	cmd := nsenter.Command(tg, opts, "sh", "-c", "exec hostname")
	cmd.Stdin = strings.NewReader(strings.Repeat("x", 4<<20))
	out, err := cmd.Output()
	if err != nil || string(out) != "sandbox\n" {
		t.Fatalf("got %q, %v; want the sandbox's hostname and no error", out, err)
	}
}

// The program's error types are the stdlib's shapes: a caller can treat an
// *ExitError like an *exec.ExitError.
func TestExitErrorLikeExec(t *testing.T) {
	tg, opts := sandbox(t)
	err := nsenter.Command(tg, opts, "sh", "-c", "exit 7").Run()
	want := exec.Command("sh", "-c", "exit 7").Run()
	var ee *nsenter.ExitError
	var xe *exec.ExitError
	if !errors.As(err, &ee) || !errors.As(want, &xe) {
		t.Fatalf("got %v and %v", err, want)
	}
	if ee.Error() != xe.Error() || ee.ExitCode() != xe.ExitCode() || ee.String() != xe.String() {
		t.Errorf("nsenter %q/%d, exec %q/%d", ee, ee.ExitCode(), xe, xe.ExitCode())
	}
}

// The program's fds are exactly its standard streams and ExtraFiles, in
// order, whichever way it was started: the raw child (a user namespace is
// joined) or the thread path (only thread-joinable kinds). The fds this
// test process inherited without close-on-exec are passed on, as exec.Cmd
// and util-linux do; nothing of nsenter's own reaches the program.
func TestExtraFilesAreTheOnlyOtherFds(t *testing.T) {
	tg, opts := sandbox(t)
	thread := opts
	thread.Kinds = namespace.SetOf(namespace.UTS)
	// -r and -w with the target's root and directory: the facts hold
	// those dirfds open until the program runs.
	dirs := opts
	dirs.Root, dirs.WorkDir = true, true
	for _, c := range []struct {
		name string
		opts nsenter.Options
		root bool
	}{{"raw child", opts, false}, {"thread", thread, true}, {"target's root and cwd", dirs, false}} {
		t.Run(c.name, func(t *testing.T) {
			if c.root {
				// Joining the sandbox's UTS namespace from outside its
				// user namespace needs CAP_SYS_ADMIN over it.
				testutil.RequireRoot(t)
			}
			var files []*os.File
			for _, content := range []string{"three", "four"} {
				f, err := os.CreateTemp("", "nsx-api-extra-")
				if err != nil {
					t.Fatal(err)
				}
				os.Remove(f.Name())
				defer f.Close()
				if _, err := f.WriteString(content + "\n"); err != nil {
					t.Fatal(err)
				}
				f.Seek(0, io.SeekStart)
				files = append(files, f)
			}
			want := inheritedFds(t)
			for fd := range 5 {
				want[fd] = true
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmd := nsenter.Command(tg, c.opts, "sh", "-c", `hostname; cat <&3; cat <&4; exec sleep 600`)
			cmd.Stdout, cmd.ExtraFiles = w, files
			err = cmd.Start()
			w.Close()
			if err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Kill()
			br := bufio.NewReader(r)
			var out string
			for range 3 {
				line, _ := br.ReadString('\n')
				out += line
			}
			if out != "sandbox\nthree\nfour\n" {
				t.Fatalf("program's output %q, want the sandbox's hostname and the extra files' contents", out)
			}
			// Once sh has executed sleep and sleep is sleeping (its
			// start-up, which opens and closes files, is over), the fds
			// are those the program got, as the kernel reports them.
			waitSleeping(t, cmd.Process.Pid)
			got := fdsOf(t, cmd.Process.Pid)
			for fd := range want {
				if !got[fd] {
					t.Errorf("fd %d missing in the program", fd)
				}
			}
			for fd := range got {
				if !want[fd] {
					link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", cmd.Process.Pid, fd))
					t.Errorf("fd %d (%s) leaked into the program", fd, link)
				}
			}
		})
	}
	cmd := nsenter.Command(tg, opts, "true")
	cmd.ExtraFiles = []*os.File{nil}
	if err := cmd.Run(); err == nil {
		t.Error("a nil extra file accepted")
	}
}

// waitSleeping polls until the process is in the kernel's nanosleep, as
// /proc/PID/syscall reports it.
func waitSleeping(t *testing.T, pid int) {
	t.Helper()
	sleeping := map[string]bool{strconv.Itoa(unix.SYS_CLOCK_NANOSLEEP): true, strconv.Itoa(unix.SYS_NANOSLEEP): true}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(b)); len(f) > 0 && sleeping[f[0]] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program did not reach nanosleep (syscall %q)", b)
		}
		time.Sleep(time.Millisecond)
	}
}

func fdsOf(t *testing.T, pid int) map[int]bool {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	fds := map[int]bool{}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		fds[fd] = true
	}
	return fds
}

// inheritedFds lists the fds above 2 that an exec would pass on (no
// close-on-exec) as they were when the test binary started: those the
// test's own parent left open. Read later, the list would also hold an fd
// that nsenter or target opened without O_CLOEXEC (the pin's /proc/PID
// directory, say), and the leak would count as inherited.
func inheritedFds(t *testing.T) map[int]bool {
	t.Helper()
	if startFdsErr != nil {
		t.Fatalf("fds at start: %v", startFdsErr)
	}
	out := map[int]bool{}
	for fd := range startFds {
		out[fd] = true
	}
	return out
}

// startFds, read while the test package is initialised, before any test
// runs, are the fds inheritedFds reports.
var startFds, startFdsErr = func() (map[int]bool, error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			return nil, err
		}
		if fd <= 2 {
			continue
		}
		// The directory fd ReadDir reads through is close-on-exec, as
		// is every fd Go opens.
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			out[fd] = true
		}
	}
	return out, nil
}()
