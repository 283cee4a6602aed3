package e2e

// The audit trail (issue 13) end to end: nsx runs in a private mount
// namespace of the test's in which /etc/nsx/nsx.conf and /dev/log are the
// test's (overlays on /etc and /dev), so the host's /etc and logging are
// never touched; records go to a real rsyslogd the test starts, or to a
// file. Every assertion is about what the daemon received or the file holds.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/internal/testutil"
)

// auditNSX is nsx at a path of this concern's: the shared e2e binary is
// rebuilt by every concurrent test run from whichever tree runs it, and
// these tests must run this tree's nsx.
func auditNSX(t *testing.T) string {
	t.Helper()
	return placedNSX(t, fmt.Sprintf("/tmp/nsx-audit-bin-%d", os.Getuid()))
}

// auditRecord is what the tests read back; it mirrors nsx.conf(5).
type auditRecord struct {
	Time     string `json:"time"`
	Event    string `json:"event"`
	ID       string `json:"id"`
	UID      *int   `json:"uid"`
	LoginUID *int64 `json:"login_uid"`
	SudoUser *struct {
		Name     string `json:"name"`
		Verified bool   `json:"verified"`
	} `json:"sudo_user"`
	Host       string  `json:"host"`
	Target     string  `json:"target"`
	PID        *int    `json:"pid"`
	PidfdInode *uint64 `json:"pidfd_inode"`
	Container  *struct {
		Runtime, Name, ID string
	} `json:"container"`
	Namespaces map[string]uint64 `json:"namespaces"`
	Mode       string            `json:"mode"`
	Created    []string          `json:"created"`
	Argv       []string          `json:"argv"`
	Cwd        string            `json:"cwd"`
	ExitCode   *int              `json:"exit_code"`
	Signal     string            `json:"signal"`
	DurationMS *int64            `json:"duration_ms"`
	Error      string            `json:"error"`
}

// auditDir makes a temporary directory named for this concern, removed at
// the end of the test.
func auditDir(t *testing.T, what string) string {
	t.Helper()
	d, err := os.MkdirTemp("", "nsx-audit-"+what+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// auditHost is a private view of the host for nsx: its own nsx.conf
// (owned by confUID) and, when sock is set, a /dev/log that is that
// socket.
type auditHost struct {
	t       *testing.T
	dir     string
	conf    string
	confUID int
	sock    string
	n       atomic.Int32
}

func newAuditHost(t *testing.T, conf string, sock string) *auditHost {
	t.Helper()
	testutil.RequireRoot(t)
	return &auditHost{t: t, dir: auditDir(t, "host"), conf: conf, sock: sock}
}

// command returns sh running script in a new private mount namespace with
// the overlays in place; $NSX is the nsx binary, $D a scratch directory.
func (h *auditHost) command(script string) *exec.Cmd {
	t := h.t
	t.Helper()
	up := filepath.Join(h.dir, "ovl"+strconv.Itoa(int(h.n.Add(1))))
	for _, d := range []string{"etc/nsx", "etcw", "dev", "devw"} {
		if err := os.MkdirAll(filepath.Join(up, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(up, "etc/nsx/nsx.conf")
	if err := os.WriteFile(conf, []byte(h.conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(conf, h.confUID, h.confUID); err != nil {
		t.Fatal(err)
	}
	setup := `set -e
mount -t overlay -o "lowerdir=/etc,upperdir=$U/etc,workdir=$U/etcw" nsx-audit-etc /etc
mount -t overlay -o "lowerdir=/dev,upperdir=$U/dev,workdir=$U/devw" nsx-audit-dev /dev
rm -f /dev/log
if [ -n "$SOCK" ]; then ln -s "$SOCK" /dev/log; fi
set +e
`
	cmd := exec.Command("sh", "-c", setup+script)
	cmd.Env = append(os.Environ(), "U="+up, "SOCK="+h.sock, "NSX="+auditNSX(t), "D="+h.dir)
	// Go makes / private, recursively, in the new mount namespace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	return cmd
}

type auditResult struct {
	stdout, stderr string
	code           int
}

// run runs script to its end and returns its exit code, stdout and stderr.
func (h *auditHost) run(script string) auditResult {
	h.t.Helper()
	cmd := h.command(script)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(120 * time.Second):
			cmd.Process.Kill()
		}
	}()
	cmd.Wait()
	close(done)
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return auditResult{out.String(), errb.String(), code}
}

// rsyslog is a real rsyslogd receiving on its own socket (not the host's
// /dev/log) and writing authpriv messages, tag and message, to a file.
type rsyslog struct {
	sock, out string
}

func startRsyslog(t *testing.T) *rsyslog {
	t.Helper()
	testutil.RequireRoot(t)
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		bin = "/usr/sbin/rsyslogd"
	}
	_, err = os.Stat(bin)
	testutil.Require(t, err == nil, "rsyslogd (Debian rsyslog, scripts/packages.d/audit.list)")
	d := auditDir(t, "rsyslog")
	r := &rsyslog{sock: filepath.Join(d, "log"), out: filepath.Join(d, "authpriv.log")}
	if err := os.Mkdir(filepath.Join(d, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%q RateLimit.Interval="0" CreatePath="off")
template(name="nsxraw" type="string" string="%%syslogfacility-text%%.%%syslogseverity-text%% %%syslogtag%%%%msg%%\n")
authpriv.* action(type="omfile" file=%q template="nsxraw")
`, filepath.Join(d, "work"), r.sock, r.out)
	if err := os.WriteFile(filepath.Join(d, "rsyslog.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", filepath.Join(d, "rsyslog.conf"), "-i", filepath.Join(d, "rsyslogd.pid"))
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	for i := 0; ; i++ {
		if fi, err := os.Stat(r.sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return r
		}
		if i == 200 {
			t.Fatalf("rsyslogd did not create %s: %s", r.sock, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syslogLine is how the test's rsyslogd writes one of nsx's records.
var syslogLine = regexp.MustCompile(`^authpriv\.notice nsx\[(\d+)\]: ?(\{.*\})$`)

// records waits for n records from rsyslogd (it writes asynchronously) and
// parses them; each line must be a well-formed record.
func (r *rsyslog) records(t *testing.T, n int) []auditRecord {
	t.Helper()
	var lines []string
	for i := 0; i < 400; i++ {
		b, _ := os.ReadFile(r.out)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var recs []auditRecord
	for _, l := range lines {
		m := syslogLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not an nsx record at authpriv.notice: %q", l)
		}
		rec := parseRecord(t, m[2])
		recs = append(recs, rec)
	}
	if len(recs) != n {
		t.Fatalf("rsyslogd got %d records, want %d:\n%s", len(recs), n, strings.Join(lines, "\n"))
	}
	return recs
}

func parseRecord(t *testing.T, line string) auditRecord {
	t.Helper()
	var rec auditRecord
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&rec); err != nil || dec.More() {
		t.Fatalf("not one JSON record (%v): %q", err, line)
	}
	if rec.Time == "" || rec.ID == "" || rec.UID == nil || rec.LoginUID == nil || rec.Host == "" || rec.Namespaces == nil || rec.Mode == "" {
		t.Fatalf("record lacks fields: %q", line)
	}
	if _, err := time.Parse(time.RFC3339Nano, rec.Time); err != nil {
		t.Fatalf("time %q: %v", rec.Time, err)
	}
	if (rec.Event == "end") != (rec.DurationMS != nil) || (rec.Event == "end") != (rec.ExitCode != nil || rec.Signal != "") {
		t.Fatalf("end fields do not match event %q: %q", rec.Event, line)
	}
	return rec
}

func fileRecords(t *testing.T, path string) []auditRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []auditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		recs = append(recs, parseRecord(t, sc.Text()))
	}
	return recs
}

// checkPair checks that recs are the start and end of one run.
func checkPair(t *testing.T, recs []auditRecord) (start, end auditRecord) {
	t.Helper()
	if len(recs) != 2 {
		t.Fatalf("%d records, want a start and an end: %+v", len(recs), recs)
	}
	start, end = recs[0], recs[1]
	if start.Event != "start" || end.Event != "end" || start.ID != end.ID || len(start.ID) != 32 {
		t.Fatalf("not one run's start and end: %+v / %+v", start, end)
	}
	return start, end
}

// TestAuditDocker: both records of an enter into a docker container, to
// syslog and to a file, name the container, its namespaces (the inodes the
// kernel shows for its process), the argv and exit code 7.
func TestAuditDocker(t *testing.T) {
	enginetest.Require(t, "docker")
	name := enginetest.Name("nsx-audit-d")
	id := enginetest.RunDocker(t, name)
	pid := enginetest.InspectPID(t, "docker", name)
	check := func(t *testing.T, recs []auditRecord) {
		start, end := checkPair(t, recs)
		for _, r := range recs {
			if r.Target != "docker:"+name || r.PID == nil || *r.PID != pid || r.Mode != "enter" {
				t.Errorf("%s: target %q pid %v mode %q; want docker:%s, %d, enter", r.Event, r.Target, r.PID, r.Mode, name, pid)
			}
			if r.Container == nil || r.Container.Runtime != "docker" || r.Container.Name != name || r.Container.ID != id {
				t.Errorf("%s: container %+v, want docker %s %s", r.Event, r.Container, name, id)
			}
			if strings.Join(r.Argv, "\x00") != "sh\x00-c\x00exit 7" {
				t.Errorf("%s: argv %q", r.Event, r.Argv)
			}
			for _, k := range []string{"mnt", "uts", "ipc", "net", "pid", "cgroup"} {
				if _, ok := r.Namespaces[k]; !ok {
					t.Errorf("%s: no %s namespace in %v", r.Event, k, r.Namespaces)
				}
			}
			for k, ino := range r.Namespaces {
				if want := enginetest.NSInode(t, pid, k); ino != want {
					t.Errorf("%s: %s:[%d], the container's is %s:[%d]", r.Event, k, ino, k, want)
				}
			}
			if r.SudoUser == nil || r.SudoUser.Name != "alice" || r.SudoUser.Verified {
				t.Errorf("%s: sudo_user %+v, want alice, unverified", r.Event, r.SudoUser)
			}
		}
		if *end.ExitCode != 7 || end.Signal != "" || start.ExitCode != nil {
			t.Errorf("exit code: start %v, end %v %q; want 7 on end", start.ExitCode, *end.ExitCode, end.Signal)
		}
	}
	// Variables a caller might hope turn the trail off or redirect it
	// change nothing; SUDO_USER is recorded, as unverified.
	script := `SUDO_USER=alice NSX_AUDIT=off NSX_CONF=/dev/null "$NSX" enter docker:` + name + ` -- sh -c 'exit 7'`

	t.Run("syslog", func(t *testing.T) {
		rs := startRsyslog(t)
		h := newAuditHost(t, "# the default, said out loud\naudit = syslog\n", rs.sock)
		if r := h.run(script); r.code != 7 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q; want 7 and nothing", r.code, r.stderr)
		}
		check(t, rs.records(t, 2))
	})
	t.Run("syslog-default", func(t *testing.T) {
		// No audit key: syslog, because /dev/log exists.
		rs := startRsyslog(t)
		h := newAuditHost(t, "audit-required = true\n", rs.sock)
		if r := h.run(script); r.code != 7 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q; want 7 and nothing", r.code, r.stderr)
		}
		check(t, rs.records(t, 2))
	})
	t.Run("file", func(t *testing.T) {
		log := filepath.Join(auditDir(t, "log"), "audit.log")
		h := newAuditHost(t, "audit = file:"+log+"\n", "")
		if r := h.run(script); r.code != 7 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q; want 7 and nothing", r.code, r.stderr)
		}
		check(t, fileRecords(t, log))
		if fi, err := os.Stat(log); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("log file mode: %v %v, want 0600", fi.Mode(), err)
		}
	})
}

// TestAuditSignal: a program killed by SIGKILL gets an end record with the
// signal, written before nsx dies of the same signal.
func TestAuditSignal(t *testing.T) {
	log := filepath.Join(auditDir(t, "log"), "audit.log")
	h := newAuditHost(t, "audit = file:"+log+"\naudit-required = true\n", "")
	fx := testutil.Start(t, []string{"--net"}, `echo ready > "$READY"; exec sleep 3600`)
	r := h.run(`"$NSX" enter -t ` + strconv.Itoa(fx.PID) + ` -n -- sh -c 'kill -KILL $$'`)
	if r.code != 128+9 {
		t.Fatalf("exit %d (stderr %q), want 137: nsx dies of the program's signal", r.code, r.stderr)
	}
	start, end := checkPair(t, fileRecords(t, log))
	if end.Signal != "SIGKILL" || end.ExitCode != nil {
		t.Fatalf("end record: signal %q exit %v, want SIGKILL", end.Signal, end.ExitCode)
	}
	if want := enginetest.NSInode(t, fx.PID, "net"); start.Namespaces["net"] != want || len(start.Namespaces) != 1 {
		t.Fatalf("namespaces %v, want net:[%d] only", start.Namespaces, want)
	}
}

// TestAuditConcurrent: 50 runs at once give 100 whole lines, a start and
// an end per id, in a file and through syslog.
func TestAuditConcurrent(t *testing.T) {
	const runs = 50
	script := `i=0
while [ $i -lt ` + strconv.Itoa(runs) + ` ]; do
	"$NSX" enter -t $$ -u -- sh -c "exit $((i % 5))" &
	i=$((i+1))
done
fail=0
for j in $(jobs -p); do wait $j; [ $? -lt 5 ] || fail=1; done
wait
exit $fail`
	check := func(t *testing.T, recs []auditRecord) {
		if len(recs) != 2*runs {
			t.Fatalf("%d records, want %d", len(recs), 2*runs)
		}
		byID := map[string][]string{}
		for _, r := range recs {
			byID[r.ID] = append(byID[r.ID], r.Event)
		}
		if len(byID) != runs {
			t.Fatalf("%d ids, want %d", len(byID), runs)
		}
		for id, ev := range byID {
			if len(ev) != 2 || ev[0] != "start" || ev[1] != "end" {
				t.Errorf("id %s: events %v, want start then end", id, ev)
			}
		}
	}
	t.Run("file", func(t *testing.T) {
		log := filepath.Join(auditDir(t, "log"), "audit.log")
		h := newAuditHost(t, "audit = file:"+log+"\n", "")
		if r := h.run(script); r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		check(t, fileRecords(t, log))
	})
	t.Run("syslog", func(t *testing.T) {
		rs := startRsyslog(t)
		h := newAuditHost(t, "audit = syslog\n", rs.sock)
		if r := h.run(script); r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		check(t, rs.records(t, 2*runs))
	})
}

// TestAuditRefuses: with audit-required, a log that cannot be written
// refuses the run before anything is entered; without it, the run goes on
// with one line on stderr. A config that is not root's is refused.
func TestAuditRefuses(t *testing.T) {
	fx := testutil.Start(t, []string{"--mount"}, `mount -t tmpfs nsx-audit-fx /mnt && echo ready > "$READY"; exec sleep 3600`)
	marker := "/mnt/entered"
	inTarget := fmt.Sprintf("/proc/%d/root%s", fx.PID, marker)
	// The program leaves a mark in the target's own /mnt: proof that it
	// ran there.
	entered := func() bool {
		_, err := os.Stat(inTarget)
		os.Remove(inTarget)
		return err == nil
	}
	enter := `"$NSX" enter -t ` + strconv.Itoa(fx.PID) + ` -m -- sh -c 'touch ` + marker + `'`
	// An unwritable log: a read-only file system.
	ro := `mkdir -p "$D/ro" && mount -t tmpfs -o ro nsx-audit-ro "$D/ro" && `
	for _, tc := range []struct {
		name, conf  string
		uid         int
		code        int
		entered     bool
		stderrMatch string
	}{
		{"required", "audit = file:$D/ro/audit.log\naudit-required = true\n", 0, 1, false,
			`^nsx enter: audit: cannot write the start record to .*/ro/audit.log: open: read-only file system; audit-required is set in /etc/nsx/nsx.conf: refusing to run\n$`},
		{"not-required", "audit = file:$D/ro/audit.log\n", 0, 0, true,
			`^nsx: audit: cannot write the start record to .*/ro/audit.log: open: read-only file system\n$`},
		{"not-root", "audit = off\n", 65534, 1, false,
			`^nsx enter: audit: /etc/nsx/nsx.conf: owned by uid 65534, not root: refusing it\n$`},
		{"unknown-key", "audit = off\n\naudit-optional = true\n", 0, 1, false,
			`^nsx enter: audit: /etc/nsx/nsx.conf:3: unknown key "audit-optional"\n$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newAuditHost(t, "", "")
			h.conf = strings.ReplaceAll(tc.conf, "$D", h.dir)
			h.confUID = tc.uid
			r := h.run(ro + enter)
			if r.code != tc.code || !regexp.MustCompile(tc.stderrMatch).MatchString(r.stderr) {
				t.Errorf("exit %d, stderr %q; want %d, %s", r.code, r.stderr, tc.code, tc.stderrMatch)
			}
			if got := entered(); got != tc.entered {
				t.Errorf("program ran in the target: %v, want %v", got, tc.entered)
			}
		})
	}
	// No process but the target (and the unshare that made it) is left
	// in its mount namespace.
	mnt := enginetest.NSInode(t, fx.PID, "mnt")
	fxParent := -1
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", fx.PID)); err == nil {
		// pid (comm) state ppid ...
		if f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])); len(f) > 1 {
			fxParent, _ = strconv.Atoi(f[1])
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/ns/mnt")
	for _, p := range procs {
		var st syscall.Stat_t
		pid, _ := strconv.Atoi(strings.Split(p, "/")[2])
		if syscall.Stat(p, &st) == nil && st.Ino == mnt && pid != fx.PID && pid != fxParent {
			t.Errorf("%s is in the target's mount namespace", p)
		}
	}
}

// TestAuditHelp: no command's help offers a way to turn auditing off or
// send it elsewhere.
func TestAuditHelp(t *testing.T) {
	nsx := auditNSX(t)
	out, err := exec.Command(nsx, "help").Output()
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	inList := false
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Commands:") {
			inList = true
			continue
		}
		if f := strings.Fields(l); inList && len(f) > 0 && strings.HasPrefix(l, "  ") {
			cmds = append(cmds, f[0])
		} else if inList && l == "" {
			inList = false
		}
	}
	if len(cmds) < 4 {
		t.Fatalf("commands from nsx help: %v", cmds)
	}
	dir := auditDir(t, "help")
	var helps [][]string
	for _, c := range cmds {
		helps = append(helps, []string{nsx, c, "--help"}, []string{nsx, "help", c})
	}
	for _, alias := range []string{"nsenter", "lsns", "unshare"} {
		p := filepath.Join(dir, alias)
		if err := os.Symlink(nsx, p); err != nil {
			t.Fatal(err)
		}
		helps = append(helps, []string{p, "--help"})
	}
	option := regexp.MustCompile(`^\s*-`)
	forbidden := regexp.MustCompile(`(?i)audit|syslog|nsx\.conf|no-log|log-file`)
	for _, argv := range helps {
		out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		text := string(out)
		if !strings.Contains(text, "Usage") && !strings.Contains(text, "usage") {
			// A personality or command that does not exist (yet) has
			// no help to check; the others must have one.
			if filepath.Base(argv[0]) == "unshare" {
				continue
			}
			t.Errorf("%q: no help text: %q", argv, text)
			continue
		}
		for _, l := range strings.Split(text, "\n") {
			if option.MatchString(l) && forbidden.MatchString(l) {
				t.Errorf("%q offers an option about auditing: %q", argv, l)
			}
		}
	}
}

// TestAuditModes: the nsenter personality is audited like nsx enter; the
// mode says --read-only; with -F only the start record can be written,
// and it says so; ls, ps and inspect are not recorded.
func TestAuditModes(t *testing.T) {
	log := filepath.Join(auditDir(t, "log"), "audit.log")
	h := newAuditHost(t, "audit = file:"+log+"\n", "")
	fx := testutil.Start(t, []string{"--mount", "--uts"}, `echo ready > "$READY"; exec sleep 3600`)
	pid := strconv.Itoa(fx.PID)
	bin := filepath.Join(auditDir(t, "bin"), "nsenter")
	if err := os.Symlink(auditNSX(t), bin); err != nil {
		t.Fatal(err)
	}
	r := h.run(`"` + bin + `" -t ` + pid + ` -u -- sh -c 'exit 3'; echo "nsenter $?"
"$NSX" enter --read-only -t ` + pid + ` -m -- true; echo "read-only $?"
"` + bin + `" -F -t ` + pid + ` -u -- true; echo "no-fork $?"
# Read-only commands are not recorded.
"$NSX" ls >/dev/null && "$NSX" ps ` + pid + ` >/dev/null && "$NSX" inspect ` + pid + ` >/dev/null; echo "views $?"
"$NSX" unshare -n -u -- sh -c 'exit 4'; echo "unshare $?"`)
	if r.stdout != "nsenter 3\nread-only 0\nno-fork 0\nviews 0\nunshare 4\n" || r.stderr != "" {
		t.Fatalf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	recs := fileRecords(t, log)
	if len(recs) != 7 {
		t.Fatalf("%d records, want 2 + 2 + 1 + 2 (and none for ls, ps, inspect)", len(recs))
	}
	start, end := checkPair(t, recs[:2])
	if start.Mode != "enter" || *end.ExitCode != 3 || start.Target != pid || start.Namespaces["uts"] != enginetest.NSInode(t, fx.PID, "uts") {
		t.Errorf("nsenter: %+v / %+v", start, end)
	}
	start, end = checkPair(t, recs[2:4])
	if start.Mode != "read-only" || end.Mode != "read-only" || *end.ExitCode != 0 || start.Namespaces["mnt"] != enginetest.NSInode(t, fx.PID, "mnt") {
		t.Errorf("--read-only: %+v / %+v", start, end)
	}
	var raw map[string]any
	b, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err := json.Unmarshal([]byte(lines[4]), &raw); err != nil || raw["event"] != "start" || raw["exec_in_place"] != true {
		t.Errorf("-F: want a start record with exec_in_place: %s", lines[4])
	}
	start, end = checkPair(t, recs[5:7])
	if start.Mode != "unshare" || *end.ExitCode != 4 || strings.Join(start.Created, ",") != "uts,net" && strings.Join(start.Created, ",") != "net,uts" {
		t.Errorf("unshare: %+v / %+v", start, end)
	}
}
