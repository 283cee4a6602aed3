package spawn

import (
	"errors"
	"io"
	"os"
	"reflect"
	"syscall"
	"testing"
)

func spec(path string, args ...string) *Spec {
	return &Spec{PrejoinPID: -1, RootFd: -1, CwdFd: -1, CgroupFd: -1, GID: -1, UID: -1,
		Stdio: [3]int{-1, -1, -1}, Path: path, Argv: append([]string{path}, args...), Env: os.Environ()}
}

// TestForkHooksPresent is the canary for the runtime hooks fork relies on:
// if they vanish the package fails to link, and if they stop working the
// child cannot run a program and report its status.
func TestForkHooksPresent(t *testing.T) {
	p, err := Start(spec("sh", "-c", "exit 7"))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := p.Wait(false)
	if err != nil || !ws.Exited() || ws.ExitStatus() != 7 {
		t.Fatalf("child: %v, %v; want exit 7", ws, err)
	}
}

func TestChildReportsFailingStage(t *testing.T) {
	s := spec("true")
	s.WdnsPath = "/nonexistent-nsx-dir"
	_, err := Start(s)
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Stage != StageWdns || ce.Errno != syscall.ENOENT {
		t.Fatalf("got %v, want a StageWdns ENOENT failure", err)
	}
	s = spec("/nonexistent-nsx-program")
	_, err = Start(s)
	if !errors.As(err, &ce) || ce.Stage != StageExec || ce.Errno != syscall.ENOENT {
		t.Fatalf("got %v, want a StageExec ENOENT failure", err)
	}
}

func TestCandidatesFollowExecvp(t *testing.T) {
	got := Candidates("ls", []string{"A=1", "PATH=/a::/b"})
	if want := []string{"/a/ls", "ls", "/b/ls"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PATH with an empty entry: %q, want %q", got, want)
	}
	if got := Candidates("ls", nil); !reflect.DeepEqual(got, []string{"/bin/ls", "/usr/bin/ls"}) {
		t.Errorf("no PATH: %q, want glibc's default", got)
	}
	if got := Candidates("./x", []string{"PATH=/a"}); !reflect.DeepEqual(got, []string{"./x"}) {
		t.Errorf("a path with '/': %q", got)
	}
}

// TestRelayingChildMirrorsTheProgram covers the middle process the raw child
// becomes when the program must run one fork further down (a PID namespace
// joined only after a user namespace): it ends as the program ended.
func TestRelayingChildMirrorsTheProgram(t *testing.T) {
	for _, tc := range []struct {
		script string
		exited bool
		code   int
		sig    syscall.Signal
	}{
		{"exit 7", true, 7, 0},
		{"kill -USR1 $$", false, 0, syscall.SIGUSR1},
	} {
		s := spec("sh", "-c", tc.script)
		s.ForkForPID = true
		p, err := Start(s)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := p.Wait(false)
		if err != nil {
			t.Fatal(err)
		}
		if tc.exited && (!ws.Exited() || ws.ExitStatus() != tc.code) || !tc.exited && (!ws.Signaled() || ws.Signal() != tc.sig) {
			t.Errorf("%q: status %v, want exit %d / signal %v", tc.script, ws, tc.code, tc.sig)
		}
	}
}

// TestRelayingChildForwardsSignals sends TERM to the middle process (as a
// user would who sees only nsx's child): it must reach the program, whose
// trap decides the status, instead of killing the relay and orphaning the
// program.
func TestRelayingChildForwardsSignals(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := spec("sh", "-c", `trap 'kill $!; exit 5' TERM; sleep 30 & echo ready; wait`)
	s.ForkForPID = true
	s.ForwardSignals = true
	s.Stdio[1] = int(w.Fd())
	p, err := Start(s)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "ready\n" {
		p.Signal(syscall.SIGKILL)
		t.Fatalf("program did not start: %q, %v", buf, err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws, err := p.Wait(false)
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != 5 {
		t.Fatalf("relay ended with %v; want exit 5 from the program's trap", ws)
	}
}
