package nsenter_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/target"
)

// startSandbox starts a process in new user, UTS and network namespaces
// whose hostname is "sandbox" and returns it once it has set that name. It
// needs no privileges: the new user namespace maps root inside to the
// caller's own uid and gid, and the caller owns every namespace it creates.
func startSandbox() (*exec.Cmd, error) {
	cmd := exec.Command("sh", "-c", "hostname sandbox && echo ready && exec sleep 600")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		stopSandbox(cmd)
		return nil, fmt.Errorf("sandbox did not start (%q)", line)
	}
	return cmd, nil
}

func stopSandbox(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// pinnedSandbox starts a sandbox and pins it as ExampleCommand does; stop
// closes the pin and ends the sandbox.
func pinnedSandbox() (t *target.Pinned, stop func(), err error) {
	sandbox, err := startSandbox()
	if err != nil {
		return nil, nil, err
	}
	if t, err = target.PinPID(sandbox.Process.Pid, 0); err != nil {
		stopSandbox(sandbox)
		return nil, nil, err
	}
	return t, func() { t.Close(); stopSandbox(sandbox) }, nil
}

// Run a program in the user and UTS namespaces of a process. The process
// here is a sandbox the example starts itself in new namespaces (see
// startSandbox), so that the example runs unprivileged and shows that the
// program really is inside: it prints the sandbox's hostname, not this
// machine's. A real caller pins a container's process instead, e.g.
// target.Resolve(ctx, "docker:web1").
func ExampleCommand() {
	sandbox, err := startSandbox()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stopSandbox(sandbox)

	t, err := target.PinPID(sandbox.Process.Pid, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	opts := nsenter.DefaultOptions()
	opts.Kinds = namespace.SetOf(namespace.User, namespace.UTS)
	// Keep this process's uid and gid: an unprivileged process's user
	// namespace forbids setgroups, which becoming root there would need.
	opts.PreserveCredentials = true
	cmd := nsenter.Command(t, opts, "hostname")
	cmd.Stdout = os.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Println(err)
	}
	// Output: sandbox
}

// Run a program and collect what it prints. The program reads its own UTS
// namespace link; it is the sandbox's, not this process's.
func ExampleCmd_Output() {
	t, stop, err := pinnedSandbox()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	opts := nsenter.DefaultOptions()
	opts.Kinds = namespace.SetOf(namespace.User, namespace.UTS)
	opts.PreserveCredentials = true
	out, err := nsenter.Command(t, opts, "readlink", "/proc/self/ns/uts").Output()
	if err != nil {
		fmt.Println(err) // an *nsenter.ExitError carries the program's stderr
		return
	}
	sandboxUTS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", t.PID()))
	ownUTS, _ := os.Readlink("/proc/self/ns/uts")
	inside := strings.TrimSpace(string(out))
	fmt.Println("the sandbox's UTS namespace:", inside == sandboxUTS)
	fmt.Println("this process's UTS namespace:", inside == ownUTS)
	// Output:
	// the sandbox's UTS namespace: true
	// this process's UTS namespace: false
}

// Stop a program when a context is done: here once the program has
// reported from inside the sandbox. Like exec.CommandContext, the program
// is killed unless Cmd.Cancel says otherwise, and Wait reports how it
// ended.
func ExampleCommandContext() {
	t, stop, err := pinnedSandbox()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	opts := nsenter.DefaultOptions()
	opts.Kinds = namespace.SetOf(namespace.User, namespace.UTS)
	opts.PreserveCredentials = true

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := nsenter.CommandContext(ctx, t, opts, "sh", "-c", "hostname; exec sleep 600")
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	fmt.Print(line)
	cancel()
	fmt.Println(cmd.Wait())
	// Output:
	// sandbox
	// signal: killed
}

// Run Go code in a process's UTS and network namespaces, on a thread that
// is thrown away afterwards so the rest of the program is never affected.
// Joining a namespace from one thread of a Go program (which always has
// several) needs CAP_SYS_ADMIN: the kernel lets only a single-threaded
// process enter a user namespace, which is what gives an unprivileged
// program that capability. So as root fn sees the sandbox's hostname, and
// unprivileged Do refuses with ErrPermission before fn runs: either way fn
// never runs in this process's own namespaces, which is what the example
// checks.
func ExampleDo() {
	t, stop, err := pinnedSandbox()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ran := false
	var u unix.Utsname
	err = nsenter.Do(t, namespace.SetOf(namespace.UTS, namespace.Net), func() error {
		ran = true
		return unix.Uname(&u)
	})
	switch hostname := unix.ByteSliceToString(u.Nodename[:]); {
	case err == nil:
		// As root: fn ran, in the sandbox.
		fmt.Println("fn never ran outside the sandbox:", hostname == "sandbox")
	case errors.Is(err, nsenter.ErrPermission) && !ran:
		// Unprivileged: Do refused before fn could run anywhere.
		fmt.Println("fn never ran outside the sandbox:", true)
	default:
		fmt.Println(err, ran)
	}
	// Output: fn never ran outside the sandbox: true
}

// Debug a container with the host's tools: every namespace of its process
// but the mount namespace, the host's root as /, the container's files
// read-only at /target and a /proc of its PID namespace. It needs root and
// a running container, so it has no checked output.
func ExampleDebug() {
	t, err := target.Resolve(context.Background(), "docker:web1")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	cmd := nsenter.Debug(t, nsenter.DefaultOptions(), nsenter.DebugOptions{}, "ls", "/target/etc")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Println(err)
	}
}
