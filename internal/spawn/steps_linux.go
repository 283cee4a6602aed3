package spawn

import (
	"fmt"

	"github.com/nsxproject/nsx/namespace"
)

// The join engine is one ordered table of steps. Every executor walks it in
// this order and runs the rows it can: the raw child (fork_linux_unsafe.go's
// sequence reads the table as data, without allocating) as a copy of this
// process or, the fast path, in its memory (vfork), the same walker in
// place of this process (--no-fork), and Do, which runs a function on a
// locked thread instead of a program. Which executor a spec takes, and what
// each executor refuses, follows from the same table: a spec needs a row
// when the row's needed says so, and an executor can carry the spec out when
// it runs every row the spec needs.

// step names one row of the table.
type step uint8

const (
	stepNoDump        step = iota // non-dumpable until execve
	stepExtraAside                // extra files copied above 3+n, before the fd table changes
	stepStdio                     // fds 0-2
	stepUnshareCreate             // nsx unshare: new namespaces
	stepGroupsEarly               // setgroups(0) while privileged in the caller's user ns
	stepSingleThread              // a user or time ns join needs a process of one thread
	stepCgroup                    // born in a cgroup (clone3 CLONE_INTO_CGROUP)
	stepPrejoinPID                // the PID namespace, before the program's process exists
	stepJoinTolerant              // first pass: every join but the user ns, failures forgiven
	stepJoinUser                  // the user namespace
	stepJoinRetry                 // second pass: the joins the first could not do
	stepReadOnly                  // private read-only copy of the mount namespace
	stepRootAndDir                // root, working directory, the directory inside the root
	stepForkForPID                // one more fork, the relay, for a PID ns joined too late
	stepUnshareEnter              // nsx unshare: root, directory and the rest after creating
	stepDebugProc                 // nsx debug: /proc of the target's PID ns
	stepCredentials               // setgroups, setgid, setuid
	stepAmbientCaps               // --keep-caps
	stepExtraInPlace              // extra files become 3, 4, …
	stepExec                      // execve along PATH
	numSteps
)

// executors is a set of the engine's executors.
type executors uint8

const (
	execRaw     executors = 1 << iota // Start's raw child, a copy of this process
	execShared                        // the raw child in this process's memory (vfork)
	execInPlace                       // ExecInPlace
	execDo                            // Do: fn instead of a program
)

// stepRow is one row of the table.
type stepRow struct {
	id   step
	runs executors
	// program marks a row that only concerns the program (Do ignores it).
	program bool
	// what names the row in a refusal.
	what string
	// needed reports whether the spec asks for the row.
	needed func(*Spec) bool
}

// steps is the table, in the order every executor runs it. The raw child's
// PID pre-join is made by its parent thread just before the clone (Start),
// so that the child is born in the PID namespace; its row is a no-op in the
// child, and in place, where no process is born (the program keeps its PID
// namespace, as with nsenter -F). The child that shares this process's
// memory cannot join a user or time namespace (the kernel wants a process
// whose memory nobody shares) nor become a relay (this thread sleeps until
// the child executes), and nsx debug's tree is built for the copy. Nor is
// it born in a cgroup: in a frozen one (a paused container) it would never
// run, and this thread, asleep in clone3 while holding its P, would stall
// every stop-the-world of the runtime until the thaw.
var steps = [numSteps]stepRow{
	{stepNoDump, execRaw | execShared | execInPlace, true, "", func(s *Spec) bool { return s.NoDump }},
	{stepExtraAside, execRaw | execShared, true, "extra files", func(s *Spec) bool { return len(s.ExtraFiles) > 0 }},
	{stepStdio, execRaw | execShared | execInPlace, true, "", func(s *Spec) bool { return s.Stdio != [3]int{-1, -1, -1} }},
	{stepUnshareCreate, execRaw, false, "creating namespaces", func(s *Spec) bool { return s.Unshare != nil }},
	{stepGroupsEarly, execRaw | execShared | execInPlace, false, "changing credentials", func(s *Spec) bool { return s.DropGroupsEarly }},
	{stepSingleThread, execRaw, false, "joining a user or time namespace", joinsWholeProcess},
	{stepCgroup, execRaw, false, "entering a cgroup", func(s *Spec) bool { return s.CgroupFd >= 0 }},
	{stepPrejoinPID, execRaw | execShared | execInPlace | execDo, false, "", func(s *Spec) bool { return s.PrejoinPID >= 0 }},
	{stepJoinTolerant, execRaw | execShared | execInPlace | execDo, false, "", func(s *Spec) bool { return len(s.Tolerant) > 0 }},
	{stepJoinUser, execRaw, false, "joining a user namespace", func(s *Spec) bool { return s.User != nil }},
	{stepJoinRetry, execRaw | execShared | execInPlace | execDo, false, "", func(s *Spec) bool { return len(s.Tolerant) > 0 }},
	{stepReadOnly, execRaw | execShared | execInPlace | execDo, false, "", func(s *Spec) bool { return s.ReadOnly }},
	{stepRootAndDir, execRaw | execShared | execInPlace | execDo, false, "", func(s *Spec) bool {
		return s.RootFd >= 0 || s.WdnsPath != "" || s.CwdFd >= 0 || s.CheckCwd
	}},
	{stepForkForPID, execRaw, true, "a PID namespace joined after the user namespace", func(s *Spec) bool { return s.ForkForPID }},
	{stepUnshareEnter, execRaw, false, "creating namespaces", func(s *Spec) bool { return s.Unshare != nil }},
	{stepDebugProc, execRaw, false, "a debug mount namespace", func(s *Spec) bool { return s.Debug != nil }},
	{stepCredentials, execRaw | execShared | execInPlace, false, "changing credentials", func(s *Spec) bool { return s.SetGroups || s.GID >= 0 || s.UID >= 0 }},
	{stepAmbientCaps, execRaw | execShared | execInPlace, false, "ambient capabilities", func(s *Spec) bool { return s.KeepCaps }},
	{stepExtraInPlace, execRaw | execShared, true, "extra files", func(s *Spec) bool { return len(s.ExtraFiles) > 0 }},
	{stepExec, execRaw | execShared | execInPlace, true, "", func(*Spec) bool { return true }},
}

// joinsWholeProcess reports whether a join is of a user or time namespace,
// which the kernel allows only to a process of one thread (and one that
// shares its memory with no other).
func joinsWholeProcess(s *Spec) bool {
	if s.User != nil {
		return true
	}
	for _, j := range s.Tolerant {
		if j.Mask&uint32(namespace.Time|namespace.User) != 0 {
			return true
		}
	}
	return false
}

// rawRows is the table as the raw walker reads it: plain data, indexed
// without bounds checks in the child.
var rawRows = func() (r [numSteps]rawStepRow) {
	for i, row := range steps {
		if row.id != step(i) {
			panic("spawn: the step table is out of order")
		}
		r[i] = rawStepRow{id: row.id, runs: row.runs}
	}
	return r
}()

// rawStepRow is a stepRow without the Go-only fields.
type rawStepRow struct {
	id   step
	runs executors
}

// unsupported returns the first row s needs that ex cannot run (ignoring
// the program's rows when ex is Do), or nil.
func unsupported(s *Spec, ex executors) *stepRow {
	for i := range steps {
		row := &steps[i]
		if row.runs&ex != 0 || (ex == execDo && row.program) || !row.needed(s) {
			continue
		}
		return row
	}
	return nil
}

// sharesMemory reports whether Start runs the raw child in this process's
// memory (vfork) for s: the architecture has clone3Shared, and s needs no row
// that only a copy of the process can run (a user or time namespace, the
// relay, a cgroup, creating namespaces, nsx debug).
func sharesMemory(s *Spec) bool { return canShareMemory && unsupported(s, execShared) == nil }

// refuseInPlace explains why ExecInPlace cannot carry out s, or is nil.
func refuseInPlace(s *Spec) error {
	if row := unsupported(s, execInPlace); row != nil {
		return fmt.Errorf("spawn: a forked child is needed for %s", row.what)
	}
	return nil
}
