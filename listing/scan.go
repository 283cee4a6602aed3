// Package listing is the data model of nsx's ls, ps and inspect commands
// and their renderers: util-linux compatible tables, raw output, JSON and
// trees.
//
// A listing starts with one pass over /proc that reads, for each process,
// only the namespace links the requested output needs (readlink, no open or
// stat); everything else (command lines, owners, parents) is read once per
// printed row. Processes that exit during the scan are skipped silently.
package listing

import (
	"runtime"
	"sort"
	"strconv"
	"sync"

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
}

// Scan reads the namespace links of every process once.
func Scan(o ScanOptions) (*Snapshot, error) {
	pids, err := procfs.ListPIDs()
	if err != nil {
		return nil, err
	}
	kinds := o.Kinds.Kinds()
	idx := make([]int, len(kinds))
	for i, k := range kinds {
		idx[i] = kindIndex(k)
	}
	procs := make([]Proc, len(pids))
	ok := make([]bool, len(pids))
	work := func(lo, hi int) {
		buf := make([]byte, 64)
		path := make([]byte, 0, 64)
		for i := lo; i < hi; i++ {
			p := &procs[i]
			p.PID = pids[i]
			path = append(path[:0], "/proc/"...)
			path = strconv.AppendInt(path, int64(p.PID), 10)
			path = append(path, "/ns"...)
			// One lookup of /proc/PID/ns, then one-component lookups.
			dir, err := unix.Open(string(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				continue // the process is gone
			}
			any := false
			for j, k := range kinds {
				n, err := unix.Readlinkat(dir, k.ProcName(), buf)
				if err != nil {
					continue
				}
				if id := parseNSLink(buf[:n]); id != 0 {
					p.NS[idx[j]] = id
					any = true
				}
			}
			unix.Close(dir)
			ok[i] = any
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if workers > 8 {
		workers = 8
	}
	if len(pids) < 200 || workers < 2 {
		work(0, len(pids))
	} else {
		var wg sync.WaitGroup
		chunk := (len(pids) + workers - 1) / workers
		for lo := 0; lo < len(pids); lo += chunk {
			hi := lo + chunk
			if hi > len(pids) {
				hi = len(pids)
			}
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				work(lo, hi)
			}(lo, hi)
		}
		wg.Wait()
	}
	s := &Snapshot{byKey: make(map[nsKey]*Namespace, 64)}
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
