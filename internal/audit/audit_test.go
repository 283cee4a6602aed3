package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/namespace"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Config
		err  string
	}{
		{text: "", want: Config{Sink: SinkOff}},
		{text: "# comment\n\n  # indented comment\naudit = syslog\n", want: Config{Sink: SinkSyslog}},
		{text: "audit=file:/var/log/nsx.log\naudit-required = true\n", want: Config{Sink: SinkFile, Path: "/var/log/nsx.log", Required: true}},
		{text: "audit = off\naudit-required = false", want: Config{Sink: SinkOff}},
		{text: "audit = syslog\naudti = off\n", err: "nsx.conf:2: unknown key \"audti\""},
		{text: "\n\naudit\n", err: "nsx.conf:3: expected key = value"},
		{text: "audit = file:relative.log\n", err: "nsx.conf:1: audit = file:PATH needs an absolute path"},
		{text: "audit = journald\n", err: "nsx.conf:1: audit must be syslog, file:/PATH or off"},
		{text: "audit-required = yes\n", err: "nsx.conf:1: audit-required must be true or false"},
		{text: "audit = off\naudit = syslog\n", err: "nsx.conf:2: audit already set on line 1"},
	} {
		cfg := Config{Sink: SinkOff}
		err := parseConfig(&cfg, tc.text, "nsx.conf")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil || cfg != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.text, cfg, err, tc.want)
		}
	}
}

// TestLoadConfigTrust checks the ownership and mode rules on real files.
func TestLoadConfigTrust(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nsx.conf")
	if err := os.WriteFile(path, []byte("audit = off\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path)
	if os.Getuid() == 0 {
		if err != nil || cfg.Sink != SinkOff {
			t.Fatalf("root-owned 0644 config: %+v, %v", cfg, err)
		}
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), "owned by uid 65534, not root: refusing it") {
			t.Fatalf("config owned by nobody: %v", err)
		}
		os.Chown(path, 0, 0)
	} else if err == nil || !strings.Contains(err.Error(), "not root") {
		t.Fatalf("config owned by uid %d: %v", os.Getuid(), err)
	}
	os.Chmod(path, 0o664)
	if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), "refusing it") {
		t.Fatalf("group-writable config: %v", err)
	}
	// Unprivileged, the temporary directory is refused for its owner first.
	if _, err := loadConfig(dir); err == nil || os.Getuid() == 0 && !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory as config: %v", err)
	}
	if os.Getuid() == 0 {
		os.Chmod(path, 0o644)
		os.Chmod(dir, 0o777)
		if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), dir+": mode 0777 is group- or world-writable: refusing it") {
			t.Fatalf("world-writable directory: %v", err)
		}
		os.Chmod(dir, 0o755)
	}
	cfg, err = loadConfig(filepath.Join(dir, "missing"))
	if os.Getuid() != 0 {
		// A directory not owned by root could hide or swap the file.
		if err == nil || !strings.Contains(err.Error(), "not root") {
			t.Fatalf("missing config in a directory of uid %d: %v", os.Getuid(), err)
		}
		return
	}
	if err != nil {
		t.Fatalf("missing config: %v", err)
	}
	_, statErr := os.Stat("/dev/log")
	if want := map[bool]string{true: SinkSyslog, false: SinkOff}[statErr == nil]; cfg.Sink != want || cfg.Required {
		t.Fatalf("missing config gives %+v, want sink %s", cfg, want)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"sh -c 'exit 7'":        "sh -c 'exit 7'",
		"a\\b":                  `a\\b`,
		"line\nforged":          `line\x0aforged`,
		"\x1b]0;pwned\x07":      `\x1b]0;pwned\x07`,
		"caf\u00e9":             "caf\u00e9",
		"bad\xffutf8":           `bad\xffutf8`,
		"rtl\u202eoverride":     `rtl\xe2\x80\xaeoverride`,
		"tab\there":             `tab\x09here`,
		"quote\"and<angle>&amp": "quote\"and<angle>&amp",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMarshalWithin(t *testing.T) {
	long := strings.Repeat("x", 20000)
	rec := &Record{ID: "id", Argv: []string{"sh", "-c", long, Escape(strings.Repeat("\\", 3000))}, Target: "docker:web"}
	line, err := marshalWithin(rec, maxSyslogMessage)
	if err != nil {
		t.Fatal(err)
	}
	if len(line) > maxSyslogMessage {
		t.Fatalf("%d bytes, want at most %d", len(line), maxSyslogMessage)
	}
	var back Record
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !back.Truncated || back.Argv[0] != "sh" || back.Target != "docker:web" || !strings.HasSuffix(back.Argv[2], "...") {
		t.Fatalf("truncated record: %+v", back)
	}
	if a := back.Argv[3]; strings.Count(strings.TrimSuffix(a, "..."), `\`)%2 != 0 {
		t.Fatalf("an escape was split: ...%s", a[len(a)-10:])
	}
	if len(rec.Argv[2]) != 20000 {
		t.Fatal("the caller's record was changed")
	}

	huge := strings.Repeat("u", 100000)
	line, err = marshalWithin(&Record{ID: "id", SudoUser: &SudoUser{Name: huge}, Container: &Container{Name: huge}, Argv: []string{huge}}, maxSyslogMessage)
	if err != nil || len(line) > maxSyslogMessage {
		t.Fatalf("huge names: %d bytes, %v", len(line), err)
	}

	many := &Record{ID: "id", Argv: strings.Fields(strings.Repeat("arg ", 5000))}
	line, err = marshalWithin(many, maxSyslogMessage)
	if err != nil || len(line) > maxSyslogMessage {
		t.Fatalf("5000 arguments: %d bytes, %v", len(line), err)
	}
	back = Record{}
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatal(err)
	}
	last := back.Argv[len(back.Argv)-1]
	if want := fmt.Sprintf("...(%d more arguments)", 5000-(len(back.Argv)-1)); last != want || !back.Truncated {
		t.Fatalf("last argument %q, want %q", last, want)
	}
}

// TestFileSink runs begin and end against a file and reads the records
// back.
func TestFileSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	var stderr bytes.Buffer
	cfg := &Config{Sink: SinkFile, Path: path}
	r, err := begin(cfg, Info{Mode: ModeEnter, Target: "42\x1b", PID: os.Getpid(), Pidfd: -1, Argv: []string{"sh", "-c", "exit 7"}, Namespaces: map[string]uint64{"net": 4026531840}, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	r.End(unix.WaitStatus(7 << 8))
	r.End(unix.WaitStatus(9)) // a second End writes nothing
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log created with mode %04o, want 0600", fi.Mode().Perm())
	}
	recs := readRecords(t, path)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	start, end := recs[0], recs[1]
	if start.Event != "start" || end.Event != "end" || start.ID != end.ID || len(start.ID) != 32 {
		t.Fatalf("events/ids: %+v / %+v", start, end)
	}
	if start.Target != `42\x1b` || *start.PID != os.Getpid() || start.Namespaces["net"] != 4026531840 || start.Argv[2] != "exit 7" {
		t.Fatalf("start record: %+v", start)
	}
	if start.ExitCode != nil || start.DurationMS != nil {
		t.Fatalf("start record has end fields: %+v", start)
	}
	if end.ExitCode == nil || *end.ExitCode != 7 || end.Signal != "" || end.DurationMS == nil {
		t.Fatalf("end record: %+v", end)
	}
	if stderr.Len() != 0 {
		t.Fatalf("stderr: %s", stderr.String())
	}
}

func TestWriteFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "audit.log")
	info := Info{Mode: ModeEnter, Pidfd: -1, Argv: []string{"true"}}
	var stderr bytes.Buffer
	info.Stderr = &stderr
	if _, err := begin(&Config{Sink: SinkFile, Path: path, Required: true}, info); err == nil || !strings.Contains(err.Error(), "audit-required is set") {
		t.Fatalf("required: %v", err)
	}
	r, err := begin(&Config{Sink: SinkFile, Path: path}, info)
	if err != nil {
		t.Fatal(err)
	}
	r.End(unix.WaitStatus(unix.SIGKILL))
	if n := strings.Count(stderr.String(), "\n"); n != 1 || !strings.Contains(stderr.String(), "nsx: audit: cannot write the start record to "+path) {
		t.Fatalf("want one line on stderr, got %q", stderr.String())
	}
}

func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestSyslogSink receives the records on a datagram socket as a syslog
// daemon would.
func TestSyslogSink(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := &Run{sink: syslogSink{socket: sock}, stderr: os.Stderr}
	r.rec = newRecord(Info{Mode: ModeReadOnly, Pidfd: -1, Argv: []string{"ls", strings.Repeat("y", 30000)}}, "0123")
	r.EndError(126, errors.New("failed to execute ls"))
	buf := make([]byte, 65536)
	n, err := l.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	head := fmt.Sprintf("<85>%s nsx[%d]: ", time.Now().Format(time.Stamp)[:6], os.Getpid())
	if !strings.HasPrefix(msg, head[:10]) || !strings.Contains(msg, fmt.Sprintf(" nsx[%d]: {", os.Getpid())) {
		t.Fatalf("header: %q", msg[:min(60, len(msg))])
	}
	var rec Record
	if err := json.Unmarshal([]byte(msg[strings.Index(msg, "]: ")+3:]), &rec); err != nil {
		t.Fatalf("%v: %q", err, msg)
	}
	if rec.Event != "end" || rec.Mode != ModeReadOnly || *rec.ExitCode != 126 || rec.Error != "failed to execute ls" || !rec.Truncated {
		t.Fatalf("record: %+v", rec)
	}
}

func TestKindNames(t *testing.T) {
	s := namespace.Set(0).Add(namespace.Net).Add(namespace.Mount).Add(namespace.User)
	got := strings.Join(KindNames(s), " ")
	for _, k := range []string{"net", "mnt", "user"} {
		if !strings.Contains(" "+got+" ", " "+k+" ") {
			t.Errorf("KindNames = %q, missing %s", got, k)
		}
	}
	if len(KindNames(s)) != 3 {
		t.Errorf("KindNames = %q", got)
	}
}
