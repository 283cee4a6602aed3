package nsenter_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/target"
)

// Run a program in the network and UTS namespaces of a process. Here the
// process is this one, so that the example runs anywhere (as root); a real
// caller pins a container's process, e.g. target.Resolve(ctx, "docker:web1").
func ExampleCommand() {
	t, err := target.PinPID(os.Getpid(), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	opts := nsenter.DefaultOptions()
	opts.Kinds = namespace.SetOf(namespace.Net, namespace.UTS)
	cmd := nsenter.Command(t, opts, "echo", "hello from inside")
	cmd.Stdout = os.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Println(err)
	}
	// Output: hello from inside
}

// Run Go code in a process's network namespace, on a thread that is thrown
// away afterwards so the rest of the program is never affected.
func ExampleDo() {
	t, err := target.PinPID(os.Getpid(), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	var inside string
	err = nsenter.Do(t, namespace.SetOf(namespace.Net), func() error {
		inside, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	})
	own, _ := os.Readlink("/proc/self/ns/net")
	fmt.Println(err, inside == own)
	// Output: <nil> true
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
