package e2e

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// exitOf is how a command run by a differential test ended: its exit
// status, or -1 and the signal that killed it. Any other error (the
// program could not be started) fails the test.
func exitOf(t *testing.T, err error, bin string, args []string) (int, syscall.Signal) {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, 0
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return -1, ws.Signal()
		}
		return ws.ExitStatus(), 0
	}
	t.Fatalf("%s %q: %v", bin, args, err)
	return 0, 0
}

// nsxBuild is the one build of ./cmd/nsx per test binary; helpers that need
// nsx at a path of their own (a name such as nsenter, a directory nobody can
// read) get a copy of it from buildNSXAt.
var nsxBuild struct {
	once sync.Once
	dir  string
	err  error
}

// buildNSXAt puts a static nsx of this tree at path, building it the first
// time. The build directory is removed by TestMain.
func buildNSXAt(path string) error {
	nsxBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "nsx-e2e-build-")
		if err != nil {
			nsxBuild.err = err
			return
		}
		nsxBuild.dir = dir
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "nsx"), "./cmd/nsx")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			nsxBuild.err = fmt.Errorf("go build ./cmd/nsx: %v\n%s", err, out)
		}
	})
	if nsxBuild.err != nil {
		return nsxBuild.err
	}
	src, err := os.Open(filepath.Join(nsxBuild.dir, "nsx"))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// placedBuilds are placedNSX's builds, one per directory.
var placedBuilds sync.Map // dir → *placedBuild

type placedBuild struct {
	once sync.Once
	path string
	err  error
}

// placedNSX is this tree's nsx at dir/nsx, placed once per test binary: a
// test that shares the path with other processes (run as another user, or
// checked by the runtime) gets a copy that is complete when it appears
// (written beside it, then renamed), and the next run replaces it, so runs
// leave only that one file behind.
func placedNSX(t *testing.T, dir string) string {
	t.Helper()
	v, _ := placedBuilds.LoadOrStore(dir, &placedBuild{})
	b := v.(*placedBuild)
	b.once.Do(func() {
		if b.err = os.MkdirAll(dir, 0o755); b.err != nil {
			return
		}
		os.Chmod(dir, 0o755)
		tmp := filepath.Join(dir, "nsx."+strconv.Itoa(os.Getpid()))
		if b.err = buildNSXAt(tmp); b.err != nil {
			os.Remove(tmp)
			return
		}
		b.path = filepath.Join(dir, "nsx")
		b.err = os.Rename(tmp, b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
