// Package namespace names the eight kinds of Linux namespace and knows how to
// ask the kernel about one of them.
//
// Every other package of nsx speaks of namespaces through Kind, so that the
// mapping between the names users type (net, mnt, …), the entries of
// /proc/PID/ns, the clone(2) flags and the nsfs ioctls lives in one table.
// The order of that table is util-linux's, because nsenter's messages and its
// join order follow it.
package namespace

import (
	"fmt"
	"strings"
)

// Kind is one kind of namespace. Its value is the kind's CLONE_NEW* flag, so
// that a set of kinds is a Set bit mask as setns(2) and clone(2) take it.
type Kind uint32

// The eight kinds, with the CLONE_NEW* flag as value.
const (
	Mount  Kind = 0x00020000 // CLONE_NEWNS
	UTS    Kind = 0x04000000 // CLONE_NEWUTS
	IPC    Kind = 0x08000000 // CLONE_NEWIPC
	Net    Kind = 0x40000000 // CLONE_NEWNET
	PID    Kind = 0x20000000 // CLONE_NEWPID
	User   Kind = 0x10000000 // CLONE_NEWUSER
	Cgroup Kind = 0x02000000 // CLONE_NEWCGROUP
	Time   Kind = 0x00000080 // CLONE_NEWTIME
)

// All lists every kind in util-linux's table order (user, cgroup, ipc, uts,
// net, pid, mnt, time): the order nsenter opens namespace files in and so the
// order that decides which failure it reports first.
var All = [...]Kind{User, Cgroup, IPC, UTS, Net, PID, Mount, Time}

type kindInfo struct {
	proc string // entry in /proc/PID/ns
	name string // the name lsns and users use
	long string // nsenter's long option
	opt  rune   // nsenter's short option
}

// kindInfos is each kind's row, in All's order. An array searched by
// infoOf, not a map: a package-level map is built by the init every nsx
// command runs.
var kindInfos = [...]struct {
	kind Kind
	kindInfo
}{
	{User, kindInfo{"user", "user", "user", 'U'}},
	{Cgroup, kindInfo{"cgroup", "cgroup", "cgroup", 'C'}},
	{IPC, kindInfo{"ipc", "ipc", "ipc", 'i'}},
	{UTS, kindInfo{"uts", "uts", "uts", 'u'}},
	{Net, kindInfo{"net", "net", "net", 'n'}},
	{PID, kindInfo{"pid", "pid", "pid", 'p'}},
	{Mount, kindInfo{"mnt", "mnt", "mount", 'm'}},
	{Time, kindInfo{"time", "time", "time", 'T'}},
}

// infoOf returns k's row; ok is false for a value that is not one kind.
func infoOf(k Kind) (kindInfo, bool) {
	for i := range kindInfos {
		if kindInfos[i].kind == k {
			return kindInfos[i].kindInfo, true
		}
	}
	return kindInfo{}, false
}

// info is infoOf without ok.
func info(k Kind) kindInfo {
	i, _ := infoOf(k)
	return i
}

// ProcName is the kind's entry under /proc/PID/ns ("mnt", "net", …).
func (k Kind) ProcName() string { return info(k).proc }

// String is the name lsns prints in its TYPE column.
func (k Kind) String() string {
	if i, ok := infoOf(k); ok {
		return i.name
	}
	return fmt.Sprintf("Kind(%#x)", uint32(k))
}

// LongOption is nsenter's long option for the kind ("mount", "net", …).
func (k Kind) LongOption() string { return info(k).long }

// ShortOption is nsenter's short option for the kind ('m', 'n', …).
func (k Kind) ShortOption() rune { return info(k).opt }

// CloneFlag is the kind's CLONE_NEW* flag.
func (k Kind) CloneFlag() uintptr { return uintptr(k) }

// ThreadJoinable reports whether a thread of a multithreaded process may join
// a namespace of this kind. The kernel refuses user (EINVAL) and time (EUSERS)
// joins unless the whole process is one thread, which a Go program never is.
func (k Kind) ThreadJoinable() bool { return k != User && k != Time }

// Parse returns the kind named by s, which may be the /proc name or the lsns
// name ("mnt", "net", "user", …) or nsenter's long option ("mount").
func Parse(s string) (Kind, error) {
	for _, k := range All {
		i := info(k)
		if s == i.proc || s == i.name || s == i.long {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown namespace type: %s", s)
}

// Set is a set of kinds, as the bit mask setns(2) takes.
type Set uint32

// SetOf returns the set holding the given kinds.
func SetOf(kinds ...Kind) Set {
	var s Set
	for _, k := range kinds {
		s |= Set(k)
	}
	return s
}

// AllKinds is the set of every kind (a constant expression: no init).
var AllKinds = Set(User | Cgroup | IPC | UTS | Net | PID | Mount | Time)

// Has reports whether k is in s.
func (s Set) Has(k Kind) bool { return s&Set(k) != 0 }

// Add returns s with k added.
func (s Set) Add(k Kind) Set { return s | Set(k) }

// Remove returns s without k.
func (s Set) Remove(k Kind) Set { return s &^ Set(k) }

// Kinds lists the kinds in s in table order.
func (s Set) Kinds() []Kind {
	var out []Kind
	for _, k := range All {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// String lists the kinds in s, comma-separated, in table order.
func (s Set) String() string {
	var names []string
	for _, k := range s.Kinds() {
		names = append(names, k.String())
	}
	return strings.Join(names, ",")
}
