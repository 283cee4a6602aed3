package listing

import (
	"bytes"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/container"
	"github.com/nsxproject/nsx/procfs"
)

// ProcInfo is what rows show of a process. Fields are filled on demand.
type ProcInfo struct {
	PID     int
	PPID    int
	UID     int // owner of /proc/PID; -1 when unknown
	Comm    string
	Command string // command line, or the name of a kernel thread
	ok      bool
	ctr     *container.Container
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

// procReader holds one goroutine's buffers for per-row /proc reads. The
// reads are raw open/read/close: os.Open would also register every file
// with the network poller (fcntl and a failing epoll_ctl per file), which
// costs more than the read itself once there are thousands of rows.
type procReader struct {
	path []byte
	buf  []byte
}

var readerPool = sync.Pool{New: func() any {
	return &procReader{path: make([]byte, 0, 32), buf: make([]byte, 4096)}
}}

// openPID opens /proc/PID as an O_PATH directory to read files under.
func (r *procReader) openPID(pid int) (int, error) {
	r.path = append(r.path[:0], "/proc/"...)
	r.path = strconv.AppendInt(r.path, int64(pid), 10)
	return unix.Open(string(r.path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// read returns the whole file name under dir, in r.buf (valid until the
// next read).
func (r *procReader) read(dir int, name string) ([]byte, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b, err := procfs.AppendFd(r.buf[:0], fd)
	if err != nil {
		return nil, err
	}
	r.buf = b // keep what it grew to for the next read
	return b, nil
}

func readProcInfo(pid int) *ProcInfo {
	r := readerPool.Get().(*procReader)
	defer readerPool.Put(r)
	p := &ProcInfo{PID: pid, UID: -1}
	dir, err := r.openPID(pid)
	if err != nil {
		return p
	}
	defer unix.Close(dir)
	var st unix.Stat_t
	if unix.Fstat(dir, &st) == nil {
		p.UID = int(st.Uid)
	}
	if b, err := r.read(dir, "stat"); err == nil {
		open := bytes.IndexByte(b, '(')
		closing := bytes.LastIndexByte(b, ')')
		if open >= 0 && closing > open {
			p.Comm = string(b[open+1 : closing])
			p.PPID = statPPID(b[closing+1:])
			p.ok = true
		}
	}
	if b, err := r.read(dir, "cmdline"); err == nil && len(b) > 0 {
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

// statPPID parses the PPID from what follows the command in /proc/PID/stat:
// " S PPID ...".
func statPPID(b []byte) int {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	for i < len(b) && b[i] != ' ' { // the state
		i++
	}
	for i < len(b) && b[i] == ' ' {
		i++
	}
	n := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	return n
}

// containerOfPID returns the container process pid belongs to, or nil: the
// one identity container.OfProcess gives from the process's cgroup, read
// raw for the per-row lookups of ls.
func containerOfPID(pid int) *container.Container {
	r := readerPool.Get().(*procReader)
	defer readerPool.Put(r)
	dir, err := r.openPID(pid)
	if err != nil {
		return nil
	}
	defer unix.Close(dir)
	b, err := r.read(dir, "cgroup")
	if err != nil {
		return nil
	}
	return container.OfProcess(pid, b)
}

var (
	passwdOnce sync.Once
	passwd     map[int]string
)

// readIDFile maps the ids of a passwd-format file to their names, the
// first line of each winning. It reads raw: an os.File would start the
// network poller for this one file.
func readIDFile(path string) map[int]string {
	m := map[int]string{}
	b, err := procfs.ReadSmall(path)
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.SplitN(line, ":", 4)
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
