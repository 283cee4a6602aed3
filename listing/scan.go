// Package listing is the data model of nsx's ls, ps and inspect commands
// and their renderers: util-linux compatible tables, raw output, JSON and
// trees.
//
// A listing starts with one pass over /proc that reads, for each process,
// only the namespace links the requested output needs (readlink, no open or
// stat) and, for lsns 2.41's namespaces held by open files, its fd links;
// everything else (command lines, owners, parents) is read once per printed
// row. Processes that exit during the scan are skipped silently.
package listing

import (
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/procfs"
)

// numKinds is the number of namespace kinds.
const numKinds = len(namespace.All)

// kindIndex is k's position in namespace.All.
func kindIndex(k namespace.Kind) int {
	for i, x := range namespace.All {
		if x == k {
			return i
		}
	}
	return -1
}

// Proc is one process of a scan with the namespaces read for it (0 where a
// link was not read or could not be).
type Proc struct {
	PID int
	NS  [numKinds]uint64
}

// Namespace is one namespace found by a scan.
type Namespace struct {
	ID   uint64
	Kind namespace.Kind
	// NProcs is the number of processes in it; PID the lowest of them, 0
	// when none (a namespace kept alive by a bind mount or an owner link).
	NProcs int
	PID    int
	// PIDs lists the processes in it, when the scan kept them.
	PIDs []int
}

// Snapshot is the result of one pass over /proc.
type Snapshot struct {
	Procs      []Proc // ascending PID
	Namespaces []*Namespace
	byKey      map[nsKey]*Namespace
	// Held are namespaces that open file descriptors refer to (nsfs fds,
	// and sockets for their network namespace), when the scan read them.
	Held map[nsKey]Holder
}

// Holder is a process's file descriptor that keeps a namespace alive.
type Holder struct {
	PID, FD int
	// NSFD is an fd on the namespace when the holder is a socket (whose
	// /proc/PID/fd link cannot be opened), else -1. Close releases it.
	NSFD int
}

// Close releases the fds a scan keeps on socket-held namespaces.
func (s *Snapshot) Close() {
	for k, h := range s.Held {
		if h.NSFD >= 0 {
			unix.Close(h.NSFD)
			h.NSFD = -1
			s.Held[k] = h
		}
	}
}

type nsKey struct {
	id   uint64
	kind namespace.Kind
}

// Lookup returns the namespace of kind k with inode id, or nil.
func (s *Snapshot) Lookup(k namespace.Kind, id uint64) *Namespace {
	return s.byKey[nsKey{id, k}]
}

// Proc returns the scanned process pid, or nil.
func (s *Snapshot) Proc(pid int) *Proc {
	i := sort.Search(len(s.Procs), func(i int) bool { return s.Procs[i].PID >= pid })
	if i < len(s.Procs) && s.Procs[i].PID == pid {
		return &s.Procs[i]
	}
	return nil
}

// ScanOptions say what a scan reads.
type ScanOptions struct {
	// Kinds are the namespace links read for each process.
	Kinds namespace.Set
	// KeepPIDs records every member of each namespace in Namespace.PIDs.
	KeepPIDs bool
	// Held also reads every process's open fds for namespaces they keep
	// alive (lsns 2.41): nsfs fds of Kinds, and sockets' network
	// namespaces when Kinds has net.
	Held bool
	// NSFSMounts are the mount points of nsfs files (from mountinfo): an
	// fd whose link names one of them, or "/" (a mount outside our mount
	// namespace), may be a namespace and is opened to ask.
	NSFSMounts map[string]bool
}

// Scan reads the namespace links of every process once.
func Scan(o ScanOptions) (*Snapshot, error) {
	pids, err := procfs.ListPIDs()
	if err != nil {
		return nil, err
	}
	kinds := o.Kinds.Kinds()
	idx := make([]int, len(kinds))
	names := make([][]byte, len(kinds))
	for i, k := range kinds {
		idx[i] = kindIndex(k)
		names[i] = append([]byte(k.ProcName()), 0)
	}
	procs := make([]Proc, len(pids))
	ok := make([]bool, len(pids))
	var heldMu sync.Mutex
	held := map[nsKey]Holder{}
	// Workers claim small ranges of pids: processes differ a lot in cost
	// (a daemon with thousands of fds beside a shell with three), and one
	// long range each would leave a worker idle while another ends.
	var next atomic.Int64
	claim := func() (lo, hi int, ok bool) {
		hi = int(next.Add(scanBatch))
		lo = hi - scanBatch
		if lo >= len(pids) {
			return 0, 0, false
		}
		return lo, min(hi, len(pids)), true
	}
	work := func() {
		var fds fdScanner
		if o.Held {
			fds.init(o.Kinds, o.NSFSMounts)
		}
		defer func() {
			if !o.Held {
				return
			}
			heldMu.Lock()
			for k, h := range fds.found {
				old, dup := held[k]
				if !dup {
					held[k] = h
					continue
				}
				// One holder per namespace, the lowest PID, as rows show
				// the lowest; a socket holder brings its own NSFD.
				keep, drop := old, h
				if h.PID < old.PID {
					keep, drop = h, old
				}
				if drop.NSFD >= 0 {
					unix.Close(drop.NSFD)
				}
				held[k] = keep
			}
			heldMu.Unlock()
		}()
		buf := make([]byte, 64)
		path := make([]byte, 0, 64)
		read := func(i int) {
			p := &procs[i]
			p.PID = pids[i]
			path = append(path[:0], "/proc/"...)
			path = strconv.AppendInt(path, int64(p.PID), 10)
			path = append(path, "/ns\x00"...)
			// One lookup of /proc/PID/ns, then one-component lookups.
			dir, errno := rawOpenat(unix.AT_FDCWD, path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
			if errno != 0 {
				return // the process is gone
			}
			any := false
			for j := range kinds {
				n, errno := rawReadlinkat(dir, names[j], buf)
				if errno != 0 {
					continue
				}
				if id := parseNSLink(buf[:n]); id != 0 {
					p.NS[idx[j]] = id
					any = true
				}
			}
			rawClose(dir)
			ok[i] = any
			if o.Held && any {
				fds.scan(p.PID, p.NS[kindIndex(namespace.Net)])
			}
		}
		for lo, hi, more := claim(); more; lo, hi, more = claim() {
			for i := lo; i < hi; i++ {
				read(i)
			}
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if workers > 8 {
		workers = 8
	}
	if len(pids) < 200 || workers < 2 {
		work()
	} else {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				work()
			}()
		}
		wg.Wait()
	}
	s := &Snapshot{byKey: make(map[nsKey]*Namespace, 64)}
	if o.Held {
		s.Held = held
	}
	s.Procs = procs[:0]
	for i := range procs {
		if !ok[i] {
			continue
		}
		p := procs[i]
		s.Procs = append(s.Procs, p)
		for j, k := range kinds {
			id := p.NS[idx[j]]
			if id == 0 {
				continue
			}
			key := nsKey{id, k}
			ns := s.byKey[key]
			if ns == nil {
				ns = &Namespace{ID: id, Kind: k, PID: p.PID}
				s.byKey[key] = ns
				s.Namespaces = append(s.Namespaces, ns)
			}
			ns.NProcs++
			if o.KeepPIDs {
				ns.PIDs = append(ns.PIDs, p.PID)
			}
		}
	}
	sortNamespaces(s.Namespaces)
	return s, nil
}

func sortNamespaces(l []*Namespace) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].ID != l[j].ID {
			return l[i].ID < l[j].ID
		}
		return l[i].Kind < l[j].Kind
	})
}

// add registers a namespace found outside the process scan (a bind mount,
// an owner or parent) and returns it.
func (s *Snapshot) add(k namespace.Kind, id uint64) *Namespace {
	key := nsKey{id, k}
	if ns := s.byKey[key]; ns != nil {
		return ns
	}
	ns := &Namespace{ID: id, Kind: k}
	s.byKey[key] = ns
	s.Namespaces = append(s.Namespaces, ns)
	return ns
}

// register adds a namespace found outside the scan (an owner) as it is.
func (s *Snapshot) register(ns *Namespace) {
	key := nsKey{ns.ID, ns.Kind}
	if s.byKey[key] == nil {
		s.byKey[key] = ns
		s.Namespaces = append(s.Namespaces, ns)
	}
}

// scanBatch is how many pids a scan worker claims at a time.
const scanBatch = 32

// parseNSLink returns the inode of a namespace link's text "net:[4026531833]",
// or 0.
func parseNSLink(b []byte) uint64 {
	i := 0
	for i < len(b) && b[i] != '[' {
		i++
	}
	i++
	var n uint64
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + uint64(b[i]-'0')
		i++
	}
	if i == start || i >= len(b) || b[i] != ']' {
		return 0
	}
	return n
}

// ParseNSLink returns the kind and inode of a namespace link's text such as
// "net:[4026531833]".
func ParseNSLink(s string) (namespace.Kind, uint64, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			k, err := namespace.Parse(s[:i])
			id := parseNSLink([]byte(s[i:]))
			if err != nil || id == 0 {
				return 0, 0, false
			}
			return k, id, true
		}
	}
	return 0, 0, false
}

// fdScanner reads one worker's share of /proc/PID/fd links.
type fdScanner struct {
	kinds   namespace.Set
	path    []byte
	link    []byte
	dirents []byte
	found   map[nsKey]Holder
	sockets map[uint64]bool // socket inodes already asked
	mounts  map[string]bool

	// The process being scanned: its fd directory, pidfd (-1 until a
	// socket needs one) and own network namespace.
	dir, pid, pidfd int
	ownNet          uint64
	wantNet         bool
}

func (f *fdScanner) init(kinds namespace.Set, mounts map[string]bool) {
	f.kinds = kinds
	f.mounts = mounts
	f.path = make([]byte, 0, 64)
	f.link = make([]byte, 128)
	f.dirents = make([]byte, 8192)
	f.found = map[nsKey]Holder{}
	f.sockets = map[uint64]bool{}
}

// scan records the namespaces that pid's fds refer to; ownNet is the
// process's own network namespace, which its sockets usually belong to.
//
// It lists /proc/PID/fd and reads each link. Reading links by number up to
// the fd count the directory's size gives (Linux 6.2) skips the listing,
// but was measured 1.31 times slower over processes with holes in their fd
// tables (inherited shell fds such as 10 and 255) for 0.96 over dense ones.
func (f *fdScanner) scan(pid int, ownNet uint64) {
	f.path = append(f.path[:0], "/proc/"...)
	f.path = strconv.AppendInt(f.path, int64(pid), 10)
	f.path = append(f.path, "/fd\x00"...)
	dir, errno := rawOpenat(unix.AT_FDCWD, f.path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if errno != 0 {
		return
	}
	f.dir, f.pid, f.ownNet, f.pidfd = dir, pid, ownNet, -1
	f.wantNet = f.kinds.Has(namespace.Net)
	defer func() {
		rawClose(dir)
		if f.pidfd >= 0 {
			unix.Close(f.pidfd)
		}
	}()
	for {
		n, errno := rawGetdents(dir, f.dirents)
		if errno != 0 || n <= 0 {
			return
		}
		// The kernel stops filling only when the next entry does not fit:
		// with room for the longest one left, this was the last batch.
		last := n+maxDirent <= len(f.dirents)
		for off := 0; off < n; {
			reclen := int(f.dirents[off+16]) | int(f.dirents[off+17])<<8
			name := f.dirents[off+19 : off+reclen] // NUL-terminated
			off += reclen
			if fd, ok := fdNumber(name); ok {
				f.read(fd, name)
			}
		}
		if last {
			return
		}
	}
}

// read records the namespace fd of the current process refers to, if any;
// name is its NUL-terminated entry name.
func (f *fdScanner) read(fd int, name []byte) {
	l, errno := rawReadlinkat(f.dir, name, f.link)
	if errno != 0 || l == 0 {
		return
	}
	text := f.link[:l]
	switch {
	case hasPrefix(text, "socket:["):
		if f.wantNet {
			f.socket(fd, parseNSLink(text))
		}
	case text[0] == '/':
		if len(text) == 1 || f.mounts[string(text)] {
			f.pathFD(fd, string(name[:indexNUL(name)]))
		}
	case text[len(text)-1] == ']':
		k, id, ok := ParseNSLink(string(text))
		if !ok || !f.kinds.Has(k) {
			break
		}
		key := nsKey{id, k}
		if _, dup := f.found[key]; !dup {
			f.found[key] = Holder{PID: f.pid, FD: fd, NSFD: -1}
		}
	}
}

// socket records the network namespace of socket inode ino, fd of the
// current process, when it is not the process's own.
func (f *fdScanner) socket(fd int, ino uint64) {
	if ino == 0 || f.sockets[ino] {
		return
	}
	f.sockets[ino] = true
	if f.pidfd < 0 {
		var err error
		if f.pidfd, err = unix.PidfdOpen(f.pid, 0); err != nil {
			f.pidfd = -1
			f.wantNet = false
			return
		}
	}
	sfd, err := unix.PidfdGetfd(f.pidfd, fd, 0)
	if err != nil {
		return
	}
	nsfd, err := unix.IoctlRetInt(sfd, unix.SIOCGSKNS)
	unix.Close(sfd)
	if err != nil {
		return
	}
	id, err := namespace.Stat(nsfd)
	key := nsKey{uint64(id), namespace.Net}
	if _, dup := f.found[key]; err != nil || uint64(id) == f.ownNet || dup {
		unix.Close(nsfd)
		return
	}
	f.found[key] = Holder{PID: f.pid, FD: fd, NSFD: nsfd}
}

// fdNumber parses a NUL-terminated /proc/PID/fd entry name; "." and ".."
// are not numbers.
func fdNumber(name []byte) (int, bool) {
	n, i := 0, 0
	for ; i < len(name) && name[i] >= '0' && name[i] <= '9'; i++ {
		n = n*10 + int(name[i]-'0')
	}
	return n, i > 0 && i < len(name) && name[i] == 0
}

// maxDirent is the size of the largest linux_dirent64: header, a 255-byte
// name, its NUL, padding to 8.
const maxDirent = 19 + 256 + 5

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// pathFD records the namespace behind an fd whose link is a path: an nsfs
// file reached through a bind mount.
func (f *fdScanner) pathFD(fd int, name string) {
	nfd, err := unix.Openat(f.dir, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return
	}
	defer unix.Close(nfd)
	k, err := namespace.KindOf(nfd)
	if err != nil || !f.kinds.Has(k) {
		return
	}
	id, err := namespace.Stat(nfd)
	if err != nil {
		return
	}
	key := nsKey{uint64(id), k}
	if _, dup := f.found[key]; !dup {
		f.found[key] = Holder{PID: f.pid, FD: fd, NSFD: -1}
	}
}
