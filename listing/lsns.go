package listing

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/container"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/procfs"
)

// LsColumns are the columns of `nsx ls` and lsns, in lsns's order. CONTAINER
// is nsx's own and is never offered when running as lsns.
var LsColumns = []Column{
	{Name: "NS", Right: true, Number: true, Hint: 10, Help: "namespace identifier (inode number)"},
	{Name: "TYPE", Hint: 5, Help: "kind of namespace"},
	{Name: "PATH", Help: "path to the namespace"},
	{Name: "NPROCS", Right: true, Number: true, Hint: 5, Help: "number of processes in the namespace"},
	{Name: "PID", Right: true, Number: true, Hint: 5, Help: "lowest PID in the namespace"},
	{Name: "PPID", Right: true, Number: true, Hint: 5, Help: "PPID of the PID"},
	{Name: "COMMAND", Trunc: true, Help: "command line of the PID"},
	{Name: "UID", Right: true, Number: true, Help: "UID of the PID"},
	{Name: "USER", Help: "username of the PID"},
	{Name: "NETNSID", Right: true, Help: "namespace ID as used by network subsystem"},
	{Name: "NSFS", Help: "nsfs mountpoint (usually used network subsystem)"},
	{Name: "PNS", Right: true, Number: true, Help: "parent namespace identifier (inode number)"},
	{Name: "ONS", Right: true, Number: true, Help: "owner namespace identifier (inode number)"},
	{Name: "CONTAINER", Help: "container owning the namespace (nsx only)"},
}

const (
	colNS = iota
	colTYPE
	colPATH
	colNPROCS
	colPID
	colPPID
	colCOMMAND
	colUID
	colUSER
	colNETNSID
	colNSFS
	colPNS
	colONS
	colCONTAINER
)

// TreeMode selects how rows nest.
type TreeMode int

// Tree modes. TreeDefault is lsns without -T: a process tree unless -l.
const (
	TreeDefault TreeMode = iota
	TreeProcess
	TreeOwner
	TreeParent
	TreeNone
)

// ParseTreeMode parses the argument of -T/--tree ("" means owner).
func ParseTreeMode(s string) (TreeMode, error) {
	switch s {
	case "", "owner":
		return TreeOwner, nil
	case "parent":
		return TreeParent, nil
	case "process":
		return TreeProcess, nil
	}
	return 0, fmt.Errorf("unknown tree type: %s", s)
}

// LsOptions are the options of `nsx ls` / lsns.
type LsOptions struct {
	// Kinds restricts the listing; 0 means every kind.
	Kinds namespace.Set
	// Task, when HasTask, lists only that process's namespaces.
	Task    int
	HasTask bool
	// NS, when HasNS, lists the processes of that namespace instead.
	NS    uint64
	HasNS bool
	// Columns are the columns to print (upper case names); nil means the
	// default set.
	Columns []string
	Tree    TreeMode
	// Persistent lists only namespaces without processes (kept by bind
	// mounts).
	Persistent bool
	// Compat is lsns 2.38.1 mode: no CONTAINER column, no process-less
	// namespaces unless Persistent.
	Compat bool
	// NoWrap joins multi-value cells with ',' instead of new lines.
	NoWrap bool
	// Container keeps only namespaces owned by this container.
	Container string
	// Filter keeps only the rows it matches (-Q).
	Filter *Filter
	Format Format
}

// FilterApplyError is a filter that could not be evaluated on a row; lsns
// prints "failed to apply filter: " and the reason.
type FilterApplyError struct{ Err error }

func (e *FilterApplyError) Error() string { return "failed to apply filter: " + e.Err.Error() }

// errFilterNSArg is what lsns 2.41.5 answers to -Q with a namespace
// argument: its process list cannot be filtered.
var errFilterNSArg = &FilterApplyError{unix.ENOTTY}

// ColumnIndex returns the index in LsColumns of the named column (any
// case), or -1.
func ColumnIndex(name string, compat bool) int {
	for i, c := range LsColumns {
		if strings.EqualFold(c.Name, name) {
			if compat && i == colCONTAINER {
				return -1
			}
			return i
		}
	}
	return -1
}

// ErrNotFound is returned for a namespace argument that matches nothing.
var ErrNotFound = errors.New("not found namespace")

// UsageError is a bad option value; its text is lsns's message.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

type nsRow struct {
	ns       *Namespace
	proc     *ProcInfo // the namespace's lowest process, nil if none
	path     string    // the namespace file; a bind mount when no process
	fd       int       // an open fd on the namespace, -1 until needed
	children []*nsRow
	attached bool
	ctr      *container.Container
	ctrDone  bool
	// holder is an fd link that keeps a process-less namespace, used to
	// open it when path (shown as PATH) stays empty.
	holder  string
	matched int8 // the filter's verdict: 0 not asked, 1 kept, -1 dropped
}

type lsBuilder struct {
	fidx   []int // the filter's columns in LsColumns
	o      *LsOptions
	snap   *Snapshot
	procs  *procCache
	nsfs   map[nsKey][]string
	rows   map[nsKey]*nsRow
	nl     *nlConn
	nlFail bool
}

// BuildLs scans /proc and returns the table lsns would print.
func BuildLs(o *LsOptions) (*Table, error) {
	kinds := o.Kinds
	if kinds == 0 || o.HasNS {
		kinds = namespace.AllKinds
	}
	cols := o.Columns
	oneTask := o.HasTask && o.Task != 0
	b := &lsBuilder{o: o, procs: newProcCache(), rows: map[nsKey]*nsRow{}}
	// A namespace argument needs the held ones too: lsns lists nothing
	// (and no error) for a namespace without processes.
	held := !oneTask
	var mounts map[string]bool
	if held {
		b.readNSFS()
		mounts = map[string]bool{}
		for _, paths := range b.nsfs {
			for _, p := range paths {
				mounts[p] = true
			}
		}
	}
	snap, err := Scan(ScanOptions{Kinds: kinds, KeepPIDs: o.HasNS, Held: held, NSFSMounts: mounts})
	if err != nil {
		return nil, err
	}
	b.snap = snap
	defer b.close()
	if o.HasNS {
		return b.processTable()
	}
	if o.Filter != nil {
		if b.fidx, err = o.Filter.Bind(func(n string) int { return ColumnIndex(n, o.Compat) }); err != nil {
			return nil, err
		}
	}
	if oneTask && snap.Proc(o.Task) == nil {
		return &Table{Name: "namespaces", TreeColumn: -1}, nil
	}
	if !oneTask {
		b.addProcessless()
	}
	b.prefetch(snap.Namespaces, o.HasTask && o.Task != 0, !o.Compat)
	var list []*nsRow
	var task *Proc
	if o.HasTask {
		task = snap.Proc(o.Task)
		if o.Task != 0 && task == nil {
			return &Table{Name: "namespaces", TreeColumn: -1}, nil
		}
	}
	for _, ns := range snap.Namespaces {
		if task != nil && task.NS[kindIndex(ns.Kind)] != ns.ID {
			continue
		}
		if o.Persistent && ns.NProcs != 0 {
			continue
		}
		list = append(list, b.rowFor(ns))
	}
	if o.Container != "" {
		kept := list[:0]
		for _, r := range list {
			if b.container(r).Matches(o.Container) {
				kept = append(kept, r)
			}
		}
		list = kept
	}
	if o.Filter != nil {
		kept := list[:0]
		for _, r := range list {
			ok, err := b.match(r)
			if err != nil {
				return nil, err
			}
			if ok {
				kept = append(kept, r)
			}
		}
		list = kept
	}
	if cols == nil {
		cols = []string{"NS", "TYPE", "NPROCS", "PID", "USER"}
		if o.Kinds.Has(namespace.Net) {
			cols = append(cols, "NETNSID", "NSFS")
		}
		if !o.Compat {
			for _, r := range list {
				if b.container(r) != nil {
					cols = append(cols, "CONTAINER")
					break
				}
			}
		}
		cols = append(cols, "COMMAND")
	}
	t := &Table{Name: "namespaces", TreeColumn: -1}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = ColumnIndex(c, o.Compat)
		if idx[i] < 0 {
			return nil, &UsageError{"unknown column: " + c}
		}
		t.Columns = append(t.Columns, LsColumns[idx[i]])
	}
	if len(list) == 0 {
		return t, nil
	}
	treeCol := func(want int) int {
		for i, x := range idx {
			if x == want {
				return i
			}
		}
		return -1
	}
	var roots []*nsRow
	switch o.Tree {
	case TreeDefault, TreeProcess:
		t.TreeColumn = treeCol(colCOMMAND)
		latest := map[int]*nsRow{}
		for _, r := range list {
			if r.proc != nil {
				if p := latest[r.proc.PPID]; p != nil && r.proc.PPID != 0 {
					p.children = append(p.children, r)
					r.attached = true
				}
			}
			if !r.attached {
				roots = append(roots, r)
			}
			if r.proc != nil {
				latest[r.proc.PID] = r
			}
		}
	case TreeOwner, TreeParent:
		t.TreeColumn = treeCol(colNS)
		in := map[*nsRow]bool{}
		for _, r := range list {
			in[r] = true
		}
		// A row hangs below its owner (or parent), which joins the tree
		// even when not listed itself (-p) unless -t or -Q leave it out,
		// as lsns does.
		shown := func(up *nsRow) bool {
			return up != nil && (o.Kinds == 0 || o.Kinds.Has(up.ns.Kind)) && b.kept(up)
		}
		var attach func(r *nsRow)
		attach = func(r *nsRow) {
			var up *nsRow
			if o.Tree == TreeOwner {
				up = b.owner(r)
			} else {
				up = b.parent(r)
			}
			if !shown(up) {
				roots = append(roots, r)
				return
			}
			up.children = append(up.children, r)
			if !in[up] {
				in[up] = true
				attach(up)
			}
		}
		order := list
		if o.Tree == TreeParent {
			// lsns builds the hierarchy of the user namespaces that own
			// the listed ones first, then hangs the rest below their
			// parents; user namespaces without processes (found through
			// fds and mounts) come in the second pass, in order.
			users := map[*nsRow]bool{}
			for _, r := range list {
				if r.ns.Kind == namespace.User && r.ns.NProcs > 0 {
					users[r] = true
				}
				if u := b.owner(r); shown(u) && u.ns.NProcs > 0 {
					users[u] = true
				}
			}
			order = make([]*nsRow, 0, len(list)+len(users))
			for u := range users {
				order = append(order, u)
			}
			sortRows(order)
			for _, r := range order {
				in[r] = true
			}
			for _, r := range list {
				if !users[r] {
					order = append(order, r)
				}
			}
		}
		for _, r := range order {
			attach(r)
		}
		if o.Tree == TreeOwner {
			sortRows(roots)
		}
		for r := range in {
			sortRows(r.children)
		}
	case TreeNone:
		roots = list
	}
	if t.TreeColumn < 0 {
		// Flat output keeps the rows in namespace order.
		var all []*nsRow
		var walk func([]*nsRow)
		walk = func(l []*nsRow) {
			for _, r := range l {
				all = append(all, r)
				walk(r.children)
			}
		}
		walk(roots)
		sortRows(all)
		roots = all
	}
	var conv func(l []*nsRow) []*Row
	conv = func(l []*nsRow) []*Row {
		out := make([]*Row, 0, len(l))
		for _, r := range l {
			row := &Row{Cells: b.cells(r, idx)}
			if t.TreeColumn >= 0 {
				row.Children = conv(r.children)
			}
			out = append(out, row)
		}
		return out
	}
	t.Rows = conv(roots)
	return t, nil
}

// prefetch reads the lowest process of every namespace (command line,
// PPID, owner, container) on a few goroutines: per-row reads dominate once
// there are hundreds of namespaces.
func (b *lsBuilder) prefetch(nss []*Namespace, skip, containers bool) {
	if skip || len(nss) < 64 {
		return
	}
	seen := map[int]bool{}
	var pids []int
	for _, ns := range nss {
		if ns.PID != 0 && !seen[ns.PID] {
			seen[ns.PID] = true
			pids = append(pids, ns.PID)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if workers > 8 {
		workers = 8
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(pids) {
					return
				}
				p := b.procs.get(pids[i])
				if containers {
					p.ctr = containerOfPID(p.PID)
					p.ctrDone = true
				}
			}
		}()
	}
	wg.Wait()
}

func sortRows(l []*nsRow) {
	sort.SliceStable(l, func(i, j int) bool { return l[i].ns.ID < l[j].ns.ID })
}

// addProcessless adds the namespaces no process is in but something keeps
// alive, as lsns 2.41 lists them: bind mounts (nsfs), open fds and sockets
// of processes, and the user namespaces that own those.
func (b *lsBuilder) addProcessless() {
	o, snap := b.o, b.snap
	want := func(k namespace.Kind) bool { return o.Kinds == 0 || o.Kinds.Has(k) }
	b.readNSFS()
	var added []*nsRow
	for key := range b.nsfs {
		if want(key.kind) && snap.Lookup(key.kind, key.id) == nil {
			added = append(added, b.rowFor(snap.add(key.kind, key.id)))
		}
	}
	for key, h := range snap.Held {
		if !want(key.kind) || snap.Lookup(key.kind, key.id) != nil {
			continue
		}
		r := b.rowFor(snap.add(key.kind, key.id))
		if h.NSFD >= 0 {
			// The row owns the socket's namespace fd from now on.
			r.fd = h.NSFD
			h.NSFD = -1
			snap.Held[key] = h
		} else if r.path == "" && !o.Compat {
			r.path = "/proc/" + strconv.Itoa(h.PID) + "/fd/" + strconv.Itoa(h.FD)
		} else if r.path == "" {
			r.holder = "/proc/" + strconv.Itoa(h.PID) + "/fd/" + strconv.Itoa(h.FD)
		}
		added = append(added, r)
	}
	if want(namespace.User) {
		for _, r := range added {
			for {
				up := b.owner(r)
				if up == nil || snap.Lookup(namespace.User, up.ns.ID) != nil {
					break
				}
				snap.register(up.ns)
				r = up
			}
		}
	}
	sortNamespaces(snap.Namespaces)
}

// kept reports whether the filter keeps r (always without a filter).
func (b *lsBuilder) kept(r *nsRow) bool {
	if b.o.Filter == nil {
		return true
	}
	ok, err := b.match(r)
	return ok && err == nil
}

func (b *lsBuilder) match(r *nsRow) (bool, error) {
	if r.matched != 0 {
		return r.matched > 0, nil
	}
	vals := b.cells(r, b.fidx)
	ok, err := b.o.Filter.Match(func(i int) (string, bool) {
		return vals[i], LsColumns[b.fidx[i]].Number
	})
	if err != nil {
		return false, &FilterApplyError{err}
	}
	r.matched = -1
	if ok {
		r.matched = 1
	}
	return ok, nil
}

func (b *lsBuilder) close() {
	for _, r := range b.rows {
		if r.fd >= 0 {
			unix.Close(r.fd)
		}
	}
	b.snap.Close()
	if b.nl != nil {
		b.nl.Close()
	}
}

func (b *lsBuilder) rowFor(ns *Namespace) *nsRow {
	key := nsKey{ns.ID, ns.Kind}
	if r := b.rows[key]; r != nil {
		return r
	}
	r := &nsRow{ns: ns, fd: -1}
	if ns.PID != 0 {
		r.proc = b.procs.get(ns.PID)
		r.path = "/proc/" + strconv.Itoa(ns.PID) + "/ns/" + ns.Kind.ProcName()
	} else if paths := b.nsfs[key]; len(paths) > 0 {
		r.path = paths[0]
	}
	b.rows[key] = r
	return r
}

// open returns an fd on the row's namespace, or -1.
func (b *lsBuilder) open(r *nsRow) int {
	path := r.path
	if path == "" {
		path = r.holder
	}
	if r.fd >= 0 || path == "" {
		return r.fd
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	// The process may have been replaced: make sure this is the namespace.
	if id, err := namespace.Stat(fd); err != nil || uint64(id) != r.ns.ID {
		unix.Close(fd)
		return -1
	}
	r.fd = fd
	return fd
}

// related returns the row of the namespace an nsfs ioctl (owner or parent)
// gives, creating a process-less row when the scan did not see it.
func (b *lsBuilder) related(r *nsRow, req uint) *nsRow {
	fd := b.open(r)
	if fd < 0 {
		return nil
	}
	if req == unix.NS_GET_PARENT && r.ns.Kind != namespace.PID && r.ns.Kind != namespace.User {
		return nil
	}
	nfd, err := unix.IoctlRetInt(fd, req)
	if err != nil {
		return nil
	}
	id, err := namespace.Stat(nfd)
	if err != nil {
		unix.Close(nfd)
		return nil
	}
	kind := namespace.User
	if req == unix.NS_GET_PARENT {
		kind = r.ns.Kind
	}
	key := nsKey{uint64(id), kind}
	if x := b.rows[key]; x != nil {
		if x.fd < 0 {
			x.fd = nfd
		} else {
			unix.Close(nfd)
		}
		return x
	}
	ns := b.snap.Lookup(kind, uint64(id))
	if ns == nil {
		ns = &Namespace{ID: uint64(id), Kind: kind}
	}
	x := b.rowFor(ns)
	x.fd = nfd
	return x
}

func (b *lsBuilder) owner(r *nsRow) *nsRow  { return b.related(r, unix.NS_GET_USERNS) }
func (b *lsBuilder) parent(r *nsRow) *nsRow { return b.related(r, unix.NS_GET_PARENT) }

func (b *lsBuilder) container(r *nsRow) *container.Container {
	if !r.ctrDone {
		r.ctrDone = true
		if r.proc != nil {
			if r.proc.ctrDone {
				r.ctr = r.proc.ctr
			} else {
				r.ctr = containerOfPID(r.proc.PID)
			}
		}
	}
	return r.ctr
}

func (b *lsBuilder) readNSFS() {
	if b.nsfs != nil {
		return
	}
	b.nsfs = map[nsKey][]string{}
	mounts, err := procfs.ReadMountinfo(0)
	if err != nil {
		return
	}
	for _, m := range mounts {
		if m.FSType != "nsfs" {
			continue
		}
		k, id, ok := ParseNSLink(m.Root)
		if !ok {
			continue
		}
		key := nsKey{id, k}
		b.nsfs[key] = append(b.nsfs[key], m.MountPoint)
	}
}

func (b *lsBuilder) netnsid(r *nsRow) string {
	if r.ns.Kind != namespace.Net {
		return ""
	}
	fd := b.open(r)
	if fd < 0 {
		return ""
	}
	if b.nl == nil && !b.nlFail {
		c, err := dialRoute()
		if err != nil {
			b.nlFail = true
			return ""
		}
		b.nl = c
	}
	if b.nl == nil {
		return ""
	}
	id, err := b.nl.nsid(fd)
	if err != nil {
		return ""
	}
	if id < 0 {
		return "unassigned"
	}
	return strconv.Itoa(id)
}

func (b *lsBuilder) cells(r *nsRow, idx []int) []string {
	out := make([]string, len(idx))
	for i, c := range idx {
		var s string
		switch c {
		case colNS:
			s = strconv.FormatUint(r.ns.ID, 10)
		case colTYPE:
			s = r.ns.Kind.String()
		case colPATH:
			s = r.path
			if r.proc == nil && b.o.Compat {
				s = ""
			}
		case colNPROCS:
			s = strconv.Itoa(r.ns.NProcs)
		case colPID:
			if r.proc != nil {
				s = strconv.Itoa(r.proc.PID)
			}
		case colPPID:
			if r.proc != nil {
				s = strconv.Itoa(r.proc.PPID)
			}
		case colCOMMAND:
			if r.proc != nil {
				s = r.proc.Command
			}
		case colUID, colUSER:
			uid := -1
			if r.proc != nil {
				uid = r.proc.UID
			} else if fd := b.open(r); fd >= 0 {
				// No process: a user namespace's creator, else the
				// namespace file's owner (as lsns 2.41).
				if r.ns.Kind == namespace.User {
					if u, err := namespace.OwnerUID(fd); err == nil {
						uid = int(u)
					}
				} else {
					var st unix.Stat_t
					if unix.Fstat(fd, &st) == nil {
						uid = int(st.Uid)
					}
				}
			}
			if uid >= 0 {
				if c == colUID {
					s = strconv.Itoa(uid)
				} else {
					s = UserName(uid)
				}
			}
		case colNETNSID:
			if r.proc != nil || !b.o.Compat {
				// lsns 2.41 leaves it empty without a process.
				s = b.netnsid(r)
			}
		case colNSFS:
			b.readNSFS()
			sep := LineBreak
			if b.o.NoWrap || b.o.Format.Raw {
				sep = ","
			}
			if b.o.Format.JSON {
				sep = "\n"
			}
			s = strings.Join(b.nsfs[nsKey{r.ns.ID, r.ns.Kind}], sep)
		case colPNS:
			s = "0"
			if p := b.parent(r); p != nil {
				s = strconv.FormatUint(p.ns.ID, 10)
			}
		case colONS:
			s = "0"
			if p := b.owner(r); p != nil {
				s = strconv.FormatUint(p.ns.ID, 10)
			}
		case colCONTAINER:
			s = b.container(r).Ref()
		}
		out[i] = s
	}
	return out
}

// processTable lists the processes of one namespace (lsns NAMESPACE).
func (b *lsBuilder) processTable() (*Table, error) {
	o := b.o
	var ns *Namespace
	for _, x := range b.snap.Namespaces {
		if x.ID == o.NS && (o.Kinds == 0 || o.Kinds.Has(x.Kind)) {
			ns = x
			break
		}
	}
	if ns == nil {
		for key := range b.nsfs {
			if key.id == o.NS && (o.Kinds == 0 || o.Kinds.Has(key.kind)) {
				return &Table{Name: "namespaces", TreeColumn: -1}, nil
			}
		}
		for key := range b.snap.Held {
			if key.id == o.NS && (o.Kinds == 0 || o.Kinds.Has(key.kind)) {
				return &Table{Name: "namespaces", TreeColumn: -1}, nil
			}
		}
		return nil, fmt.Errorf("%w: %d", ErrNotFound, o.NS)
	}
	if o.Filter != nil {
		if o.Compat {
			return nil, errFilterNSArg
		}
		var err error
		if b.fidx, err = o.Filter.Bind(func(n string) int { return ColumnIndex(n, o.Compat) }); err != nil {
			return nil, err
		}
	}
	cols := o.Columns
	if cols == nil {
		cols = []string{"PID", "PPID", "USER", "COMMAND"}
	}
	t := &Table{Name: "namespaces", TreeColumn: -1}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = ColumnIndex(c, o.Compat)
		if idx[i] < 0 {
			return nil, &UsageError{"unknown column: " + c}
		}
		t.Columns = append(t.Columns, LsColumns[idx[i]])
		if idx[i] == colCOMMAND && o.Tree != TreeNone {
			t.TreeColumn = i
		}
	}
	byPID := map[int]*Row{}
	for _, pid := range ns.PIDs {
		p := b.procs.get(pid)
		nr := &nsRow{ns: ns, proc: p, fd: -1, path: "/proc/" + strconv.Itoa(pid) + "/ns/" + ns.Kind.ProcName()}
		if o.Filter != nil {
			ok, err := b.match(nr)
			if err != nil || !ok {
				if nr.fd >= 0 {
					unix.Close(nr.fd)
				}
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		row := &Row{Cells: b.cells(nr, idx)}
		if nr.fd >= 0 {
			unix.Close(nr.fd)
		}
		if par := byPID[p.PPID]; par != nil && t.TreeColumn >= 0 {
			par.Children = append(par.Children, row)
		} else {
			t.Rows = append(t.Rows, row)
		}
		byPID[pid] = row
	}
	return t, nil
}
