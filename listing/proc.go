package listing

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ProcInfo is what rows show of a process. Fields are filled on demand.
type ProcInfo struct {
	PID     int
	PPID    int
	UID     int // owner of /proc/PID; -1 when unknown
	Comm    string
	Command string // command line, or the name of a kernel thread
	ok      bool
	ctr     *ContainerRef
	ctrDone bool
}

type procCache struct {
	mu sync.Mutex
	m  map[int]*ProcInfo
}

func newProcCache() *procCache { return &procCache{m: map[int]*ProcInfo{}} }

// get reads the process's PPID, owner UID and command line once.
func (c *procCache) get(pid int) *ProcInfo {
	c.mu.Lock()
	if p := c.m[pid]; p != nil {
		c.mu.Unlock()
		return p
	}
	c.mu.Unlock()
	p := readProcInfo(pid)
	c.mu.Lock()
	c.m[pid] = p
	c.mu.Unlock()
	return p
}

func readProcInfo(pid int) *ProcInfo {
	p := &ProcInfo{PID: pid, UID: -1}
	dir := "/proc/" + strconv.Itoa(pid)
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err == nil {
		p.UID = int(st.Uid)
	}
	buf := make([]byte, 4096)
	if n, err := readSmall(dir+"/stat", buf); err == nil {
		b := buf[:n]
		open := bytes.IndexByte(b, '(')
		closing := bytes.LastIndexByte(b, ')')
		if open >= 0 && closing > open {
			p.Comm = string(b[open+1 : closing])
			rest := b[closing+1:]
			// " S PPID ..."
			f := bytes.Fields(rest)
			if len(f) >= 2 {
				p.PPID, _ = strconv.Atoi(string(f[1]))
			}
			p.ok = true
		}
	}
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil && len(b) > 0 {
		b = bytes.TrimRight(b, "\x00")
		for i := range b {
			if b[i] == 0 {
				b[i] = ' '
			}
		}
		p.Command = string(b)
	}
	if p.Command == "" {
		p.Command = p.Comm
	}
	return p
}

// readSmall reads a small /proc file into buf with one read.
func readSmall(path string, buf []byte) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return 0, err
	}
	return n, nil
}

var (
	passwdOnce sync.Once
	passwd     map[int]string
	groupOnce  sync.Once
	groups     map[int]string
)

func readIDFile(path string) map[int]string {
	m := map[int]string{}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 4)
		if len(fields) < 3 {
			continue
		}
		id, err := strconv.Atoi(fields[2])
		if err != nil {
			continue
		}
		if _, dup := m[id]; !dup {
			m[id] = fields[0]
		}
	}
	return m
}

// UserName returns the login name of uid from /etc/passwd, or the number.
func UserName(uid int) string {
	passwdOnce.Do(func() { passwd = readIDFile("/etc/passwd") })
	if n, ok := passwd[uid]; ok {
		return n
	}
	return strconv.Itoa(uid)
}

// GroupName returns the name of gid from /etc/group, or the number.
func GroupName(gid int) string {
	groupOnce.Do(func() { groups = readIDFile("/etc/group") })
	if n, ok := groups[gid]; ok {
		return n
	}
	return strconv.Itoa(gid)
}
