package spawn

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// noClone3Probe, set in the environment, makes TestMain install a seccomp
// filter that answers clone3 with ENOSYS, as a kernel before 5.3 or a
// container runtime's default profile does, and start programs from both
// children (noClone3Main).
const noClone3Probe = "NSX_SPAWN_NO_CLONE3_PROBE"

// noClone3Main is the probe: each start must still run its program, by
// plain clone.
func noClone3Main() {
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: sysClone3},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Println("no_new_privs:", err)
		os.Exit(2)
	}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); e != 0 {
		fmt.Println("seccomp:", e)
		os.Exit(2)
	}
	for _, relay := range []bool{false, true} {
		s := spec("sh", "-c", "exit 7")
		s.ForkForPID = relay
		p, err := Start(s)
		if err != nil {
			fmt.Printf("relay %v: %v\n", relay, err)
			continue
		}
		ws, err := p.Wait(false)
		p.Release()
		fmt.Printf("relay %v: exit %d %v\n", relay, ws.ExitStatus(), err)
	}
	os.Exit(0)
}

// TestStartWithoutClone3: where clone3 answers ENOSYS, the child that
// would share nsx's memory gives way to the copied one, which forks with
// plain clone; the relay's copy too. Nothing fails.
func TestStartWithoutClone3(t *testing.T) {
	out := runProbe(t, noClone3Probe, "")
	want := "relay false: exit 7 <nil>\nrelay true: exit 7 <nil>\n"
	if got := out; got != want {
		t.Errorf("without clone3:\n%s\nwant\n%s", strings.TrimSpace(got), want)
	}
}
