package procfs

import (
	"os"
	"reflect"
	"testing"
)

func TestParseStatus(t *testing.T) {
	text := "Name:\tmy\\ncmd\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nPid:\t42\nPPid:\t7\n" +
		"Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\nNStgid:\t42\t1\nNSpid:\t42\t1\n" +
		"VmRSS:\t    1756 kB\nThreads:\t3\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\n" +
		"CapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n"
	st, err := ParseStatus(text)
	if err != nil {
		t.Fatal(err)
	}
	want := Status{Name: "my\ncmd", State: 'S', Tgid: 42, PID: 42, PPID: 7,
		UID: [4]uint32{1000, 1000, 1000, 1000}, GID: [4]uint32{100, 100, 100, 100},
		NSpid: []int{42, 1}, NStgid: []int{42, 1}, CapPrm: 0x1fffeffffff, CapEff: 0x1fffeffffff,
		CapBnd: 0x1ffffffffff, NoNewPrivs: 1, Seccomp: 2, VmRSS: 1756, Threads: 3}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("got %+v\nwant %+v", st, want)
	}
	if _, err := ParseStatus("Pid:\tx\n"); err == nil {
		t.Fatal("bad Pid accepted")
	}
}

func TestReadStatusSelf(t *testing.T) {
	st, err := ReadStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || st.PPID != os.Getppid() || len(st.NSpid) == 0 {
		t.Fatalf("status of self: %+v", st)
	}
}

func TestParseMountinfo(t *testing.T) {
	text := "65 64 0:4 net:[4026532459] /run/netns/a\\040b rw shared:2 master:3 - nsfs nsfs rw\n" +
		"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	ms, err := ParseMountinfo(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{ID: 65, ParentID: 64, Major: 0, Minor: 4, Root: "net:[4026532459]", MountPoint: "/run/netns/a b",
			Options: "rw", Optional: []string{"shared:2", "master:3"}, FSType: "nsfs", Source: "nsfs", SuperOptions: "rw"},
		{ID: 22, ParentID: 27, Minor: 21, Root: "/", MountPoint: "/proc", Options: "rw,relatime",
			FSType: "proc", Source: "proc", SuperOptions: "rw"},
	}
	if !reflect.DeepEqual(ms, want) {
		t.Fatalf("got %+v\nwant %+v", ms, want)
	}
	for _, bad := range []string{"1 2 3 / / rw - x y z\n", "1 2 3:4 / / rw x y z\n", "a 2 3:4 / / rw - x y z\n"} {
		if _, err := ParseMountinfo(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ReadMountinfo(0); err != nil {
		t.Fatal(err)
	}
}

func TestParseIDMap(t *testing.T) {
	m, err := ParseIDMap("         0       1000          1\n         1     100000      65536\n")
	if err != nil {
		t.Fatal(err)
	}
	if in, ok := m.ToInside(1000); !ok || in != 0 {
		t.Fatalf("1000 <- %d %v", in, ok)
	}
	if in, ok := m.ToInside(100004); !ok || in != 5 {
		t.Fatalf("100004 <- %d %v", in, ok)
	}
	if _, ok := m.ToInside(70000); ok {
		t.Fatal("70000 mapped")
	}
	for _, bad := range []string{"0 0\n", "0 0 0\n", "a 0 1\n", "4294967295 0 2\n"} {
		if _, err := ParseIDMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
