package listing

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/nsxproject/nsx/namespace"
)

func TestTableWidthsAndTree(t *testing.T) {
	tab := &Table{Name: "namespaces", TreeColumn: 2, Columns: []Column{
		{Name: "NS", Right: true, Number: true, Hint: 10},
		{Name: "PID", Right: true, Number: true, Hint: 5},
		{Name: "COMMAND", Trunc: true},
	}}
	child := &Row{Cells: []string{"4026531860", "25", "kdevtmpfs"}}
	tab.Rows = []*Row{{Cells: []string{"4026531832", "2", "kthreadd"}, Children: []*Row{child}}}
	var b bytes.Buffer
	tab.Write(&b, Format{})
	want := "        NS PID COMMAND\n4026531832   2 kthreadd\n4026531860  25 └─kdevtmpfs\n"
	if b.String() != want {
		t.Fatalf("table:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	tab.Write(&b, Format{Raw: true, NoHeadings: true})
	if want := "4026531832 2 kthreadd\n4026531860 25 \\xe2\\x94\\x94\\xe2\\x94\\x80kdevtmpfs\n"; b.String() != want {
		t.Fatalf("raw: %q", b.String())
	}
	b.Reset()
	tab.Write(&b, Format{JSON: true})
	want = `{
   "namespaces": [
      {
         "ns": 4026531832,
         "pid": 2,
         "command": "kthreadd",
         "children": [
            {
               "ns": 4026531860,
               "pid": 25,
               "command": "kdevtmpfs"
            }
         ]
      }
   ]
}
`
	if b.String() != want {
		t.Fatalf("json:\n%s", b.String())
	}
	// A terminal 20 columns wide truncates COMMAND (but never below its
	// header) and 4-digit PIDs widen PID to its hint of 5.
	child.Cells[1] = "2500"
	b.Reset()
	tab.Write(&b, Format{TermWidth: 20})
	want = "        NS   PID COMMAND\n4026531832     2 kthread\n4026531860  2500 └─kdevt\n"
	if b.String() != want {
		t.Fatalf("tty:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	tab.Write(&b, Format{TermWidth: 26})
	want = "        NS   PID COMMAND\n4026531832     2 kthreadd\n4026531860  2500 └─kdevtmp\n"
	if b.String() != want {
		t.Fatalf("tty 26:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestParseNSLink(t *testing.T) {
	k, id, ok := ParseNSLink("net:[4026531833]")
	if !ok || k != namespace.Net || id != 4026531833 {
		t.Fatal(k, id, ok)
	}
	for _, bad := range []string{"net:4026531833", "bogus:[1]", "net:[]", "net:[12"} {
		if _, _, ok := ParseNSLink(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestScanSelf(t *testing.T) {
	s, err := Scan(ScanOptions{Kinds: namespace.AllKinds})
	if err != nil {
		t.Fatal(err)
	}
	p := s.Proc(os.Getpid())
	if p == nil {
		t.Fatal("own process not scanned")
	}
	id, err := namespace.StatPath("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	ns := s.Lookup(namespace.Net, uint64(id))
	if ns == nil || ns.NProcs < 1 || ns.PID > os.Getpid() {
		t.Fatalf("own net namespace: %+v", ns)
	}
}

// TestScanCountsProcesses checks NPROCS and PID exactly, in a namespace
// whose processes the test knows: a shell and its two sleeps in new user
// and net namespaces (no privileges needed). The host's namespaces have
// processes coming and going, where only bounds can be checked.
func TestScanCountsProcesses(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 600 & sleep 600 & echo ready; wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Setpgid:     true,
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("fixture: %q", line)
	}
	id, err := namespace.StatPath(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Scan(ScanOptions{Kinds: namespace.AllKinds})
	if err != nil {
		t.Fatal(err)
	}
	ns := s.Lookup(namespace.Net, uint64(id))
	if ns == nil || ns.NProcs != 3 || ns.PID != cmd.Process.Pid {
		t.Fatalf("fixture's net namespace: %+v, want NProcs 3 and PID %d", ns, cmd.Process.Pid)
	}
}
