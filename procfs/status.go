package procfs

import (
	"strconv"
	"strings"
)

// Status holds the fields of /proc/PID/status that nsx uses.
type Status struct {
	Name  string
	State byte // first letter of the State line: R, S, D, Z, T, …
	Tgid  int
	PID   int
	PPID  int
	// UID and GID are real, effective, saved and filesystem IDs, as seen
	// from the reader's user namespace.
	UID [4]uint32
	GID [4]uint32
	// NSpid lists the PID in each PID namespace the process is in, from the
	// reader's namespace (first) to the process's own (last). NStgid is the
	// same for the thread group ID.
	NSpid  []int
	NStgid []int
	// Capability sets as bit masks.
	CapInh, CapPrm, CapEff, CapBnd, CapAmb uint64
	NoNewPrivs                             int
	// Seccomp is 0 (disabled), 1 (strict) or 2 (filter); -1 when the kernel
	// does not report it.
	Seccomp int
	// VmRSS is the resident set size in kB; Threads the number of threads.
	VmRSS   uint64
	Threads int
}

// ParseStatus parses the text of /proc/PID/status. Lines it does not know
// are ignored; a known line with a malformed value is an error.
func ParseStatus(text string) (Status, error) {
	st := Status{Seccomp: -1}
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimLeft(val, " \t")
		var err error
		switch key {
		case "Name":
			st.Name = unescapeName(val)
		case "State":
			if val == "" {
				return st, ErrFormat
			}
			st.State = val[0]
		case "Tgid":
			st.Tgid, err = strconv.Atoi(val)
		case "Pid":
			st.PID, err = strconv.Atoi(val)
		case "PPid":
			st.PPID, err = strconv.Atoi(val)
		case "Uid":
			err = parseIDs(val, &st.UID)
		case "Gid":
			err = parseIDs(val, &st.GID)
		case "NSpid":
			st.NSpid, err = parseInts(val)
		case "NStgid":
			st.NStgid, err = parseInts(val)
		case "CapInh":
			st.CapInh, err = strconv.ParseUint(val, 16, 64)
		case "CapPrm":
			st.CapPrm, err = strconv.ParseUint(val, 16, 64)
		case "CapEff":
			st.CapEff, err = strconv.ParseUint(val, 16, 64)
		case "CapBnd":
			st.CapBnd, err = strconv.ParseUint(val, 16, 64)
		case "CapAmb":
			st.CapAmb, err = strconv.ParseUint(val, 16, 64)
		case "NoNewPrivs":
			st.NoNewPrivs, err = strconv.Atoi(val)
		case "Seccomp":
			st.Seccomp, err = strconv.Atoi(val)
		case "Threads":
			st.Threads, err = strconv.Atoi(val)
		case "VmRSS":
			num, _, _ := strings.Cut(val, " ")
			st.VmRSS, err = strconv.ParseUint(num, 10, 64)
		}
		if err != nil {
			return st, ErrFormat
		}
	}
	return st, nil
}

// unescapeName undoes the kernel's escaping of the Name line: "\n" and "\\".
func unescapeName(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseIDs(val string, out *[4]uint32) error {
	f := strings.Fields(val)
	if len(f) != 4 {
		return ErrFormat
	}
	for i, s := range f {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return err
		}
		out[i] = uint32(n)
	}
	return nil
}

func parseInts(val string) ([]int, error) {
	f := strings.Fields(val)
	out := make([]int, 0, len(f))
	for _, s := range f {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// ReadStatus reads and parses /proc/PID/status.
func ReadStatus(pid int) (Status, error) {
	b, err := ReadSmall(Root + "/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Status{}, err
	}
	return ParseStatus(string(b))
}
