package target_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/target"
)

// Pin a process by PID. A pin holds a pidfd, so it keeps naming that one
// process: Equal holds for two pins of it and not for a pin of another
// process, and once the process has exited Alive reports ErrGone (even if
// the kernel gave its PID to a new process). The process here is a child
// the example starts, so that it runs unprivileged.
func ExamplePinPID() {
	sleeper := exec.Command("sleep", "600")
	if err := sleeper.Start(); err != nil {
		fmt.Println(err)
		return
	}
	a, err := target.PinPID(sleeper.Process.Pid, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	b, err := target.PinPID(sleeper.Process.Pid, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	self, err := target.PinPID(os.Getpid(), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer self.Close()
	fmt.Println("two pins of the sleeper are equal:", a.Equal(b))
	fmt.Println("the sleeper and this process are equal:", a.Equal(self))
	fmt.Println("alive:", a.Alive() == nil)

	sleeper.Process.Kill()
	sleeper.Wait()
	fmt.Println("gone after it exited:", errors.Is(a.Alive(), target.ErrGone))
	// Output:
	// two pins of the sleeper are equal: true
	// the sleeper and this process are equal: false
	// alive: true
	// gone after it exited: true
}

// Resolve what a user typed: a PID, PID:INODE (the process's pidfs inode,
// which no later process with the same PID has), a namespace file, or a
// container reference such as "docker:web1". Parse and Ref.Pin do the same
// in two steps, so that a reference can be checked before anything is
// opened.
func ExampleResolve() {
	sleeper := exec.Command("sleep", "600")
	if err := sleeper.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer sleeper.Wait()
	defer sleeper.Process.Kill()
	pid := strconv.Itoa(sleeper.Process.Pid)
	ctx := context.Background()

	byPID, err := target.Resolve(ctx, pid)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer byPID.Close()
	var st unix.Stat_t
	if err := unix.Fstat(byPID.Pidfd(), &st); err != nil {
		fmt.Println(err)
		return
	}
	byInode, err := target.Resolve(ctx, pid+":"+strconv.FormatUint(st.Ino, 10))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer byInode.Close()
	_, err = target.Resolve(ctx, pid+":"+strconv.FormatUint(st.Ino+1, 10))
	fmt.Println("PID and PID:INODE pin the same process:", byPID.Equal(byInode))
	fmt.Println("a wrong inode is refused:", err != nil)

	ref, err := target.Parse("/proc/" + pid + "/ns/net")
	if err != nil {
		fmt.Println(err)
		return
	}
	netns, err := ref.Pin(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer netns.Close()
	own, err := target.Resolve(ctx, "/proc/self/ns/net")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer own.Close()
	// The sleeper shares this process's net namespace: the two files
	// name one namespace.
	fmt.Println("the same net namespace:", netns.Equal(own))
	fmt.Println("a namespace file is not a process:", netns.Equal(byPID))
	// Output:
	// PID and PID:INODE pin the same process: true
	// a wrong inode is refused: true
	// the same net namespace: true
	// a namespace file is not a process: false
}
