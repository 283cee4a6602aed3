package nsenter

import (
	"fmt"
	"io"
	"strings"

	"github.com/nsxproject/nsx/namespace"
)

// Step is one namespace the program will enter.
type Step struct {
	Kind namespace.Kind
	// Source says where the namespace comes from: "target", a file path,
	// "socket fd N" or "parent of target's user namespace".
	Source string
	// ID is the namespace's inode, Own the caller's namespace of the kind.
	ID, Own namespace.ID
	// IDErr says why ID could not be read (it is then 0).
	IDErr string
}

// Skip is a kind that -a leaves out, and why.
type Skip struct {
	Kind   namespace.Kind
	Reason string
}

// Plan is what Start will do, in order. --explain prints it.
type Plan struct {
	Target string
	// Steps in join order: the first pass (everything but the user
	// namespace, failures forgiven), then the user namespace, then any
	// first-pass kind that failed.
	Steps   []Step
	Skipped []Skip
	// Mechanism is "setns(pidfd)" or "setns per file".
	Mechanism string
	// Fork reports whether the program runs in a child, and why.
	Fork       bool
	ForkReason string
	Root, Cwd  string
	UID, GID   int // -1: unchanged
	DropGroups bool
	KeepCaps   bool
	Env        string
	Cgroup     string
	Program    []string
	// Shell says which login shell runs when no program is given, and why.
	Shell string
	// ReadOnly: the program runs in a private read-only copy of the mount
	// namespace, without CAP_SYS_ADMIN (--read-only).
	ReadOnly bool
	// Debug is the mount namespace built for a debug program, or nil.
	Debug *DebugPlan
}

// Print writes the plan for people.
func (p *Plan) Print(w io.Writer) {
	var b strings.Builder
	if p.Target != "" {
		fmt.Fprintf(&b, "target: %s\n", p.Target)
	}
	fmt.Fprintf(&b, "join (%s), in this order:\n", p.Mechanism)
	for i, s := range p.Steps {
		same := ""
		if s.ID != 0 && s.ID == s.Own {
			same = " (same as nsx's own)"
		}
		pass := "pass 1, failure retried after user"
		if s.Kind == namespace.User {
			pass = "pass 2, first"
		}
		id := fmt.Sprintf("%s:[%d]", s.Kind.ProcName(), s.ID)
		if s.IDErr != "" {
			id = fmt.Sprintf("%s:[?] (cannot read it: %s)", s.Kind.ProcName(), s.IDErr)
		}
		fmt.Fprintf(&b, "  %d. %-6s %s%s from %s; %s\n", i+1, s.Kind, id, same, s.Source, pass)
	}
	if len(p.Steps) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(&b, "skip %-6s %s\n", s.Kind, s.Reason)
	}
	if p.Fork {
		fmt.Fprintf(&b, "fork: yes (%s)\n", p.ForkReason)
	} else {
		fmt.Fprintf(&b, "fork: no (%s)\n", p.ForkReason)
	}
	if p.Cgroup != "" {
		fmt.Fprintf(&b, "cgroup: %s\n", p.Cgroup)
	}
	if p.ReadOnly {
		b.WriteString("mounts: a private copy of the mount namespace, every mount read-only, CAP_SYS_ADMIN withheld; the target's mounts stay as they are\n")
	}
	if p.Debug != nil {
		p.Debug.print(&b)
	}
	fmt.Fprintf(&b, "root: %s\ncwd: %s\n", p.Root, p.Cwd)
	ids := func(v int) string {
		if v < 0 {
			return "unchanged"
		}
		return fmt.Sprint(v)
	}
	fmt.Fprintf(&b, "uid: %s, gid: %s, supplementary groups: %s\n", ids(p.UID), ids(p.GID), map[bool]string{true: "dropped", false: "unchanged"}[p.DropGroups])
	if p.KeepCaps {
		b.WriteString("capabilities: kept as ambient\n")
	}
	fmt.Fprintf(&b, "environment: %s\n", p.Env)
	if p.Shell != "" {
		fmt.Fprintf(&b, "shell: %s\n", p.Shell)
	}
	fmt.Fprintf(&b, "program: %s\n", strings.Join(p.Program, " "))
	io.WriteString(w, b.String())
}
