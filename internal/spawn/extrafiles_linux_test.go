package spawn

import (
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestExtraFilesBecomeThreeAndUp runs a shell with two extra files from the
// child sharing nsx's memory and from the copied one (below its relay): the
// first must be its fd 3 (it reads a
// line from it), the second its fd 4 (it writes to it), and no other fd may
// be open in it (ls lists the shell's fds from outside).
func TestExtraFilesBecomeThreeAndUp(t *testing.T) {
	for _, raw := range []bool{false, true} {
		name := "shared"
		if raw {
			name = "copy"
		}
		t.Run(name, func(t *testing.T) {
			inR, inW := pipe(t)
			outR, outW := pipe(t)
			stdoutR, stdoutW := pipe(t)
			// ls first: dash's redirections save fds of their own.
			s := spec("sh", "-c", `ls /proc/$$/fd; read line <&3; echo "got $line" >&4`)
			// The write end is listed first, so the two are swapped on
			// their way to 3 and 4 whatever numbers they had here.
			s.ExtraFiles = []int{int(inR.Fd()), int(outW.Fd())}
			s.Stdio[1] = int(stdoutW.Fd())
			s.ForkForPID = raw // only a copy becomes a relay
			if sharesMemory(s) == raw {
				t.Fatalf("the spec would not take the %s path", name)
			}
			p, err := Start(s)
			inR.Close()
			outW.Close()
			stdoutW.Close()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Release()
			io.WriteString(inW, "hello\n")
			inW.Close()
			got, _ := io.ReadAll(outR)
			fds, _ := io.ReadAll(stdoutR)
			ws, err := p.Wait(false)
			if err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
				t.Fatalf("program: %v, %v", ws, err)
			}
			if string(got) != "got hello\n" {
				t.Errorf("fd 4 carried %q, want %q", got, "got hello\n")
			}
			want := map[string]bool{"0": true, "1": true, "2": true, "3": true, "4": true}
			for _, fd := range inheritable(t) {
				want[fd] = true // given to the test without close-on-exec
			}
			for _, fd := range strings.Fields(string(fds)) {
				if !want[fd] {
					t.Errorf("program has fd %s open; want only 0-4 and the test's inheritable fds", fd)
				}
				delete(want, fd)
			}
			for _, fd := range []string{"3", "4"} {
				if want[fd] {
					t.Errorf("program lacks fd %s", fd)
				}
			}
		})
	}
}

// TestExtraFilesRefusedInPlace: --no-fork cannot place them without
// replacing fds of the running process.
func TestExtraFilesRefusedInPlace(t *testing.T) {
	s := spec("true")
	s.ExtraFiles = []int{0}
	if err := ExecInPlace(s); err == nil || !strings.Contains(err.Error(), "extra files") {
		t.Fatalf("ExecInPlace with extra files: %v", err)
	}
}

// TestBadExtraFileReported: a closed fd fails the raw child at StageStdio,
// naming the program's fd it was meant to become.
func TestBadExtraFileReported(t *testing.T) {
	_, w := pipe(t)
	bad := 4000 // closed: far above what the test opens
	if _, err := unix.FcntlInt(uintptr(bad), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("fd %d is open", bad)
	}
	s := spec("true")
	s.UID = os.Getuid()
	s.ExtraFiles = []int{int(w.Fd()), bad}
	_, err := Start(s)
	ce, ok := err.(*ChildError)
	if !ok || ce.Stage != StageStdio || ce.Index != 4 {
		t.Fatalf("got %v, want a StageStdio failure for fd 4", err)
	}
}

// inheritable lists this process's fds that are not close-on-exec.
func inheritable(t *testing.T) []string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && fl&unix.FD_CLOEXEC == 0 {
			out = append(out, e.Name())
		}
	}
	return out
}

func pipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}
