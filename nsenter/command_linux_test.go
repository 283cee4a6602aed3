package nsenter_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
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

func pin(t *testing.T, pid int) *target.Pinned {
	t.Helper()
	p, err := target.PinPID(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// childNS starts `cat` (blocked on a pipe) in the namespaces opts select and
// reads the child's namespace links from the host, as the kernel reports
// them, before letting it exit.
func childNS(t *testing.T, tg *target.Pinned, opts nsenter.Options) map[namespace.Kind]string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := nsenter.Command(tg, opts, "cat")
	cmd.Stdin = r
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("start: %v", err)
	}
	got := map[namespace.Kind]string{}
	for _, k := range namespace.All {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", cmd.Process.Pid, k.ProcName()))
		if err != nil {
			t.Fatal(err)
		}
		got[k] = link
	}
	w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wait: %v", err)
	}
	return got
}

func TestEnterEachKindSeparately(t *testing.T) {
	fx := testutil.AllKinds(t)
	tg := pin(t, fx.PID)
	for _, k := range namespace.All {
		t.Run(k.String(), func(t *testing.T) {
			got := childNS(t, tg, withKinds(k))
			if want := fx.NS(t, k.ProcName()); got[k] != want {
				t.Errorf("child's %s namespace is %s, target's %s", k, got[k], want)
			}
			// Every other kind stays the caller's, except that entering a
			// user namespace is needed to enter nothing else.
			for _, other := range namespace.All {
				if other == k {
					continue
				}
				own, _ := os.Readlink("/proc/self/ns/" + other.ProcName())
				if got[other] != own {
					t.Errorf("entering %s also changed %s: %s, ours %s", k, other, got[other], own)
				}
			}
		})
	}
}

func withKinds(kinds ...namespace.Kind) nsenter.Options {
	o := nsenter.DefaultOptions()
	o.Kinds = namespace.SetOf(kinds...)
	if len(kinds) == 0 {
		o.All = true
	}
	return o
}

func TestEnterAllEightKinds(t *testing.T) {
	fx := testutil.AllKinds(t)
	tg := pin(t, fx.PID)
	got := childNS(t, tg, withKinds())
	for _, k := range namespace.All {
		if want := fx.NS(t, k.ProcName()); got[k] != want {
			t.Errorf("-a: child's %s is %s, target's %s", k, got[k], want)
		}
	}
}

func TestAllSkipsOwnUserNamespace(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	cmd := nsenter.Command(tg, withKinds(), "true")
	plan, err := cmd.Plan()
	if err != nil {
		t.Fatal(err)
	}
	skipped := false
	for _, s := range plan.Skipped {
		skipped = skipped || s.Kind == namespace.User
	}
	if !skipped || len(plan.Steps) != 7 {
		t.Errorf("plan: %d steps, user skipped %v; want 7 and true", len(plan.Steps), skipped)
	}
	got := childNS(t, tg, withKinds())
	for _, k := range namespace.All {
		if want := fx.NS(t, k.ProcName()); got[k] != want {
			t.Errorf("-a: child's %s is %s, target's %s", k, got[k], want)
		}
	}
}

func TestUserNamespaceMakesRootAndTimeOffsetApplies(t *testing.T) {
	fx := testutil.AllKinds(t)
	tg := pin(t, fx.PID)
	var out bytes.Buffer
	cmd := nsenter.Command(tg, withKinds(), "sh", "-c", "id -u; id -g; cut -d' ' -f1 /proc/uptime; hostname; readlink /proc/self/ns/user")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(out.String())
	if len(f) != 5 || f[0] != "0" || f[1] != "0" || f[3] != "nsx-test" {
		t.Fatalf("got %q, want uid 0, gid 0, uptime, hostname nsx-test, user namespace", out.String())
	}
	// As host root, id -u prints 0 whether or not the user namespace was
	// joined: the inode shows that it was.
	own, _ := os.Readlink("/proc/self/ns/user")
	if want := fx.NS(t, "user"); f[4] != want || want == own {
		t.Errorf("program's user namespace %s, want the target's %s (own %s)", f[4], want, own)
	}
	up, _ := strconv.ParseFloat(f[2], 64)
	if up < 200000 {
		t.Errorf("uptime in the time namespace %v, want >= the 200000 s boottime offset", up)
	}
}

func TestExitStatusAndSignal(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	err := nsenter.Command(tg, withKinds(namespace.PID), "sh", "-c", "exit 42").Run()
	var ee *nsenter.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 42 {
		t.Errorf("exit 42: got %v", err)
	}
	err = nsenter.Command(tg, withKinds(namespace.PID), "sh", "-c", "kill -USR1 $$").Run()
	if !errors.As(err, &ee) || !ee.Signaled() || ee.Signal() != syscall.SIGUSR1 {
		t.Errorf("kill -USR1: got %v", err)
	}
	// In the PID namespace the program is a child of the namespace, not
	// of the host: its PID there is small.
	var out bytes.Buffer
	cmd := nsenter.Command(tg, withKinds(namespace.PID, namespace.Mount), "sh", "-c", "echo $$")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(out.String())); n < 2 || n > 50 {
		t.Errorf("PID inside the target's PID namespace is %q, want a small number", out.String())
	}
}

func TestExecFailures(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	for _, tc := range []struct {
		prog  string
		errno syscall.Errno
		msg   string
	}{
		{"nonexistent_cmd", syscall.ENOENT, "nsenter: failed to execute nonexistent_cmd: no such file or directory"},
		{"/etc/passwd", syscall.EACCES, "nsenter: failed to execute /etc/passwd: permission denied"},
	} {
		err := nsenter.Command(tg, withKinds(namespace.Net), tc.prog).Start()
		var ne *nsenter.Error
		if !errors.As(err, &ne) || !errors.Is(err, nsenter.ErrExec) || !errors.Is(err, tc.errno) || ne.Path != tc.prog || ne.Error() != tc.msg {
			t.Errorf("%s: got %#v, want %q (ErrExec, %v)", tc.prog, err, tc.msg, tc.errno)
		}
	}
	if err := nsenter.Command(tg, withKinds(namespace.Net), "/etc/passwd").Start(); !errors.Is(err, nsenter.ErrPermission) {
		t.Errorf("EACCES is not ErrPermission: %v", err)
	}
}

func TestVanishedTargetLeavesNothing(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	fx.Stop()
	// SIGKILL is delivered at once but the process dies a moment later;
	// wait until the pidfd says it is gone.
	for deadline := time.Now().Add(5 * time.Second); tg.Alive() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the target did not die")
		}
	}
	before := children(t)
	fds := openFds(t)
	cmd := nsenter.Command(tg, withKinds(namespace.Net, namespace.UTS), "true")
	// Streams that are not files make Start create pipes; a failed Start
	// must close both ends.
	cmd.Stdin, cmd.Stdout = strings.NewReader("x"), &bytes.Buffer{}
	err := cmd.Run()
	if err == nil {
		t.Fatal("entering a dead target succeeded")
	}
	if !errors.Is(err, nsenter.ErrTargetGone) || !strings.Contains(err.Error(), "no such process") {
		t.Errorf("error %q does not say the process is gone", err)
	}
	if after := children(t); after != before {
		t.Errorf("children of the test: %q before, %q after", before, after)
	}
	if after := openFds(t); after != fds {
		t.Errorf("open fds: %d before, %d after a failed start", fds, after)
	}
}

func openFds(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// children lists this process's children but the ones in skip.
func children(t *testing.T, skip ...int) string {
	var all []string
	for _, n := range testutil.Children(os.Getpid()) {
		if !slices.Contains(skip, n) {
			all = append(all, strconv.Itoa(n))
		}
	}
	return strings.Join(all, " ")
}

func TestWrongNamespaceFileType(t *testing.T) {
	fx := testutil.SharedUser(t)
	uts, err := os.Open(fmt.Sprintf("/proc/%d/ns/uts", fx.PID))
	if err != nil {
		t.Fatal(err)
	}
	defer uts.Close()
	o := nsenter.DefaultOptions()
	o.Files = map[namespace.Kind]*os.File{namespace.Net: uts}
	err = nsenter.Command(nil, o, "true").Run()
	if err == nil || err.Error() != "nsenter: reassociate to namespace 'ns/net' failed: invalid argument" || !errors.Is(err, nsenter.ErrNotNamespace) {
		t.Errorf("uts file as --net: got %v", err)
	}
}

func TestNoForkRefusesUserAndTime(t *testing.T) {
	fx := testutil.AllKinds(t)
	tg := pin(t, fx.PID)
	for _, k := range []namespace.Kind{namespace.User, namespace.Time} {
		o := withKinds(k)
		o.NoFork = true
		err := nsenter.Command(tg, o, "true").Exec()
		if err == nil || !strings.Contains(err.Error(), "single-threaded") {
			t.Errorf("-F with %s: got %v, want a refusal that says why", k, err)
		}
	}
}

func TestDoRunsInNamespacesAndLeavesCallerAlone(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	ownNet, _ := os.Readlink("/proc/self/ns/net")
	var name string
	var netLink string
	err := nsenter.Do(tg, namespace.SetOf(namespace.UTS, namespace.Net), func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return err
		}
		name = unix.ByteSliceToString(u.Nodename[:])
		var err error
		netLink, err = os.Readlink(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if name != "nsx-test" {
		t.Errorf("hostname inside Do: %q", name)
	}
	if want := fx.NS(t, "net"); netLink != want {
		t.Errorf("net inside Do: %s, want %s", netLink, want)
	}
	// The main thread (what /proc/self/ns shows) must be untouched.
	if after, _ := os.Readlink("/proc/self/ns/net"); after != ownNet {
		t.Errorf("caller's net namespace changed: %s -> %s", ownNet, after)
	}
	if err := nsenter.Do(tg, namespace.SetOf(namespace.User), func() error { return nil }); err == nil {
		t.Error("Do accepted a user namespace")
	}
}

// TestFallsBackToNamespaceFiles stands in for a kernel that has pidfds but
// cannot setns through them (5.3 to 5.7): a "pidfd" that is an ordinary
// file gives setns the same EINVAL, and nsx must then join file by file.
func TestFallsBackToNamespaceFiles(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	defer nsenter.SwapTargetPidfd(int(devnull.Fd()))()
	for _, opts := range []nsenter.Options{withKinds(namespace.Net, namespace.UTS, namespace.PID), withKinds()} {
		got := childNS(t, tg, opts)
		for _, k := range []namespace.Kind{namespace.Net, namespace.UTS, namespace.PID} {
			if want := fx.NS(t, k.ProcName()); got[k] != want {
				t.Errorf("%s: child's is %s, target's %s", k, got[k], want)
			}
		}
	}
}

// TestReadOnlyLeavesTargetWritable checks --read-only on both paths (a
// target sharing our user namespace, and one with its own user and time
// namespaces): the program's writes fail with EROFS on the root and on a
// nested mount, the program is in a copy of the target's mount namespace,
// and the target can still write the same places.
func TestReadOnlyLeavesTargetWritable(t *testing.T) {
	for name, start := range map[string]func(testing.TB) *testutil.Target{
		"shared-user": testutil.SharedUser, "own-user": testutil.AllKinds,
	} {
		t.Run(name, func(t *testing.T) {
			fx := start(t)
			tg := pin(t, fx.PID)
			o := withKinds()
			o.ReadOnly = true
			// The root filesystem and /dev/shm, a tmpfs mounted on top.
			probe, nested := "/tmp/nsx-read-only-probe", "/dev/shm/nsx-read-only-probe"
			// The program also tries to remount /dev/shm writable, which
			// needs the CAP_SYS_ADMIN --read-only withholds.
			script := "mount -o remount,bind,rw /dev/shm 2>/dev/null && echo REMOUNTED; touch " + probe + " " + nested + " 2>&1; echo; readlink /proc/self/ns/mnt"
			var out bytes.Buffer
			cmd := nsenter.Command(tg, o, "sh", "-c", script)
			cmd.Stdout = &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			if strings.Contains(out.String(), "REMOUNTED") {
				t.Errorf("the program remounted /dev/shm writable under --read-only")
			}
			for _, p := range []string{probe, nested} {
				if got := out.String(); !strings.Contains(got, "'"+p+"': Read-only file system") {
					t.Errorf("writing %s under --read-only: %q, want EROFS", p, got)
				}
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if last := lines[len(lines)-1]; last == fx.NS(t, "mnt") || !strings.HasPrefix(last, "mnt:[") {
				t.Errorf("program's mount namespace %q: want a private copy, not the target's %s", last, fx.NS(t, "mnt"))
			}
			// The target's own mounts are unchanged: it can still write.
			var check bytes.Buffer
			wcmd := nsenter.Command(tg, withKinds(), "sh", "-c", "touch "+probe+" "+nested+" && rm "+probe+" "+nested)
			wcmd.Stdout, wcmd.Stderr = &check, &check
			if err := wcmd.Run(); err != nil {
				t.Errorf("the target can no longer write %s and %s: %v\n%s", probe, nested, err, check.String())
			}
		})
	}
	o := withKinds(namespace.Net)
	o.ReadOnly = true
	fx := testutil.SharedUser(t)
	if err := nsenter.Command(pin(t, fx.PID), o, "true").Run(); err == nil || !strings.Contains(err.Error(), "mount namespace") {
		t.Errorf("--read-only without the mount namespace: %v, want a refusal", err)
	}
	// -r's directory is in the target's own, writable, mounts.
	o = withKinds()
	o.ReadOnly, o.Root = true, true
	if err := nsenter.Command(pin(t, fx.PID), o, "true").Run(); err == nil || !strings.Contains(err.Error(), "--root") {
		t.Errorf("--read-only with --root: %v, want a refusal", err)
	}
}

// TestDoSurvivesFnUnlockingItsThread: an fn that pairs a
// runtime.UnlockOSThread with Do's lock must not hand the joined thread
// back to the scheduler. The kernel shows every thread's namespaces: after
// Do, no thread of this process may still be in the target's.
func TestDoSurvivesFnUnlockingItsThread(t *testing.T) {
	fx := testutil.SharedUser(t)
	tg := pin(t, fx.PID)
	targetNet := fx.NS(t, "net")
	if err := nsenter.Do(tg, namespace.SetOf(namespace.Net), func() error {
		runtime.UnlockOSThread()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The locked goroutine's exit ends its thread; give the runtime a
	// moment to do so (a thread returned to the pool would stay).
	deadline := time.Now().Add(5 * time.Second)
	for {
		var in []string
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, task := range tasks {
			if link, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net"); err == nil && link == targetNet {
				in = append(in, task.Name())
			}
		}
		if len(in) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads %v of this process are still in the target's network namespace", in)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestZeroOptionsEnterOnlyTheNamedKinds guards the zero value: a literal
// that sets only Kinds once meant "the net namespace of socket fd 0,
// setuid 0, setgid 0" and failed with SIOCGSKNS on fd 0. It must enter the
// target's net namespace and nothing else, while DefaultOptions still
// lets 0 be a uid.
func TestZeroOptionsEnterOnlyTheNamedKinds(t *testing.T) {
	fx := testutil.AllKinds(t)
	tg := pin(t, fx.PID)
	zero := nsenter.Options{Kinds: namespace.SetOf(namespace.Net)}
	plan, err := nsenter.Command(tg, zero, "true").Plan()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 1 || plan.Steps[0].Kind != namespace.Net || plan.Steps[0].Source != "target" ||
		plan.UID != -1 || plan.GID != -1 || plan.DropGroups {
		t.Errorf("zero-value plan: steps %+v, uid %d, gid %d, drop groups %v; want the target's net only, ids unchanged",
			plan.Steps, plan.UID, plan.GID, plan.DropGroups)
	}
	got := childNS(t, tg, zero)
	for _, k := range namespace.All {
		want, whose := fmt.Sprintf("/proc/self/ns/%s", k.ProcName()), "own"
		if k == namespace.Net {
			want, whose = fmt.Sprintf("/proc/%d/ns/net", fx.PID), "target's"
		}
		if link, _ := os.Readlink(want); got[k] != link {
			t.Errorf("zero value: child's %s is %s, want the %s %s", k, got[k], whose, link)
		}
	}
	if own, _ := os.Readlink("/proc/self/ns/net"); own == fx.NS(t, "net") {
		t.Error("the fixture shares this process's net namespace: the test cannot tell a join")
	}

	root := nsenter.DefaultOptions()
	root.Kinds, root.UID, root.GID = namespace.SetOf(namespace.Net), 0, 0
	if plan, err := nsenter.Command(tg, root, "true").Plan(); err != nil || plan.UID != 0 || plan.GID != 0 {
		t.Errorf("DefaultOptions with uid 0, gid 0: plan %+v, %v; want uid 0 and gid 0 set", plan, err)
	}
}
