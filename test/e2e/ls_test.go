package e2e

// Differential tests of `nsx ls` against util-linux lsns 2.38.1, and tests of
// `nsx ps` and `nsx inspect` against real namespaces made with unshare(1).
// Run as root. Under CI=true a missing prerequisite fails instead of
// skipping.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func lsPrereq(t *testing.T, tools ...string) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prerequisite missing: %s", why)
		}
		t.Skipf("prerequisite missing: %s", why)
	}
	if os.Geteuid() != 0 {
		missing("root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing(tool)
		}
	}
}

var lsBin struct {
	dir string
	nsx string
	err error
}

// buildLs builds nsx once and links it as lsns in a temporary directory.
func buildLs(t *testing.T) (nsx, lsns string) {
	t.Helper()
	if lsBin.nsx == "" && lsBin.err == nil {
		dir, err := os.MkdirTemp("", "nsx-ls-e2e")
		if err != nil {
			t.Fatal(err)
		}
		lsBin.dir = dir
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "nsx"), "./cmd/nsx")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			lsBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		} else if err := os.Symlink(filepath.Join(dir, "nsx"), filepath.Join(dir, "lsns")); err != nil {
			lsBin.err = err
		} else {
			lsBin.nsx = filepath.Join(dir, "nsx")
		}
	}
	if lsBin.err != nil {
		t.Fatal(lsBin.err)
	}
	return lsBin.nsx, filepath.Join(lsBin.dir, "lsns")
}

// fixture is a process tree started in new namespaces; Close kills it.
type fixture struct {
	cmd *exec.Cmd
	pid int // the process inside (the child of unshare --fork)
}

// startFixture runs "unshare ARGS... --fork sleep 600" in its own process
// group and waits for the forked child.
func startFixture(t *testing.T, args ...string) *fixture {
	t.Helper()
	all := append(append([]string{}, args...), "--fork", "sleep", "600")
	cmd := exec.Command("unshare", all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{cmd: cmd}
	t.Cleanup(f.Close)
	for i := 0; i < 200; i++ {
		if kids := children(cmd.Process.Pid); len(kids) > 0 {
			f.pid = kids[0]
			// Wait for the exec of sleep so the command line is stable.
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", f.pid)); strings.HasPrefix(string(b), "sleep\x00") {
				return f
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("unshare %v: no child", args)
	return nil
}

func (f *fixture) Close() {
	if f.cmd.Process != nil {
		syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		f.cmd.Wait()
	}
}

func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func nsInode(t *testing.T, pid int, kind string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(l[strings.IndexByte(l, '[')+1:], "]")
}

type runResult struct {
	stdout, stderr string
	code           int
}

func run(bin string, args ...string) runResult {
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return runResult{o.String(), e.String(), code}
}

// sameAsLsns runs both with args and retries a few times, since processes
// on the host come and go between the two runs.
func sameAsLsns(t *testing.T, lsns string, args ...string) {
	t.Helper()
	var a, b runResult
	for try := 0; try < 8; try++ {
		a = run(lsns, args...)
		b = run("lsns", args...)
		// Messages carry argv[0]; compare with the oracle's name.
		a.stderr = strings.ReplaceAll(a.stderr, lsns+":", "lsns:")
		if a == b {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("lsns %s differs:\n--- nsx (rc %d)\n%s%s--- util-linux (rc %d)\n%s%s", strings.Join(args, " "),
		a.code, a.stdout, a.stderr, b.code, b.stdout, b.stderr)
}

func TestLsnsDifferential(t *testing.T) {
	lsPrereq(t, "lsns", "unshare")
	_, lsns := buildLs(t)
	a := startFixture(t, "-n", "-u", "-i")
	b := startFixture(t, "-U", "--map-root-user", "-p", "-n", "-m")
	c := startFixture(t, "-m", "-C", "-T")
	pa, pb, pc := strconv.Itoa(a.pid), strconv.Itoa(b.pid), strconv.Itoa(c.pid)
	cases := [][]string{
		{"-p", pa}, {"-p", pb}, {"-p", pc},
		{"-p", pb, "-l"}, {"-p", pb, "-J"}, {"-p", pb, "-J", "-l"}, {"-p", pb, "-r"}, {"-p", pb, "-n"},
		{"-p", pa, "-t", "net"}, {"-p", pa, "-t", "net", "-J"}, {"-p", pb, "-t", "user"}, {"-p", pb, "-t", "pid", "-t", "user"},
		{"-p", pb, "-o", "NS,TYPE,PATH,NPROCS,PID,PPID,UID,USER,PNS,ONS"},
		{"-p", pb, "-o", "+PPID,ons"}, {"-p", pb, "--output-all"}, {"-p", pb, "--output-all", "-J"},
		{"-p", pb, "--output-all", "-r"}, {"-p", pc, "-o", "NS,TYPE,NETNSID,NSFS"},
		{"-p", pb, "-T"}, {"-p", pb, "-T", "-J"}, {"-p", pb, "-Tparent"}, {"-p", pb, "--tree=process"},
		{"-p", pb, "-u", "-W"},
		{nsInode(t, a.pid, "net")}, {nsInode(t, b.pid, "pid"), "-J"}, {nsInode(t, b.pid, "user"), "-l"},
		{nsInode(t, c.pid, "mnt"), "-r"}, {nsInode(t, c.pid, "time"), "-o", "NS,PID,PPID,COMMAND"},
		{"-t", "time"}, {"-t", "cgroup", "-n"}, {"-t", "user", "-T"}, {"-t", "pid", "-Tparent"},
		{"-p", "999999"}, {"-p", "0", "-t", "time"},
		// Errors.
		{"-p", "abc"}, {"-t", "bogus"}, {"-o", "FOO"}, {"-o", "+NS,BAR"}, {"99"}, {"abc"},
		{"-p", "1", "4026531837"}, {"-J", "-r"}, {"--tree=bad"}, {"-x"}, {"--bogus"}, {"-o"},
		{"-h"},
	}
	for _, args := range cases {
		sameAsLsns(t, lsns, args...)
	}
}

// TestLsnsDefaultRows compares the default listing's rows for the fixtures'
// namespaces, with both programs' own rows left out.
func TestLsnsDefaultRows(t *testing.T) {
	lsPrereq(t, "lsns", "unshare")
	_, lsns := buildLs(t)
	a := startFixture(t, "-n", "-u")
	b := startFixture(t, "-U", "--map-root-user", "-p", "-n")
	ids := map[string]bool{}
	for _, f := range []*fixture{a, b} {
		for _, k := range []string{"net", "uts", "user", "pid"} {
			ids[nsInode(t, f.pid, k)] = true
		}
	}
	pick := func(out string) []string {
		var rows []string
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) > 0 && ids[f[0]] {
				rows = append(rows, strings.Join(f, " "))
			}
		}
		return rows
	}
	var x, y []string
	for try := 0; try < 8; try++ {
		x = pick(run(lsns, "-l").stdout)
		y = pick(run("lsns", "-l").stdout)
		if strings.Join(x, "\n") == strings.Join(y, "\n") && len(x) == len(ids) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("rows differ:\nnsx:\n%s\nlsns:\n%s", strings.Join(x, "\n"), strings.Join(y, "\n"))
}

func TestLsNsxColumns(t *testing.T) {
	lsPrereq(t, "unshare")
	nsx, lsns := buildLs(t)
	f := startFixture(t, "-n")
	r := run(nsx, "ls", "-p", strconv.Itoa(f.pid), "-o", "NS,TYPE,CONTAINER", "-J")
	if r.code != 0 {
		t.Fatalf("nsx ls: %d %s", r.code, r.stderr)
	}
	var doc struct {
		Namespaces []map[string]any `json:"namespaces"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Namespaces) != 8 {
		t.Fatalf("want 8 namespaces, got %s", r.stdout)
	}
	if _, ok := doc.Namespaces[0]["container"]; !ok {
		t.Fatalf("no container key: %s", r.stdout)
	}
	// lsns never knows CONTAINER.
	if r := run(lsns, "-o", "CONTAINER"); r.code != 1 || r.stderr != "lsns: unknown column: CONTAINER\n" {
		t.Fatalf("lsns -o CONTAINER: %d %q", r.code, r.stderr)
	}
	// A container filter that matches nothing is an error (issue 9).
	if r := run(nsx, "ls", "--container", "docker:nonexistent-nsx-test"); r.code != 1 || r.stdout != "" {
		t.Fatalf("--container: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// -l with -T is refused (lsns 2.38 silently takes both).
	if r := run(nsx, "ls", "-l", "-T"); r.code != 1 || !strings.Contains(r.stderr, "mutually exclusive") {
		t.Fatalf("-l -T: %d %q", r.code, r.stderr)
	}
}

// TestLsPersistent lists a namespace kept only by a bind mount.
func TestLsPersistent(t *testing.T) {
	lsPrereq(t, "unshare", "umount")
	nsx, _ := buildLs(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "uts")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "--uts="+file, "true").CombinedOutput(); err != nil {
		t.Fatalf("unshare --uts=FILE: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", file).Run() })
	id := nsInode(t, os.Getpid(), "uts") // not it; read the mount instead
	var st syscall.Stat_t
	if err := syscall.Stat(file, &st); err != nil {
		t.Fatal(err)
	}
	if strconv.FormatUint(st.Ino, 10) == id {
		t.Fatal("bind mount did not hold a new namespace")
	}
	r := run(nsx, "ls", "-P", "-t", "uts", "-o", "NS,NPROCS,PID,NSFS", "-r", "-n")
	want := fmt.Sprintf("%d 0  %s\n", st.Ino, strings.ReplaceAll(file, " ", `\x20`))
	if !strings.Contains(r.stdout, want) {
		t.Fatalf("nsx ls -P: want line %q in\n%s%s", want, r.stdout, r.stderr)
	}
}

func TestPsUserNamespace(t *testing.T) {
	lsPrereq(t, "unshare")
	nsx, _ := buildLs(t)
	f := startFixture(t, "-U", "--map-user=1000", "--map-group=1000", "-p", "-n")
	r := run(nsx, "ps", "-J", strconv.Itoa(f.pid))
	if r.code != 0 {
		t.Fatalf("nsx ps: %d %s", r.code, r.stderr)
	}
	var res struct {
		PIDNS     uint64 `json:"pid_ns"`
		Processes []struct {
			PID      int    `json:"pid"`
			NSpid    int    `json:"nspid"`
			UID      int    `json:"uid"`
			InnerUID int    `json:"inner_uid"`
			State    string `json:"state"`
			Command  string `json:"command"`
			RSSKiB   uint64 `json:"rss_kib"`
		} `json:"processes"`
		Cgroup *struct {
			Path        string `json:"path"`
			MemoryBytes int64  `json:"memory_bytes"`
		} `json:"cgroup"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if got, want := strconv.FormatUint(res.PIDNS, 10), nsInode(t, f.pid, "pid"); got != want {
		t.Fatalf("pid_ns %s, want %s", got, want)
	}
	if len(res.Processes) != 1 {
		t.Fatalf("want the one sleep, got %+v", res.Processes)
	}
	p := res.Processes[0]
	// As the kernel reports them: NSpid 1 (the namespace's init), host UID
	// 0 (unshare ran as root), mapped to 1000 inside.
	if p.PID != f.pid || p.NSpid != 1 || p.UID != 0 || p.InnerUID != 1000 || p.Command != "sleep 600" || p.RSSKiB == 0 {
		t.Fatalf("process %+v", p)
	}
	if p.State != "S" {
		t.Fatalf("state %q", p.State)
	}
	if res.Cgroup == nil || res.Cgroup.Path == "" {
		t.Fatalf("no cgroup: %s", r.stdout)
	}
	// The table view.
	r = run(nsx, "ps", strconv.Itoa(f.pid))
	if r.code != 0 || !strings.Contains(r.stdout, "sleep 600") || !strings.Contains(r.stdout, "1000") {
		t.Fatalf("nsx ps table: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Bad input.
	for _, bad := range []string{"999999999", "0", "/nonexistent/ns"} {
		if r := run(nsx, "ps", bad); r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("nsx ps %s: %d %q", bad, r.code, r.stderr)
		}
	}
}

func TestInspectUserNamespace(t *testing.T) {
	lsPrereq(t, "unshare")
	nsx, _ := buildLs(t)
	f := startFixture(t, "-U", "--map-root-user", "-p", "-n", "-u")
	r := run(nsx, "inspect", "-J", strconv.Itoa(f.pid))
	if r.code != 0 {
		t.Fatalf("nsx inspect: %d %s", r.code, r.stderr)
	}
	var res struct {
		PID        int `json:"pid"`
		Namespaces []struct {
			Type     string `json:"type"`
			ID       uint64 `json:"id"`
			Host     bool   `json:"host"`
			Owner    uint64 `json:"owner_userns"`
			OwnerUID int64  `json:"owner_uid"`
			Parent   uint64 `json:"parent"`
		} `json:"namespaces"`
		UIDMap     string `json:"uid_map"`
		GIDMap     string `json:"gid_map"`
		Setgroups  string `json:"setgroups"`
		Hostname   string `json:"hostname"`
		Interfaces []struct {
			Name  string   `json:"name"`
			Addrs []string `json:"addresses"`
		} `json:"interfaces"`
		Root    string `json:"root"`
		Seccomp string `json:"seccomp"`
		Caps    *struct {
			Effective string `json:"effective"`
		} `json:"capabilities"`
		Cgroup *struct {
			Path string `json:"path"`
		} `json:"cgroup"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	userns := nsInode(t, f.pid, "user")
	hostUser := nsInode(t, os.Getpid(), "user")
	seen := map[string]bool{}
	for _, n := range res.Namespaces {
		seen[n.Type] = true
		if got := strconv.FormatUint(n.ID, 10); got != nsInode(t, f.pid, n.Type) {
			t.Errorf("%s: id %s, kernel says %s", n.Type, got, nsInode(t, f.pid, n.Type))
		}
		newNS := n.Type == "user" || n.Type == "pid" || n.Type == "net" || n.Type == "uts"
		if n.Host == newNS {
			t.Errorf("%s: host=%v", n.Type, n.Host)
		}
		switch n.Type {
		case "user":
			if strconv.FormatUint(n.Parent, 10) != hostUser || n.OwnerUID != 0 {
				t.Errorf("user: parent %d owner uid %d", n.Parent, n.OwnerUID)
			}
		case "pid", "net", "uts":
			if strconv.FormatUint(n.Owner, 10) != userns {
				t.Errorf("%s: owner %d, want %s", n.Type, n.Owner, userns)
			}
		}
		if n.Type == "pid" && strconv.FormatUint(n.Parent, 10) != nsInode(t, os.Getpid(), "pid") {
			t.Errorf("pid parent %d", n.Parent)
		}
	}
	if len(seen) < 7 {
		t.Errorf("namespaces: %v", seen)
	}
	readTrim := func(name string) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", f.pid, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if res.UIDMap != readTrim("uid_map") || res.GIDMap != readTrim("gid_map") || res.Setgroups != "deny" {
		t.Errorf("maps %q %q %q", res.UIDMap, res.GIDMap, res.Setgroups)
	}
	hn, _ := os.Hostname()
	if res.Hostname != hn { // a new UTS namespace starts as a copy
		t.Errorf("hostname %q, want %q", res.Hostname, hn)
	}
	if len(res.Interfaces) != 1 || res.Interfaces[0].Name != "lo" {
		t.Errorf("interfaces in a new netns: %+v", res.Interfaces)
	}
	if res.Root != "/" || res.Seccomp != "disabled" || res.Caps == nil || res.Cgroup == nil {
		t.Errorf("root %q seccomp %q caps %v cgroup %v", res.Root, res.Seccomp, res.Caps, res.Cgroup)
	}
	// Human view.
	r = run(nsx, "inspect", strconv.Itoa(f.pid))
	if r.code != 0 || !strings.Contains(r.stdout, "Hostname:") || !strings.Contains(r.stdout, "uid_map:       0 0 1") {
		t.Fatalf("human view: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A namespace file target.
	r = run(nsx, "inspect", "-J", fmt.Sprintf("/proc/%d/ns/net", f.pid))
	if r.code != 0 || !strings.Contains(r.stdout, `"name": "lo"`) {
		t.Fatalf("inspect netns file: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(nsx, "inspect", "999999999"); r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("inspect bad pid: %d %q", r.code, r.stderr)
	}
}
