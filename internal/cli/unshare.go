package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/audit"
	"github.com/nsxproject/nsx/internal/errtext"
	"github.com/nsxproject/nsx/internal/getopt"
	"github.com/nsxproject/nsx/internal/spawn"
	"github.com/nsxproject/nsx/namespace"
)

// unshareOracleVersion is what util-linux 2.41.5's unshare prints for -V;
// under that name nsx prints the same line, as scripts parse it.
const unshareOracleVersion = "unshare from util-linux 2.41.5"

func init() {
	register(&Command{
		Name:    "unshare",
		Compat:  "unshare",
		Summary: "run a program in new namespaces",
		Run:     runUnshareCommand,
		Help:    unshareHelp,
	})
}

// unshareOptions is unshare's option table. Long options come in
// util-linux's longopts order (glibc lists ambiguous candidates in it). The
// namespace letters take no argument in util-linux's optstring: only the
// long forms take a file ("--net=FILE"; "-n=FILE" is an invalid option '=').
var unshareOptions = []getopt.Option{
	{Short: 'h', Long: "help"},
	{Short: 'V', Long: "version"},
	{Long: "mount", Arg: getopt.OptionalArg},
	{Long: "uts", Arg: getopt.OptionalArg},
	{Long: "ipc", Arg: getopt.OptionalArg},
	{Long: "net", Arg: getopt.OptionalArg},
	{Long: "pid", Arg: getopt.OptionalArg},
	{Long: "user", Arg: getopt.OptionalArg},
	{Long: "cgroup", Arg: getopt.OptionalArg},
	{Long: "time", Arg: getopt.OptionalArg},
	{Short: 'f', Long: "fork"},
	{Long: "kill-child", Arg: getopt.OptionalArg},
	{Long: "mount-proc", Arg: getopt.OptionalArg},
	{Long: "mount-binfmt", Arg: getopt.OptionalArg},
	{Long: "map-user", Arg: getopt.RequiredArg},
	{Long: "map-users", Arg: getopt.RequiredArg},
	{Long: "map-group", Arg: getopt.RequiredArg},
	{Long: "map-groups", Arg: getopt.RequiredArg},
	{Short: 'r', Long: "map-root-user"},
	{Short: 'c', Long: "map-current-user"},
	{Long: "map-auto"},
	{Long: "map-subids"},
	{Long: "propagation", Arg: getopt.RequiredArg},
	{Long: "setgroups", Arg: getopt.RequiredArg},
	{Long: "keep-caps"},
	{Short: 'S', Long: "setuid", Arg: getopt.RequiredArg},
	{Short: 'G', Long: "setgid", Arg: getopt.RequiredArg},
	{Short: 'R', Long: "root", Arg: getopt.RequiredArg},
	{Short: 'w', Long: "wd", Arg: getopt.RequiredArg},
	{Long: "monotonic", Arg: getopt.RequiredArg},
	{Long: "boottime", Arg: getopt.RequiredArg},
	{Short: 'l', Long: "load-interp", Arg: getopt.RequiredArg},
	{Short: 'm'}, {Short: 'u'}, {Short: 'i'}, {Short: 'n'},
	{Short: 'p'}, {Short: 'U'}, {Short: 'C'}, {Short: 'T'},
}

// idRange is one line of a uid_map or gid_map: count IDs from outer in the
// parent namespace appear from inner in the new one.
type idRange struct {
	inner, outer, count uint32
}

// idMapRequest is what --map-user(s) or --map-group(s) asked for.
type idMapRequest struct {
	single    int64 // --map-user/--map-group, -r, -c; -1 when not given
	ranges    []idRange
	subidFile string
}

// unshareRequest is the parsed command line.
type unshareRequest struct {
	kinds     namespace.Set
	files     map[namespace.Kind]string
	fork      bool
	killSig   syscall.Signal
	mountProc string
	uids      idMapRequest
	gids      idMapRequest
	setgroups string // "allow", "deny" or ""
	mapGroup  bool   // --map-group, -r or -c: implies setgroups deny
	propagate uintptr
	keepCaps  bool
	root, wd  string
	uid, gid  int64
	monotonic *int64
	boottime  *int64
	program   []string
	help      bool
	version   bool
}

func parseUnshare(env *Env, args []string) (*unshareRequest, int) {
	p := &getopt.Parser{Options: unshareOptions}
	results, operands, perr := p.Parse(args)
	r := &unshareRequest{
		files:     map[namespace.Kind]string{},
		propagate: unix.MS_REC | unix.MS_PRIVATE,
		uid:       -1, gid: -1,
		uids: idMapRequest{single: -1, subidFile: "/etc/subuid"},
		gids: idMapRequest{single: -1, subidFile: "/etc/subgid"},
	}
	fail := func(format string, a ...any) (*unshareRequest, int) {
		return nil, env.Errorf(format, a...)
	}
	euid, egid := int64(os.Geteuid()), int64(os.Getegid())
	for _, res := range results {
		o, v := res.Option, res.Value
		if o.Long == "" {
			// -m -u -i -n -p -U -C -T
			r.kinds = r.kinds.Add(kindOfOption(o.Short))
			continue
		}
		name := o.Long
		switch name {
		case "help":
			r.help = true
			return r, 0
		case "version":
			r.version = true
			return r, 0
		case "mount", "uts", "ipc", "net", "pid", "user", "cgroup", "time":
			k := kindOfLong(name)
			r.kinds = r.kinds.Add(k)
			if res.HasValue {
				r.files[k] = v
			}
		case "fork":
			r.fork = true
		case "kill-child":
			r.fork = true
			r.killSig = syscall.SIGKILL
			if res.HasValue {
				sig, ok := signalByName(v)
				if !ok {
					return fail("unknown signal: %s", v)
				}
				r.killSig = sig
			}
		case "mount-proc":
			r.kinds = r.kinds.Add(namespace.Mount)
			r.mountProc = "/proc"
			if res.HasValue {
				r.mountProc = v
			}
		case "mount-binfmt", "load-interp":
			return fail("--%s is not supported by nsx", o.Long)
		case "map-user", "map-group":
			what, m := "uid", &r.uids
			if name == "map-group" {
				what, m = "gid", &r.gids
				r.mapGroup = true
			}
			id, msg := parseMapID(v, what)
			if msg != "" {
				return fail("%s", msg)
			}
			m.single = id
			r.kinds = r.kinds.Add(namespace.User)
		case "map-users", "map-groups":
			m := &r.uids
			if name == "map-groups" {
				m = &r.gids
			}
			if msg := m.add(v, euid); msg != "" {
				return fail("%s", msg)
			}
			r.kinds = r.kinds.Add(namespace.User)
		case "map-root-user", "map-current-user":
			id := [2]int64{0, 0}
			if name == "map-current-user" {
				id = [2]int64{euid, egid}
			}
			r.uids.single, r.gids.single = id[0], id[1]
			r.mapGroup = true
			r.kinds = r.kinds.Add(namespace.User)
		case "map-auto", "map-subids":
			word := "auto"
			if name == "map-subids" {
				word = "subids"
			}
			if msg := r.uids.add(word, euid); msg != "" {
				return fail("%s", msg)
			}
			if msg := r.gids.add(word, euid); msg != "" {
				return fail("%s", msg)
			}
			r.kinds = r.kinds.Add(namespace.User)
		case "propagation":
			prop, ok := map[string]uintptr{
				"slave":     unix.MS_REC | unix.MS_SLAVE,
				"shared":    unix.MS_REC | unix.MS_SHARED,
				"private":   unix.MS_REC | unix.MS_PRIVATE,
				"unchanged": 0,
			}[v]
			if !ok {
				return fail("unsupported propagation mode: %s", v)
			}
			r.propagate = prop
		case "setgroups":
			if v != "allow" && v != "deny" {
				return fail("unsupported --setgroups argument '%s'", v)
			}
			r.setgroups = v
		case "keep-caps":
			r.keepCaps = true
		case "setuid", "setgid":
			what := "uid"
			if name == "setgid" {
				what = "gid"
			}
			n, msg := parseULong(v, what)
			if msg != "" {
				return fail("%s", msg)
			}
			if name == "setuid" {
				r.uid = int64(uint32(n))
			} else {
				r.gid = int64(uint32(n))
			}
		case "root":
			r.root = v
		case "wd":
			r.wd = v
		case "monotonic", "boottime":
			n, msg := parseOffset(v, name)
			if msg != "" {
				return fail("%s", msg)
			}
			if name == "monotonic" {
				r.monotonic = &n
			} else {
				r.boottime = &n
			}
		}
	}
	if perr != nil {
		return nil, env.UsageError(perr)
	}
	if (r.monotonic != nil || r.boottime != nil) && !r.kinds.Has(namespace.Time) {
		return fail("options --monotonic and --boottime require unsharing of a time namespace (-T)")
	}
	// A gid map with ranges is written before setgroups, as util-linux's
	// helper writes it; the single mapping alone needs setgroups denied.
	if r.mapGroup && len(r.gids.ranges) == 0 {
		if r.setgroups == "allow" {
			return fail("options --setgroups=allow and --map-group are mutually exclusive")
		}
		r.setgroups = "deny"
	}
	r.program = operands
	return r, 0
}

func kindOfLong(name string) namespace.Kind {
	for _, k := range namespace.All {
		if k.LongOption() == name {
			return k
		}
	}
	return 0
}

// parseULong parses a number as util-linux's strtoul_or_err: blanks, an
// optional '+', decimal digits; a '-' or a value beyond 64 bits is out of
// range. The caller truncates to 32 bits as the C cast to uid_t does.
func parseULong(v, what string) (uint64, string) {
	neg, n, st := parseCNumber(v)
	switch {
	case st == numBad:
		return 0, fmt.Sprintf("failed to parse %s: '%s'", what, v)
	case st == numRange || neg:
		return 0, fmt.Sprintf("failed to parse %s: '%s': %s", what, v, errtext.Strerror(unix.ERANGE))
	}
	return n, ""
}

// parseMapID parses --map-user/--map-group: a number, or a user or group
// name.
func parseMapID(v, what string) (int64, string) {
	n, msg := parseULong(v, what)
	if msg == "" {
		return int64(uint32(n)), ""
	}
	if strings.Contains(msg, "': ") {
		return 0, msg // out of range: a number, not a name
	}
	var id string
	if what == "uid" {
		if u, err := user.Lookup(v); err == nil {
			id = u.Uid
		}
	} else if g, err := user.LookupGroup(v); err == nil {
		id = g.Gid
	}
	if id == "" {
		return 0, msg
	}
	m, _ := strconv.ParseUint(id, 10, 32)
	return int64(m), ""
}

// parseOffset parses a clock offset as strtoll: blanks, a sign, decimal.
func parseOffset(v, clock string) (int64, string) {
	s := strings.TrimLeft(v, " \t\n\v\f\r")
	n, err := strconv.ParseInt(s, 10, 64)
	digits := strings.TrimLeft(s, "+-")
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("failed to parse %s offset: '%s': %s", clock, v, errtext.Strerror(unix.ERANGE))
	case err != nil || digits == "" || digits[0] < '0' || digits[0] > '9':
		return 0, fmt.Sprintf("failed to parse %s offset: '%s'", clock, v)
	}
	return n, ""
}

// parseRangeField parses one field of a mapping as strtoul does, with the
// wrap of a negative value and the 32-bit truncation of the C code.
func parseRangeField(s string) (uint32, bool) {
	neg, n, st := parseCNumber(s)
	if st != numOK {
		return 0, false
	}
	if neg {
		n = -n
	}
	return uint32(n), true
}

// add parses a --map-users/--map-groups argument: inner:outer:count, the
// deprecated outer,inner,count, or auto, subids or all. Subordinate IDs of
// both kinds belong to the effective user, as newuidmap and newgidmap see
// them.
func (m *idMapRequest) add(v string, euid int64) string {
	switch v {
	case "auto", "subids":
		start, count, msg := subidRange(m.subidFile, euid, userName(euid))
		if msg != "" {
			return msg
		}
		inner := uint32(0)
		if v == "subids" {
			inner = start
		}
		m.ranges = append(m.ranges, idRange{inner, start, count})
		return ""
	case "all":
		// A pass-through for every ID of this namespace.
		file := "/proc/self/uid_map"
		if strings.HasSuffix(m.subidFile, "gid") {
			file = "/proc/self/gid_map"
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Sprintf("cannot open %s: %s", file, errtext.Strerror(unwrap(err)))
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				continue
			}
			first, _ := strconv.ParseUint(f[0], 10, 32)
			count, _ := strconv.ParseUint(f[2], 10, 32)
			m.ranges = append(m.ranges, idRange{uint32(first), uint32(first), uint32(count)})
		}
		return ""
	}
	sep, order := ":", [3]int{0, 1, 2}
	if !strings.Contains(v, ":") && strings.Contains(v, ",") {
		sep, order = ",", [3]int{1, 0, 2}
	}
	fields := strings.Split(v, sep)
	if len(fields) != 3 {
		return fmt.Sprintf("invalid mapping '%s'", v)
	}
	var n [3]uint32
	for i, f := range fields {
		x, ok := parseRangeField(f)
		if !ok {
			return fmt.Sprintf("invalid mapping '%s'", v)
		}
		n[order[i]] = x
	}
	m.ranges = append(m.ranges, idRange{n[0], n[1], n[2]})
	return ""
}

func userName(uid int64) string {
	if u, err := user.LookupId(strconv.FormatInt(uid, 10)); err == nil {
		return u.Username
	}
	return ""
}

// subidRange finds the first block of /etc/subuid (or subgid) for the
// user, by name or by number, as newuidmap reads it.
func subidRange(file string, id int64, name string) (uint32, uint32, string) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, fmt.Sprintf("cannot open %s: %s", file, errtext.Strerror(unwrap(err)))
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(parts) != 3 || (parts[0] != name && parts[0] != strconv.FormatInt(id, 10)) {
			continue
		}
		start, err1 := strconv.ParseUint(parts[1], 10, 32)
		count, err2 := strconv.ParseUint(parts[2], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return uint32(start), uint32(count), ""
	}
	who := name
	if who == "" {
		who = strconv.FormatInt(id, 10)
	}
	return 0, 0, fmt.Sprintf("no line matching user \"%s\" in %s", who, file)
}

// lines is the map to write: the single mapping first, then the ranges
// with a hole punched for it (its inner ID and the outer ID it uses are
// taken out, so the two never overlap; the highest IDs of a range may be
// left unmapped for that).
func (m *idMapRequest) lines(self int64) []idRange {
	var out []idRange
	if m.single >= 0 {
		out = append(out, idRange{uint32(m.single), uint32(self), 1})
	}
	for _, r := range m.ranges {
		if m.single < 0 {
			out = append(out, r)
			continue
		}
		inner := without(r.inner, r.count, uint64(m.single))
		outer := without(r.outer, r.count, uint64(self))
		out = append(out, zipRanges(inner, outer)...)
	}
	return out
}

// span is a run of consecutive IDs [start, start+n).
type span struct{ start, n uint64 }

// without returns [first, first+count) minus id, as at most two runs.
func without(first, count uint32, id uint64) []span {
	lo, hi := uint64(first), uint64(first)+uint64(count)
	if id < lo || id >= hi {
		return []span{{lo, hi - lo}}
	}
	var out []span
	if id > lo {
		out = append(out, span{lo, id - lo})
	}
	if id+1 < hi {
		out = append(out, span{id + 1, hi - id - 1})
	}
	return out
}

// zipRanges pairs the inner and outer IDs in increasing order, as long as
// both last, into map lines.
func zipRanges(inner, outer []span) []idRange {
	var out []idRange
	for len(inner) > 0 && len(outer) > 0 {
		n := min(inner[0].n, outer[0].n)
		if n > 0 {
			out = append(out, idRange{uint32(inner[0].start), uint32(outer[0].start), uint32(n)})
		}
		inner[0].start, inner[0].n = inner[0].start+n, inner[0].n-n
		outer[0].start, outer[0].n = outer[0].start+n, outer[0].n-n
		if inner[0].n == 0 {
			inner = inner[1:]
		}
		if outer[0].n == 0 {
			outer = outer[1:]
		}
	}
	return out
}

func formatMap(lines []idRange) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%d %d %d\n", l.inner, l.outer, l.count)
	}
	return b.String()
}

// signalNames are the names --kill-child accepts, without "SIG".
var signalNames = map[string]syscall.Signal{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7,
	"FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14,
	"TERM": 15, "STKFLT": 16, "CHLD": 17, "CLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20,
	"TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27,
	"WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
}

// signalByName accepts a signal name as util-linux does: any case, with or
// without "SIG", RTMIN+n and RTMAX-n; never a number.
func signalByName(v string) (syscall.Signal, bool) {
	s := strings.TrimPrefix(strings.ToUpper(v), "SIG")
	if sig, ok := signalNames[s]; ok {
		return sig, true
	}
	// glibc's SIGRTMIN is 34 (two real-time signals are its own); SIGRTMAX 64.
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"RTMIN+", 34, 1}, {"RTMAX-", 64, -1}} {
		if rest, ok := strings.CutPrefix(s, rt.prefix); ok {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n > 30 {
				return 0, false
			}
			return syscall.Signal(rt.base + rt.sign*n), true
		}
	}
	return 0, false
}

func runUnshareCommand(env *Env, args []string) int {
	r, code := parseUnshare(env, args)
	if r == nil {
		return code
	}
	if r.help || r.version {
		w := &errWriter{w: env.Stdout}
		switch {
		case r.help:
			unshareHelp(w, env)
		case env.Compat:
			fmt.Fprintln(w, unshareOracleVersion)
		default:
			fmt.Fprintf(w, "nsx %s\n", Version)
		}
		if w.err != nil {
			return env.writeError(w.err)
		}
		return 0
	}
	return runUnshare(env, r)
}

// runUnshare creates the namespaces, runs the program and ends as it ended.
// It is the one place a run starts and ends.
func runUnshare(env *Env, r *unshareRequest) int {
	spec, bound, err := unshareSpec(env, r)
	if err != nil {
		return env.Errorf("%s", err)
	}
	// The start record is out before anything runs; with audit-required a
	// record that cannot be written refuses the run.
	run, err := audit.Begin(audit.Info{Mode: audit.ModeUnshare, Pidfd: -1, Created: audit.KindNames(r.kinds),
		Program: spec.Path, Argv: spec.Argv, Stderr: env.Stderr})
	if err != nil {
		bound.undo()
		return env.Errorf("%s", err)
	}
	// Signals sent to nsx go to its child, which is the program (or, with
	// --fork, the process that waits for it and ignores SIGINT and SIGTERM
	// as util-linux's unshare does), as enter forwards them: the
	// terminal's INT, QUIT and WINCH reach the program directly and are
	// not sent twice.
	signals := catchSignals()
	if r.killSig != 0 {
		// --kill-child: the kernel sends the relaying child its death
		// signal when the thread that forked it ends, not only when nsx
		// does. The goroutine stays locked to that thread until the child
		// is reaped, so that no other goroutine can end the thread under
		// it (one that exits locked ends its thread).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	signals.starting()
	proc, err := spawn.Start(spec)
	if err != nil {
		signals.startFailed()
		bound.undo()
		code := reportUnshareError(env, r, err)
		run.EndError(code, err)
		return code
	}
	signals.forwardTo(proc.Pid, proc.Signal)
	ws, err := proc.Wait(true)
	// No signal may go out once the pidfd is closed: the fallback, kill
	// by PID, could reach a process that took the program's PID.
	signals.stop()
	proc.Release()
	if err != nil {
		run.EndError(1, err)
		return env.Errorf("%s", err)
	}
	run.End(ws)
	if ws.Signaled() {
		signal.Reset()
		spawn.DieOfSignal(ws.Signal())
		return 1
	}
	return ws.ExitStatus()
}

// boundFiles are the namespace files nsx bound (and created), undone when
// the run fails before the program starts.
type boundFiles struct {
	mounted []string
	created []string
}

func (b *boundFiles) undo() {
	for i := len(b.mounted) - 1; i >= 0; i-- {
		unix.Unmount(b.mounted[i], unix.MNT_DETACH)
	}
	for _, f := range b.created {
		os.Remove(f)
	}
	b.mounted, b.created = nil, nil
}

// unshareSpec turns the request into the raw child's spec and the parent's
// configuration steps.
func unshareSpec(env *Env, r *unshareRequest) (*spawn.Spec, *boundFiles, error) {
	program := r.program
	path := ""
	if len(program) == 0 {
		// As util-linux: $SHELL (or /bin/sh) as a login shell, "-sh".
		shell, ok := os.LookupEnv("SHELL")
		if !ok {
			shell = "/bin/sh"
		}
		path = shell
		program = []string{"-" + filepath.Base(shell)}
	} else {
		path = program[0]
	}
	var flags uintptr
	for _, k := range r.kinds.Kinds() {
		flags |= k.CloneFlag()
	}
	u := &spawn.Unshare{Flags: flags, Fork: r.fork, KillSignal: r.killSig, Root: r.root, Dir: r.wd, MountProc: r.mountProc}
	if r.kinds.Has(namespace.Mount) {
		u.Propagation = r.propagate
	}
	if r.root != "" && r.wd == "" {
		u.Dir = "/"
	}
	bound := &boundFiles{}
	if !env.Compat {
		// nsx unshare creates a missing namespace file, as `ip netns add`
		// does; util-linux's wants it to exist.
		for _, k := range namespace.All {
			if f, ok := r.files[k]; ok {
				if fd, err := unix.Open(f, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o444); err == nil {
					unix.Close(fd)
					bound.created = append(bound.created, f)
				}
			}
		}
	}
	euid, egid := int64(os.Geteuid()), int64(os.Getegid())
	bind := func(pid int) error {
		for _, k := range namespace.All {
			f, ok := r.files[k]
			if !ok {
				continue
			}
			name := k.ProcName()
			if k == namespace.PID || k == namespace.Time {
				name += "_for_children"
			}
			src := fmt.Sprintf("/proc/%d/ns/%s", pid, name)
			if err := unix.Mount(src, f, "", unix.MS_BIND, ""); err != nil {
				bound.undo()
				return fmt.Errorf("mount %s on %s failed: %s", src, f, errtext.Strerror(err))
			}
			bound.mounted = append(bound.mounted, f)
		}
		return nil
	}
	u.Configure = func(pid int) error {
		// Maps with ranges first (util-linux has a helper write them, with
		// the single mapping merged in), then setgroups, then a map that is
		// only the single mapping: an unprivileged gid_map needs setgroups
		// denied before it, and setgroups cannot be denied after it.
		withRanges := func(m *idMapRequest) bool { return len(m.ranges) > 0 }
		if withRanges(&r.uids) {
			if err := writeIDMap(pid, "uid_map", "newuidmap", &r.uids, euid); err != nil {
				return err
			}
		}
		if withRanges(&r.gids) {
			if err := writeIDMap(pid, "gid_map", "newgidmap", &r.gids, egid); err != nil {
				return err
			}
		}
		if r.setgroups != "" {
			if err := os.WriteFile(fmt.Sprintf("/proc/%d/setgroups", pid), []byte(r.setgroups), 0); err != nil {
				return fmt.Errorf("write failed /proc/self/setgroups: %s", errtext.Strerror(unwrap(err)))
			}
		}
		if !withRanges(&r.uids) {
			if err := writeIDMap(pid, "uid_map", "newuidmap", &r.uids, euid); err != nil {
				return err
			}
		}
		if !withRanges(&r.gids) {
			if err := writeIDMap(pid, "gid_map", "newgidmap", &r.gids, egid); err != nil {
				return err
			}
		}
		if r.monotonic != nil || r.boottime != nil {
			var mono, boot int64
			if r.monotonic != nil {
				mono = *r.monotonic
			}
			if r.boottime != nil {
				boot = *r.boottime
			}
			data := fmt.Sprintf("monotonic %d 0\nboottime %d 0\n", mono, boot)
			if err := os.WriteFile(fmt.Sprintf("/proc/%d/timens_offsets", pid), []byte(data), 0); err != nil {
				return fmt.Errorf("failed to write to /proc/self/timens_offsets: %s", errtext.Strerror(unwrap(err)))
			}
		}
		if !r.fork {
			return bind(pid)
		}
		return nil
	}
	if r.fork && len(r.files) > 0 {
		// A new PID namespace can only be bound once it has its init.
		u.AfterFork = bind
	}
	spec := &spawn.Spec{
		Unshare:    u,
		PrejoinPID: -1, RootFd: -1, CwdFd: -1, CgroupFd: -1,
		UID: int(r.uid), GID: int(r.gid),
		SetGroups: r.gid >= 0,
		KeepCaps:  r.keepCaps && r.kinds.Has(namespace.User),
		Stdio:     [3]int{-1, -1, -1},
		Path:      path,
		Argv:      program,
		Env:       os.Environ(),
	}
	// The program's stdio are the command's (os.Std* from main; another
	// file when a caller of Main passes one).
	for i, w := range []any{env.Stdin, env.Stdout, env.Stderr} {
		if f, ok := w.(*os.File); ok && f != nil {
			spec.Stdio[i] = int(f.Fd())
		}
	}
	return spec, bound, nil
}

// writeIDMap writes the child's uid_map or gid_map: directly, or, when
// unprivileged and the map has ranges, with newuidmap/newgidmap (Debian's
// uidmap), which check them against /etc/subuid, as util-linux does.
func writeIDMap(pid int, file, helper string, m *idMapRequest, self int64) error {
	lines := m.lines(self)
	if len(lines) == 0 {
		return nil
	}
	if len(m.ranges) > 0 && os.Geteuid() != 0 {
		args := []string{strconv.Itoa(pid)}
		for _, l := range lines {
			args = append(args, strconv.FormatUint(uint64(l.inner), 10), strconv.FormatUint(uint64(l.outer), 10), strconv.FormatUint(uint64(l.count), 10))
		}
		path, err := exec.LookPath(helper)
		if err != nil {
			return &exitError{fmt.Sprintf("failed to execute %s: %s", helper, errtext.Strerror(unix.ENOENT)), 127}
		}
		cmd := exec.Command(path, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			// The helper has said why.
			return &exitError{"", 1}
		}
		return nil
	}
	p := fmt.Sprintf("/proc/%d/%s", pid, file)
	if err := os.WriteFile(p, []byte(formatMap(lines)), 0); err != nil {
		return fmt.Errorf("failed to write %s: %s", p, errtext.Strerror(unwrap(err)))
	}
	return nil
}

// exitError is a failure with its own exit code; an empty msg was printed
// already (by newuidmap, say).
type exitError struct {
	msg  string
	code int
}

func (e *exitError) Error() string { return e.msg }

// reportUnshareError prints a failure of the child before the program ran
// in util-linux's words and returns its exit code.
func reportUnshareError(env *Env, r *unshareRequest, err error) int {
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.msg != "" {
			env.Errorf("%s", xe.msg)
		}
		return xe.code
	}
	var ce *spawn.ChildError
	if !errors.As(err, &ce) {
		return env.Errorf("%s", err)
	}
	e := errtext.Strerror(ce.Errno)
	switch ce.Stage {
	case spawn.StageUnshare:
		return env.Errorf("unshare failed: %s", e)
	case spawn.StagePropagation:
		return env.Errorf("cannot change root filesystem propagation: %s", e)
	case spawn.StageNewRoot:
		return env.Errorf("cannot change root directory to '%s': %s", r.root, e)
	case spawn.StageNewDir:
		dir := r.wd
		if dir == "" {
			dir = "/"
		}
		return env.Errorf("cannot chdir to '%s': %s", dir, e)
	case spawn.StageMountProc:
		return env.Errorf("mount %s failed: %s", r.mountProc, e)
	case spawn.StageFork:
		return env.Errorf("fork failed: %s", e)
	case spawn.StageSetgroups:
		return env.Errorf("setgroups failed: %s", e)
	case spawn.StageSetgid:
		return env.Errorf("setgid() failed: %s", e)
	case spawn.StageSetuid:
		return env.Errorf("setuid() failed: %s", e)
	case spawn.StageCapget, spawn.StageCapset, spawn.StageAmbient:
		return env.Errorf("cannot keep capabilities: %s", e)
	case spawn.StageExec:
		program := "/bin/sh"
		if len(r.program) > 0 {
			program = r.program[0]
		} else if sh, ok := os.LookupEnv("SHELL"); ok {
			program = sh
		}
		env.Errorf("failed to execute %s: %s", program, e)
		if ce.Errno == unix.ENOENT {
			return 127
		}
		return 126
	}
	return env.Errorf("%s", err)
}

func unshareHelp(w io.Writer, env *Env) {
	name := "unshare"
	if !env.Compat {
		name = "nsx unshare"
	}
	fmt.Fprint(w, `
Usage:
 `+name+` [options] [<program> [<argument>...]]

Run a program with some namespaces unshared from the parent.

Options:
 -m, --mount[=<file>]      unshare mounts namespace
 -u, --uts[=<file>]        unshare UTS namespace (hostname etc)
 -i, --ipc[=<file>]        unshare System V IPC namespace
 -n, --net[=<file>]        unshare network namespace
 -p, --pid[=<file>]        unshare pid namespace
 -U, --user[=<file>]       unshare user namespace
 -C, --cgroup[=<file>]     unshare cgroup namespace
 -T, --time[=<file>]       unshare time namespace

 --mount-proc[=<dir>]      mount proc filesystem first (implies --mount)
 --mount-binfmt[=<dir>]    mount binfmt filesystem first (implies --user and --mount)
 -l, --load-interp <file>  load binfmt definition in the namespace (implies --mount-binfmt)
 --propagation slave|shared|private|unchanged
                           modify mount propagation in mount namespace
 -R, --root <dir>          run the command with root directory set to <dir>
 -w, --wd <dir>            change working directory to <dir>

 -S, --setuid <uid>        set uid in entered namespace
 -G, --setgid <gid>        set gid in entered namespace
 --map-user <uid>|<name>   map current user to uid (implies --user)
 --map-group <gid>|<name>  map current group to gid (implies --user)
 -r, --map-root-user       map current user to root (implies --user)
 -c, --map-current-user    map current user to itself (implies --user)
 --map-auto                map users and groups automatically (implies --user)
 --map-users <inneruid>:<outeruid>:<count>
                           map count users from outeruid to inneruid (implies --user)
 --map-groups <innergid>:<outergid>:<count>
                           map count groups from outergid to innergid (implies --user)

 -f, --fork                fork before launching <program>
 --kill-child[=<signame>]  when dying, kill the forked child (implies --fork)
                             defaults to SIGKILL

 --setgroups allow|deny    control the setgroups syscall in user namespaces
 --keep-caps               retain capabilities granted in user namespaces

 --monotonic <offset>      set clock monotonic offset (seconds) in time namespaces
 --boottime <offset>       set clock boottime offset (seconds) in time namespaces

 -h, --help                display this help
 -V, --version             display version

For more details see unshare(1).
`)
	if !env.Compat {
		fmt.Fprint(w, `
nsx unshare creates a missing persistent namespace file (--net=/run/netns/x);
under the name unshare the file must exist, as with util-linux. --mount-binfmt
and --load-interp are not supported. Namespaces kept by a file are found by
'nsx ls' and entered with 'nsx enter /run/netns/x'.
`)
	}
}
