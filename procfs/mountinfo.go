package procfs

import (
	"strconv"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo.
type Mount struct {
	ID, ParentID int
	Major, Minor int
	// Root is the mounted path inside its filesystem; for an nsfs bind
	// mount it names the namespace, e.g. "net:[4026532459]".
	Root       string
	MountPoint string
	Options    string
	// Optional holds the optional fields (shared:N, master:N, …).
	Optional     []string
	FSType       string
	Source       string
	SuperOptions string
}

// ParseMountinfo parses the text of /proc/PID/mountinfo. Paths have their
// octal escapes (\040 for a space, …) decoded.
func ParseMountinfo(text string) ([]Mount, error) {
	var out []Mount
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		m, err := parseMountLine(line)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func parseMountLine(line string) (Mount, error) {
	var m Mount
	f := strings.Split(line, " ")
	if len(f) < 10 {
		return m, ErrFormat
	}
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil {
		return m, ErrFormat
	}
	if m.ParentID, err = strconv.Atoi(f[1]); err != nil {
		return m, ErrFormat
	}
	maj, min, ok := strings.Cut(f[2], ":")
	if !ok {
		return m, ErrFormat
	}
	if m.Major, err = strconv.Atoi(maj); err != nil {
		return m, ErrFormat
	}
	if m.Minor, err = strconv.Atoi(min); err != nil {
		return m, ErrFormat
	}
	m.Root = UnescapeOctal(f[3])
	m.MountPoint = UnescapeOctal(f[4])
	m.Options = f[5]
	i := 6
	for ; i < len(f) && f[i] != "-"; i++ {
		m.Optional = append(m.Optional, f[i])
	}
	if i >= len(f) || len(f)-i < 3 {
		return m, ErrFormat
	}
	m.FSType = UnescapeOctal(f[i+1])
	m.Source = UnescapeOctal(f[i+2])
	if i+3 < len(f) {
		m.SuperOptions = f[i+3]
	}
	return m, nil
}

// UnescapeOctal decodes the kernel's \ooo escapes of mountinfo paths.
func UnescapeOctal(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// ReadMountinfo reads and parses /proc/PID/mountinfo; pid 0 means "self".
func ReadMountinfo(pid int) ([]Mount, error) {
	p := "self"
	if pid > 0 {
		p = strconv.Itoa(pid)
	}
	b, err := ReadSmall(Root + "/" + p + "/mountinfo")
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(string(b))
}
