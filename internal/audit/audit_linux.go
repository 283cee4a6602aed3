// Package audit records who entered which namespaces, when, and what ran.
//
// Entering a container's namespaces as root is a privilege escalation over
// that container; sudo logs the command line, but not the container, the
// namespaces, the mode or the outcome. nsx writes one JSON record before the
// program starts and one when it ends, with the same id, to the sink root
// chose in /etc/nsx/nsx.conf (nsx.conf(5)): syslog (facility authpriv, as
// sudo logs), a file, or nowhere. The configuration path is fixed, and
// nothing the caller passes on the command line or in the environment can
// turn the trail off or redirect it.
//
// This is a record of what nsx was asked to do, not a security boundary: a
// root caller can always call setns(2) itself, with another tool or its own
// code, and leave no record here.
package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/procfs"
)

// Modes of a run, for Info.Mode.
const (
	ModeEnter    = "enter"     // nsx enter, nsenter
	ModeReadOnly = "read-only" // nsx enter --read-only
	ModeDebug    = "debug"     // nsx debug
	ModeDebugRW  = "debug-rw"  // nsx debug --rw
	ModeUnshare  = "unshare"   // nsx unshare, unshare
)

// Info describes a run for its records. Strings are recorded escaped
// (Escape).
type Info struct {
	// Mode is one of the Mode constants.
	Mode string
	// Target is the target as the user typed it ("docker:web1", "4242",
	// "/run/netns/blue"); empty when there is none.
	Target string
	// PID is the target process, 0 when there is none; Pidfd pins it, -1
	// when there is none.
	PID   int
	Pidfd int
	// Container is the container the target was resolved from, or nil.
	Container *Container
	// Namespaces maps each kind joined ("mnt", "net", … as in /proc/PID/ns)
	// to the inode of the namespace joined.
	Namespaces map[string]uint64
	// Created lists the kinds of namespace the run creates (unshare).
	Created []string
	// Program is the file executed and Argv its arguments, Argv[0]
	// included.
	Program string
	Argv    []string
	// ExecInPlace says nsx replaces itself with the program (nsenter -F):
	// nothing is left to write the end record.
	ExecInPlace bool
	// Stderr is where a record that cannot be written is reported; nil is
	// os.Stderr.
	Stderr io.Writer
}

// Container names a container as its runtime knows it.
type Container struct {
	Runtime string `json:"runtime"`
	Name    string `json:"name"`
	ID      string `json:"id"`
}

// SudoUser is who sudo says ran nsx. It comes from the environment
// (SUDO_USER, SUDO_UID), which the caller controls, so it is recorded
// with Verified false: a hint for the reader, not evidence.
type SudoUser struct {
	Name     string `json:"name"`
	UID      string `json:"uid,omitempty"`
	Source   string `json:"source"`
	Verified bool   `json:"verified"`
}

// Record is one line of the audit trail. Field names and order are part of
// nsx.conf(5); a field that does not apply is null (pid, pidfd_inode,
// container, sudo_user) or left out (the end-only fields on start).
type Record struct {
	Time     string    `json:"time"`
	Event    string    `json:"event"` // "start" or "end"
	ID       string    `json:"id"`
	UID      int       `json:"uid"`
	LoginUID int64     `json:"login_uid"` // -1: unset
	SudoUser *SudoUser `json:"sudo_user"`
	Host     string    `json:"host"`
	Target   string    `json:"target"`
	// PID is the target process, PidfdInode the pidfs inode of the pidfd
	// that pinned it, which names that process for as long as the system
	// runs, unlike a PID.
	PID        *int              `json:"pid"`
	PidfdInode *uint64           `json:"pidfd_inode"`
	Container  *Container        `json:"container"`
	Namespaces map[string]uint64 `json:"namespaces"`
	Created    []string          `json:"created,omitempty"`
	Mode       string            `json:"mode"`
	Program    string            `json:"program"`
	Argv       []string          `json:"argv"`
	// Cwd is nsx's working directory when it was started, as sudo's PWD.
	Cwd         string `json:"cwd"`
	NsxPID      int    `json:"nsx_pid"`
	ExecInPlace bool   `json:"exec_in_place,omitempty"`

	ExitCode   *int   `json:"exit_code,omitempty"`
	Signal     string `json:"signal,omitempty"`
	CoreDumped bool   `json:"core_dumped,omitempty"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	// Error says why the program did not run or could not be waited for.
	Error string `json:"error,omitempty"`
	// Truncated says long strings were shortened to fit a syslog message.
	Truncated bool `json:"truncated,omitempty"`
}

// Run is one audited run, between its start and end records.
type Run struct {
	rec    Record
	sink   sink
	start  time.Time
	stderr io.Writer
	once   sync.Once // the report of a failed write
	ended  bool
}

// Begin reads the configuration and writes the start record. Call it when
// everything is ready and nothing has been entered yet; call End on the Run
// once the program has ended.
//
// An error means the program must not run: the configuration is invalid or
// refused, or audit-required is set and the record could not be written.
// Without audit-required a failed write is reported on Info.Stderr and the
// run goes on. With auditing off, Begin returns a Run whose End does
// nothing.
func Begin(info Info) (*Run, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	return cfg.Begin(info)
}

// Begin writes the start record under an already loaded configuration
// (LoadConfig), for callers that skip gathering Info when c.Sink is
// SinkOff. It is otherwise the package's Begin.
func (c *Config) Begin(info Info) (*Run, error) {
	return begin(c, info)
}

func begin(cfg *Config, info Info) (*Run, error) {
	r := &Run{stderr: info.Stderr, start: time.Now()}
	if r.stderr == nil {
		r.stderr = os.Stderr
	}
	switch cfg.Sink {
	case SinkOff:
		return r, nil
	case SinkSyslog:
		r.sink = syslogSink{socket: syslogSocket}
	case SinkFile:
		r.sink = fileSink{path: cfg.Path}
	}
	id, err := newID()
	if err != nil {
		return nil, fmt.Errorf("audit: cannot make a record id: %w", err)
	}
	r.rec = newRecord(info, id)
	rec := r.rec
	rec.Time = stamp(r.start)
	rec.Event = "start"
	if err := r.write(&rec); err != nil {
		if cfg.Required {
			return nil, fmt.Errorf("audit: cannot write the start record to %s: %s; audit-required is set in %s: refusing to run", r.sink, err, ConfigPath)
		}
		r.report("start", err)
	}
	return r, nil
}

// End writes the end record of a program that ended with status ws: its
// exit code, or the signal that killed it, and the run's duration. A record
// that cannot be written is reported, never returned: the program has run,
// and its status is what the caller must pass on.
func (r *Run) End(ws unix.WaitStatus) {
	if r == nil || r.sink == nil || r.ended {
		return
	}
	rec := r.endRecord()
	if ws.Signaled() {
		rec.Signal = unix.SignalName(ws.Signal())
		if rec.Signal == "" {
			rec.Signal = strconv.Itoa(int(ws.Signal()))
		}
		rec.CoreDumped = ws.CoreDump()
	} else {
		code := ws.ExitStatus()
		rec.ExitCode = &code
	}
	r.finish(&rec)
}

// EndError writes the end record of a run whose program did not start or
// could not be waited for: err says why, exitCode is what nsx exits with.
func (r *Run) EndError(exitCode int, err error) {
	if r == nil || r.sink == nil || r.ended {
		return
	}
	rec := r.endRecord()
	rec.ExitCode = &exitCode
	rec.Error = Escape(err.Error())
	r.finish(&rec)
}

func (r *Run) endRecord() Record {
	r.ended = true
	now := time.Now()
	rec := r.rec
	rec.Time = stamp(now)
	rec.Event = "end"
	ms := now.Sub(r.start).Milliseconds()
	rec.DurationMS = &ms
	return rec
}

func (r *Run) finish(rec *Record) {
	if err := r.write(rec); err != nil {
		r.report("end", err)
	}
}

func (r *Run) write(rec *Record) error {
	line, err := r.sink.format(rec)
	if err != nil {
		return err
	}
	return r.sink.write(line)
}

// report says once per run that the trail has a gap.
func (r *Run) report(event string, err error) {
	r.once.Do(func() {
		fmt.Fprintf(r.stderr, "nsx: audit: cannot write the %s record to %s: %s\n", event, r.sink, err)
	})
}

// newRecord fills what the start and end records share.
func newRecord(info Info, id string) Record {
	rec := Record{
		ID:          id,
		UID:         os.Getuid(),
		LoginUID:    loginUID(),
		SudoUser:    sudoUser(),
		Host:        hostname(),
		Target:      Escape(info.Target),
		Namespaces:  info.Namespaces,
		Created:     info.Created,
		Mode:        info.Mode,
		Program:     Escape(info.Program),
		Argv:        escapeAll(info.Argv),
		NsxPID:      os.Getpid(),
		ExecInPlace: info.ExecInPlace,
	}
	if rec.Namespaces == nil {
		rec.Namespaces = map[string]uint64{}
	}
	if info.PID > 0 {
		pid := info.PID
		rec.PID = &pid
	}
	if info.Pidfd >= 0 && info.PID > 0 {
		var st unix.Stat_t
		if unix.Fstat(info.Pidfd, &st) == nil {
			ino := st.Ino
			rec.PidfdInode = &ino
		}
	}
	if c := info.Container; c != nil {
		rec.Container = &Container{Runtime: Escape(c.Runtime), Name: Escape(c.Name), ID: Escape(c.ID)}
	}
	if wd, err := unix.Getwd(); err == nil {
		rec.Cwd = Escape(wd)
	}
	return rec
}

// stamp is RFC 3339 in UTC with milliseconds: sortable as text, and the same
// whatever the time zone of the machine reading it.
func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func newID() (string, error) {
	var b [16]byte
	for n := 0; n < len(b); {
		m, err := unix.Getrandom(b[n:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		n += m
	}
	return hex.EncodeToString(b[:]), nil
}

// loginUID is the audit login uid the kernel keeps across su and sudo, -1
// when unset (4294967295) or when the kernel has no audit support.
func loginUID() int64 {
	b, err := procfs.ReadSmall("/proc/self/loginuid")
	if err != nil {
		return -1
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil || n == 1<<32-1 {
		return -1
	}
	return int64(n)
}

func sudoUser() *SudoUser {
	name, ok := os.LookupEnv("SUDO_USER")
	if !ok {
		return nil
	}
	return &SudoUser{Name: Escape(name), UID: Escape(os.Getenv("SUDO_UID")), Source: "environment"}
}

func hostname() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return Escape(unix.ByteSliceToString(u.Nodename[:]))
}

// marshal encodes a record as one line of JSON, without a newline. HTML
// escaping is off: nothing here reaches a browser unescaped, and `a > b` in
// an argv should read as typed.
func marshal(rec *Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// marshalWithin encodes rec in at most max bytes, shortening its longest
// strings and then dropping trailing arguments as needed, and marking it
// truncated.
func marshalWithin(rec *Record, max int) ([]byte, error) {
	line, err := marshal(rec)
	if err != nil || len(line) <= max {
		return line, err
	}
	r := *rec
	r.Argv = append([]string(nil), rec.Argv...)
	r.Truncated = true
	strs := []*string{&r.Target, &r.Cwd, &r.Program, &r.Host, &r.Error}
	if rec.SudoUser != nil {
		u := *rec.SudoUser
		r.SudoUser = &u
		strs = append(strs, &u.Name, &u.UID)
	}
	if rec.Container != nil {
		c := *rec.Container
		r.Container = &c
		strs = append(strs, &c.Runtime, &c.Name, &c.ID)
	}
	for i := range r.Argv {
		strs = append(strs, &r.Argv[i])
	}
	for len(line) > max {
		longest := strs[0]
		for _, p := range strs {
			if len(*p) > len(*longest) {
				longest = p
			}
		}
		if len(*longest) <= 16 {
			break
		}
		*longest = cut(*longest, len(*longest)/2)
		if line, err = marshal(&r); err != nil {
			return nil, err
		}
	}
	// Thousands of short arguments: keep the first ones and say how many
	// were left out.
	for dropped := 0; len(line) > max; {
		if dropped > 0 {
			r.Argv = r.Argv[:len(r.Argv)-1] // the previous marker
		}
		if len(r.Argv) <= 1 {
			break
		}
		n := (len(r.Argv) + 1) / 2
		dropped += len(r.Argv) - n
		r.Argv = append(r.Argv[:n:n], fmt.Sprintf("...(%d more arguments)", dropped))
		if line, err = marshal(&r); err != nil {
			return nil, err
		}
	}
	return line, nil
}

// cut shortens an escaped string to about n bytes without splitting a
// character or an escape, and says so with "...".
func cut(s string, n int) string {
	for n > 0 && n < len(s) && (s[n]&0xc0 == 0x80 || strings.LastIndexByte(s[max(0, n-3):n], '\\') >= 0) {
		n--
	}
	return s[:n] + "..."
}

// KindNames lists the kinds of s as /proc/PID/ns names, for Info.Created.
func KindNames(s namespace.Set) []string {
	var names []string
	for _, k := range s.Kinds() {
		names = append(names, k.ProcName())
	}
	return names
}
