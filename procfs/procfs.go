// Package procfs reads the files of /proc that nsx needs, into typed values.
//
// /proc formats have traps (a command name may hold spaces and parentheses,
// cgroup paths may hold colons, files vanish while being read because
// processes exit), and several commands read the same files; this package is
// the one place that knows the formats. Readers take the text or an open
// directory fd so that callers can pin a process and read through the pin.
package procfs

import (
	"errors"
	"iter"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Root is where procfs is mounted.
const Root = "/proc"

// ErrFormat reports a /proc file whose text does not have the expected shape.
var ErrFormat = errors.New("procfs: unexpected format")

// Stat holds the fields of /proc/PID/stat that nsx uses.
type Stat struct {
	PID       int
	Comm      string // without the parentheses
	State     byte   // R, S, D, Z, T, …
	PPID      int
	PGRP      int
	Session   int
	TTY       int
	UTime     uint64 // clock ticks
	STime     uint64 // clock ticks
	Threads   int
	StartTime uint64 // clock ticks after boot; field 22, runc's PID-reuse check
	VSize     uint64 // bytes
	RSS       int64  // pages
}

// ParseStat parses the text of /proc/PID/stat. The command name is found by
// the last ')' because it may itself contain spaces and parentheses.
func ParseStat(text string) (Stat, error) {
	var st Stat
	open := strings.IndexByte(text, '(')
	closing := strings.LastIndexByte(text, ')')
	if open < 0 || closing < open {
		return st, ErrFormat
	}
	pid, err := strconv.Atoi(strings.TrimSpace(text[:open]))
	if err != nil {
		return st, ErrFormat
	}
	st.PID = pid
	st.Comm = text[open+1 : closing]
	// The fields after the command, read in place (no slice of them, no
	// map: this runs on every nsx enter); field n is the (n-2)th here.
	rest := text[closing+1:]
	// Where each number goes, by field number.
	var ints [25]*int
	ints[4], ints[5], ints[6], ints[7], ints[20] = &st.PPID, &st.PGRP, &st.Session, &st.TTY, &st.Threads
	var u64s [25]*uint64
	u64s[14], u64s[15], u64s[22], u64s[23] = &st.UTime, &st.STime, &st.StartTime, &st.VSize
	for n := 3; n <= 24; n++ {
		i := 0
		for i < len(rest) && isSpace(rest[i]) {
			i++
		}
		j := i
		for j < len(rest) && !isSpace(rest[j]) {
			j++
		}
		field := rest[i:j]
		rest = rest[j:]
		var err error
		switch {
		case field == "":
			return st, ErrFormat
		case n == 3:
			if len(field) != 1 {
				return st, ErrFormat
			}
			st.State = field[0]
		case ints[n] != nil:
			*ints[n], err = strconv.Atoi(field)
		case u64s[n] != nil:
			*u64s[n], err = strconv.ParseUint(field, 10, 64)
		case n == 24:
			st.RSS, err = strconv.ParseInt(field, 10, 64)
		}
		if err != nil {
			return st, ErrFormat
		}
	}
	return st, nil
}

// isSpace reports the white space strings.Fields splits /proc/PID/stat at
// (the kernel writes single spaces and a final newline).
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// ReadStat reads and parses /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	b, err := ReadSmall(Root + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(string(b))
}

// ReadSmall reads a small file (of /proc, or /etc/passwd) with plain system
// calls: open, read, close. os.ReadFile would also stat it and register it
// with the network poller, which costs more than the read on nsx's
// start-up path.
func ReadSmall(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	b, err := ReadFd(fd)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return b, nil
}

// ReadFd reads an open /proc file to its end with plain read calls. It does
// not close fd.
func ReadFd(fd int) ([]byte, error) {
	return AppendFd(make([]byte, 0, 1024), fd)
}

// AppendFd reads an open /proc file to its end with plain read calls,
// appending to buf, and returns the extended buffer. A caller that reads
// many files passes the previous result back as buf[:0] to reuse its
// memory. It does not close fd.
func AppendFd(buf []byte, fd int) ([]byte, error) {
	return AppendFdMax(buf, fd, -1)
}

// ErrTooLarge reports a file longer than AppendFdMax's limit.
var ErrTooLarge = errors.New("procfs: file too large")

// AppendFdMax is AppendFd that stops with ErrTooLarge once more than max
// bytes were read (no limit when max < 0): for files a runtime or a user
// writes, which could be anything.
func AppendFdMax(buf []byte, fd int, max int) ([]byte, error) {
	start := len(buf)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		if buf = buf[:len(buf)+n]; max >= 0 && len(buf)-start > max {
			return nil, ErrTooLarge
		}
	}
}

// ListPIDs returns the PIDs under /proc in ascending order.
func ListPIDs() ([]int, error) {
	names, err := ReadDirNames(Root)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if n == "" || n[0] < '0' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// ReadDirNames lists a directory with plain getdents64 calls, for the same
// reason as ReadSmall: an os.File would start the network poller.
func ReadDirNames(dir string) ([]string, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	var names []string
	// Small enough to stay on a small stack: /proc/self/ns, on nsx enter's
	// path, fits many times over, and bigger directories take a few more
	// calls. The 32 KiB buffer this was cost nsx enter eight page faults
	// to zero, and the 8 KiB one after it grew the main goroutine's stack
	// to 16 KiB (a copy and five faults more).
	buf := make([]byte, 2<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getdents64", Path: dir, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// CgroupLine is one line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH". The
// cgroup v2 line has ID 0 and no controllers.
type CgroupLine struct {
	HierarchyID int
	Controllers []string
	Path        string
}

// ParseCgroup parses the text of /proc/PID/cgroup. The path is everything
// after the second colon, since paths may contain colons.
func ParseCgroup(text string) ([]CgroupLine, error) {
	var out []CgroupLine
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, ErrFormat
		}
		ctrls, path, ok := strings.Cut(rest, ":")
		if !ok {
			return nil, ErrFormat
		}
		n, err := strconv.Atoi(id)
		if err != nil {
			return nil, ErrFormat
		}
		cl := CgroupLine{HierarchyID: n, Path: path}
		if ctrls != "" {
			cl.Controllers = strings.Split(ctrls, ",")
		}
		out = append(out, cl)
	}
	return out, nil
}

// CgroupPaths yields the path of every line of /proc/PID/cgroup text in
// place, for checks that need no more (a malformed line has none). Unlike
// ParseCgroup it makes no lines, controller lists or copies.
func CgroupPaths(text string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for text != "" {
			line := text
			if i := strings.IndexByte(text, '\n'); i >= 0 {
				line, text = text[:i], text[i+1:]
			} else {
				text = ""
			}
			_, rest, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			if _, path, ok := strings.Cut(rest, ":"); ok && !yield(path) {
				return
			}
		}
	}
}

// ReadCgroup reads and parses /proc/PID/cgroup.
func ReadCgroup(pid int) ([]CgroupLine, error) {
	text, err := ReadCgroupText(pid)
	if err != nil {
		return nil, err
	}
	return ParseCgroup(text)
}

// ReadCgroupText reads /proc/PID/cgroup unparsed, for CgroupPaths.
func ReadCgroupText(pid int) (string, error) {
	b, err := ReadSmall(Root + "/" + strconv.Itoa(pid) + "/cgroup")
	return string(b), err
}

// UnifiedPath returns the cgroup v2 path ("0::" line) of lines, if any.
func UnifiedPath(lines []CgroupLine) (string, bool) {
	for _, l := range lines {
		if l.HierarchyID == 0 && len(l.Controllers) == 0 {
			return l.Path, true
		}
	}
	return "", false
}
