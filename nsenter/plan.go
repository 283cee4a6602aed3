package nsenter

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/nsxproject/nsx/internal/escape"
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

	from joinFrom // which fd the join uses, for reading ID
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

	exec execPlan // what the spawn spec is made from (specFrom)
}

// Print writes the plan for people. Strings that can come from the target
// (its cgroup path, the $SHELL of its environment with -e, file names) are
// escaped: --explain goes to a terminal.
func (p *Plan) Print(w io.Writer) {
	var b strings.Builder
	e := escape.Terminal
	if p.Target != "" {
		fmt.Fprintf(&b, "target: %s\n", e(p.Target))
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
		id := nsName(s.Kind, s.ID)
		if s.IDErr != "" {
			id = fmt.Sprintf("%s:[?] (cannot read it: %s)", s.Kind.ProcName(), s.IDErr)
		}
		fmt.Fprintf(&b, "  %d. %-6s %s%s from %s; %s\n", i+1, s.Kind, id, same, e(s.Source), pass)
	}
	if len(p.Steps) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(&b, "skip %-6s %s\n", s.Kind, e(s.Reason))
	}
	if p.Fork {
		fmt.Fprintf(&b, "fork: yes (%s)\n", p.ForkReason)
	} else {
		fmt.Fprintf(&b, "fork: no (%s)\n", p.ForkReason)
	}
	if p.Cgroup != "" {
		fmt.Fprintf(&b, "cgroup: %s\n", e(p.Cgroup))
	}
	if p.ReadOnly {
		b.WriteString("mounts: a private copy of the mount namespace, every mount read-only, CAP_SYS_ADMIN withheld; the target's mounts stay as they are\n")
	}
	if p.Debug != nil {
		p.Debug.print(&b)
	}
	fmt.Fprintf(&b, "root: %s\ncwd: %s\n", e(p.Root), e(p.Cwd))
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
	fmt.Fprintf(&b, "environment: %s\n", e(p.Env))
	if p.Shell != "" {
		fmt.Fprintf(&b, "shell: %s\n", e(p.Shell))
	}
	fmt.Fprintf(&b, "program: %s\n", e(strings.Join(p.Program, " ")))
	io.WriteString(w, b.String())
}

// The planner. plan turns options and facts into a Plan without a system
// call: everything that costs one (namespace IDs, fds, the target's files)
// was gathered before (gatherFacts), so the plan can be tested with facts
// written as literals, --explain prints the very value a run is made from,
// and every refusal that depends only on options and facts is decided here,
// in the order util-linux nsenter checks.

// request is what a plan is made from besides the facts: the options (in
// effective form: -1 is unset) and the program as the Cmd names it.
type request struct {
	opts    Options
	inPlace bool // Exec: no fork (-F)
	path    string
	args    []string
	env     []string // Cmd.Env; nil: nsx's own, or the target's with -e
}

// joinFrom says which fd a join uses.
type joinFrom int

const (
	joinTarget     joinFrom = iota // the target's own namespace (pidfd or /proc/PID/ns)
	joinPidfd                      // setns on the target's pidfd, several kinds at once
	joinTargetFile                 // the target's /proc/PID/ns file, opened by gatherFacts
	joinFile                       // a namespace file of Options.Files or the target
	joinSocket                     // the net namespace of the target's socket (-N)
	joinUserParent                 // the parent of a user namespace (--user-parent)
)

// join is one setns of the program's process.
type join struct {
	from  joinFrom
	kinds namespace.Set // one kind, or several for joinPidfd
	// failed is util-linux's message when the kernel refuses it.
	failed string
}

// dirFrom says where a root or working directory comes from.
type dirFrom int

const (
	dirUnchanged dirFrom = iota
	dirOption            // Options.RootDir, Options.WorkDirFile
	dirTarget            // the target's /proc/PID/root, /proc/PID/cwd
)

// execPlan is the part of a plan the spawn spec is made from (specFrom).
type execPlan struct {
	tolerant []join // first pass, failures retried after user
	user     *join  // second pass, first
	// prejoinPID is the join the parent makes before the fork, so that
	// the child is born in the PID namespace.
	prejoinPID *join

	root, cwd     dirFrom
	wdnsPath      string
	checkCwd      bool
	cwdFromCaller bool // the cwd came from -w: a refusal names it
	cgroup        bool
	readOnly      bool
	debug         bool
	// debugPIDFromTarget: readIDs names the PID namespace /proc shows.
	debugPIDFromTarget bool

	uid, gid                   int
	setGroups, dropGroupsEarly bool
	keepCaps                   bool

	path string // also as the exec failure names it
	argv []string
	env  []string
}

// selection is the kinds a plan enters and where each comes from.
type selection struct {
	want       namespace.Set // every kind entered
	fromTarget namespace.Set // the kinds joined from the target process
	fileKinds  namespace.Set // the kinds joined from namespace files
	skipped    []Skip
}

func needPID(f *facts, what string) error {
	if f.pid == 0 {
		return errorf(nil, "no target PID specified%s", what)
	}
	return nil
}

func (f *facts) targetIDOf(k namespace.Kind) (namespace.ID, error) {
	r, ok := f.ids[k]
	if !ok {
		return 0, errNotGathered
	}
	return r.id, r.err
}

func (f *facts) ownIDOf(k namespace.Kind) namespace.ID { return f.own[k] }

// errNotGathered is a fact the plan needs but nobody read: a bug, never a
// user's error.
var errNotGathered = errors.New("nsenter: fact not gathered")

// selectKinds decides which kinds are entered, from where, and which -a
// leaves out; it refuses what util-linux refuses before it opens a
// namespace. gatherFacts uses it too, to know which files to open.
func selectKinds(f *facts, r *request) (selection, error) {
	o := &r.opts
	sel := selection{fileKinds: kindsOf(o.Files)}
	if f.nsFile {
		// A namespace-file target stands for its own kind.
		sel.fileKinds = sel.fileKinds.Add(f.nsFileKind)
	}
	want := o.Kinds | sel.fileKinds
	all := o.All
	if all && f.nsFile && o.Kinds == 0 {
		// "nsx enter /run/netns/blue": a namespace file stands for its
		// own kind; there is no process to take the others from.
		all = false
	}
	if all {
		if err := needPID(f, " for --all"); err != nil {
			return sel, err
		}
	}
	if f.pid == 0 {
		// util-linux 2.41 opens the target's files before it looks at
		// the namespaces, and names the first it cannot open (the
		// follow ids have no name there).
		for _, need := range []struct {
			on   bool
			what string
		}{
			{o.Root && o.RootDir == nil, "root"},
			{o.WorkDir && o.WorkDirFile == nil, "cwd"},
			{o.TargetEnv, "environ"},
			// 2.41 on a cgroup v2 host (on a hybrid one it refuses -c
			// first; nsx supports -c there, docs/compat.md).
			{o.JoinCgroup, "cgroup"},
			{o.FollowUID || o.FollowGID, ""},
		} {
			if need.on {
				return sel, errorf(nil, "neither filename nor target pid supplied for %s", need.what)
			}
		}
	}
	if all {
		intoContainerUserns := false
		if f.container {
			id, err := f.targetIDOf(namespace.User)
			intoContainerUserns = err == nil && id != f.ownIDOf(namespace.User)
		}
		for _, k := range namespace.All {
			if want.Has(k) {
				continue
			}
			if intoContainerUserns && k != namespace.User && k != namespace.Mount {
				// A namespace of the caller's own that a container with
				// a user namespace of its own shares (its cgroup or
				// time namespace, say) is owned by a user namespace the
				// program leaves when it joins the container's: joining
				// it from there is EPERM, and not joining it changes
				// nothing (issue 9, rootless containers).
				if id, err := f.targetIDOf(k); err == nil && id == f.ownIDOf(k) {
					sel.skipped = append(sel.skipped, Skip{k, nsName(k, id) + " is nsx's own; the container's user namespace may not join it"})
					continue
				}
			}
			if !f.supported.Has(k) {
				sel.skipped = append(sel.skipped, Skip{k, "this kernel has no such namespace"})
				continue
			}
			if k == namespace.Time {
				if skip, ok := sameTimeNamespace(f, r.inPlace); ok {
					sel.skipped = append(sel.skipped, skip)
					continue
				}
			}
			if k == namespace.User {
				id, err := f.targetIDOf(k)
				if err != nil {
					return sel, errorf(unwrapErrno(err), "stat of /proc/%d/ns/user failed", f.pid)
				}
				if id == f.ownIDOf(k) {
					sel.skipped = append(sel.skipped, Skip{k, nsName(namespace.User, id) + " is nsx's own user namespace (the kernel refuses to re-enter it)"})
					continue
				}
			}
			want = want.Add(k)
		}
	}
	fromTarget := want &^ sel.fileKinds
	if o.Debug != nil && o.All {
		// Debug: every kind but mount, whose place a new one takes.
		want, fromTarget = want.Remove(namespace.Mount), fromTarget.Remove(namespace.Mount)
	}
	if o.NetSocketFd >= 0 || o.UserParent || fromTarget != 0 {
		if err := needPID(f, ""); err != nil {
			return sel, err
		}
	}
	if want == 0 && o.NetSocketFd < 0 && !o.UserParent {
		return sel, errorf(nil, "no namespace specified")
	}
	if r.inPlace && (want.Has(namespace.User) || want.Has(namespace.Time) || o.UserParent) {
		return sel, unsupportedf("--no-fork cannot enter a user or time namespace: the kernel lets only a single-threaded process join those, and nsx (a Go program) is multithreaded; drop -F and nsx forks a single-threaded child for them")
	}
	// The net namespace of a socket of the target (-N) replaces the
	// target's net namespace.
	if o.NetSocketFd >= 0 {
		if f.socket.err != nil {
			return sel, f.socket.err
		}
		fromTarget, want = fromTarget.Remove(namespace.Net), want.Add(namespace.Net)
	}
	if o.UserParent {
		if f.userParent.err != nil {
			return sel, f.userParent.err
		}
		fromTarget, want = fromTarget.Remove(namespace.User), want.Add(namespace.User)
	}
	// Explicitly entering one's own user namespace is an error the kernel
	// reports as EINVAL; say so before doing anything.
	if fromTarget.Has(namespace.User) {
		if id, err := f.targetIDOf(namespace.User); err == nil && id == f.ownIDOf(namespace.User) {
			return sel, joinError(syscall.EINVAL, "reassociate to namespace 'ns/user' failed")
		}
	}
	sel.want, sel.fromTarget = want, fromTarget
	return sel, nil
}

// nsName is a namespace as its /proc/PID/ns link names it, "net:[4026531840]".
// The plan's texts build it without fmt, whose first use costs nsx enter
// page faults for words only --explain shows.
func nsName(k namespace.Kind, id namespace.ID) string {
	return k.ProcName() + ":[" + strconv.FormatUint(uint64(id), 10) + "]"
}

// sameTimeNamespace reports whether -a can leave the time namespace out
// because the target's is nsx's own. Joining it would change nothing the
// program can observe (the clocks and their offsets are the same), but a
// time join needs a single-threaded process: a full fork instead of the
// vfork of the fast path. Most containers share the host's time namespace.
func sameTimeNamespace(f *facts, inPlace bool) (Skip, bool) {
	id, err := f.targetIDOf(namespace.Time)
	if err != nil || id == 0 || id != f.ownIDOf(namespace.Time) {
		return Skip{}, false
	}
	why := nsName(namespace.Time, id) + " is nsx's own: joining it would change nothing"
	if inPlace {
		why = nsName(namespace.Time, id) + " is nsx's own and --no-fork cannot join time namespaces"
	}
	return Skip{namespace.Time, why}, true
}

// plan decides everything a run does, from options and facts alone.
func plan(f *facts, r *request) (*Plan, error) {
	o := &r.opts
	if o.WorkDir && o.WdnsGiven {
		// util-linux refuses the pair as it parses the options.
		return nil, errorf(nil, "mutually exclusive arguments: --wdns --wd")
	}
	if f.gone {
		return nil, goneError(f.pid, o)
	}
	if o.Debug != nil {
		if err := debugRefused(o, f, r.inPlace); err != nil {
			return nil, err
		}
	}
	sel, err := selectKinds(f, r)
	if err != nil {
		return nil, err
	}
	p := &Plan{Target: f.desc, UID: -1, GID: -1, Skipped: sel.skipped}
	x := &p.exec
	want, fromTarget := sel.want, sel.fromTarget
	if err := planJoins(p, f, r, sel); err != nil {
		return nil, err
	}

	// A PID namespace applies to children: fork, unless told not to. The
	// parent joins it first, so that the child is born inside and can
	// exec the program itself.
	switch {
	case r.inPlace:
		p.ForkReason = "--no-fork"
	case want.Has(namespace.PID):
		p.Fork, p.ForkReason = true, "a PID namespace applies to children only"
		switch {
		case sel.fileKinds.Has(namespace.PID):
			x.prejoinPID = &join{from: joinFile, kinds: namespace.SetOf(namespace.PID)}
		case fromTarget.Has(namespace.PID) && f.pidfdSetns:
			x.prejoinPID = &join{from: joinPidfd, kinds: namespace.SetOf(namespace.PID)}
		default:
			// Not from a file, so from the target (want = fileKinds | fromTarget for PID).
			x.prejoinPID = &join{from: joinTargetFile, kinds: namespace.SetOf(namespace.PID)}
		}
	default:
		p.Fork, p.ForkReason = true, "nsx always runs the program in a single-threaded child; no PID namespace is entered"
	}

	if o.ReadOnly {
		// The root and working directory fds of -r and -w point into
		// the target's own namespace, not the copy.
		if !want.Has(namespace.Mount) {
			return nil, errorf(nil, "--read-only needs the mount namespace entered (-m or -a)")
		}
		if o.Root || o.WorkDir {
			return nil, unsupportedf("--read-only cannot be combined with --root or --wd: their directories are in the target's writable mounts, not in the read-only copy (use --wdns for a directory inside)")
		}
		x.readOnly, p.ReadOnly = true, true
	}
	if err := planDirs(p, f, o, want); err != nil {
		return nil, err
	}
	if o.Debug != nil {
		if f.debug.err != nil {
			return nil, f.debug.err
		}
		planDebug(p, f, o, want)
	}

	// Environment.
	p.Env = "nsx's own"
	if r.env != nil {
		p.Env = "given by the caller"
	}
	if o.TargetEnv {
		if err := needPID(f, ""); err != nil {
			return nil, err
		}
		if f.envErr != nil {
			return nil, f.envErr
		}
		p.Env = "the target's"
	}
	if len(o.SetEnv) > 0 {
		p.Env += ", with --setenv " + strings.Join(o.SetEnv, " ")
	}
	if o.Debug != nil {
		p.Env += ", plus NSX_TARGET and a PS1 naming the target"
	}
	x.env = programEnv(f, r)

	if o.JoinCgroup {
		if err := needPID(f, ""); err != nil {
			return nil, err
		}
		if f.cgroup.err != nil {
			return nil, f.cgroup.err
		}
		x.cgroup, p.Cgroup = true, f.cgroup.path
		if r.inPlace {
			return nil, unsupportedf("--join-cgroup with --no-fork is not supported: nsx starts the program directly in the cgroup (clone3 CLONE_INTO_CGROUP), which needs a fork")
		}
	}
	if err := planCredentials(p, f, o, want.Has(namespace.User)); err != nil {
		return nil, err
	}
	if err := planProgram(p, f, r); err != nil {
		return nil, err
	}
	return p, nil
}

// planJoins orders the joins: the target's kinds through its pidfd in one
// call per pass, then explicit files one by one; or every kind per file
// without setns on a pidfd. It lists the steps --explain shows.
func planJoins(p *Plan, f *facts, r *request, sel selection) error {
	o, x := &r.opts, &p.exec
	fromTarget := sel.fromTarget
	usePidfd := f.pidfdSetns && fromTarget != 0
	nonUser := fromTarget.Remove(namespace.User)
	failed := func(k namespace.Kind) string {
		return "reassociate to namespace 'ns/" + k.ProcName() + "' failed"
	}
	targetFile := func(k namespace.Kind) (join, error) {
		fd, ok := f.nsFds[k]
		if !ok {
			return join{}, errorf(nil, "cannot open /proc/%d/ns/%s", f.pid, k.ProcName())
		}
		return join{from: joinTargetFile, kinds: namespace.SetOf(k), failed: failed(k)}, fd.err
	}
	files := sel.fileKinds
	if o.NetSocketFd >= 0 {
		files = files.Add(namespace.Net)
	}
	p.Mechanism = "setns per namespace file"
	if usePidfd {
		p.Mechanism = "setns(pidfd) for the target's namespaces"
		if files != 0 {
			p.Mechanism += ", setns per file for the others"
		}
		if nonUser != 0 {
			x.tolerant = append(x.tolerant, join{from: joinPidfd, kinds: nonUser, failed: "reassociate to namespaces failed"})
		}
	} else {
		for _, k := range nonUser.Kinds() {
			j, err := targetFile(k)
			if err != nil {
				return err
			}
			x.tolerant = append(x.tolerant, j)
		}
	}
	for _, k := range namespace.All {
		if !files.Has(k) || k == namespace.User {
			continue
		}
		// The kind is passed so that a file of another kind is refused
		// (EINVAL), as util-linux does.
		from := joinFile
		if k == namespace.Net && o.NetSocketFd >= 0 {
			from = joinSocket
		}
		x.tolerant = append(x.tolerant, join{from: from, kinds: namespace.SetOf(k), failed: failed(k)})
	}
	user := namespace.SetOf(namespace.User)
	switch {
	case o.UserParent:
		x.user = &join{from: joinUserParent, kinds: user}
	case sel.fileKinds.Has(namespace.User):
		x.user = &join{from: joinFile, kinds: user}
	case fromTarget.Has(namespace.User) && usePidfd:
		x.user = &join{from: joinPidfd, kinds: user}
	case fromTarget.Has(namespace.User):
		j, err := targetFile(namespace.User)
		if err != nil {
			return err
		}
		x.user = &j
	}
	if x.user != nil {
		x.user.failed = failed(namespace.User)
	}

	// The steps --explain shows, in join order; their IDs are read later
	// (readIDs): only --explain shows them.
	order := sel.want.Remove(namespace.User).Kinds()
	if sel.want.Has(namespace.User) {
		order = append(order, namespace.User)
	}
	for _, k := range order {
		st := Step{Kind: k, Source: "target", from: joinTarget}
		switch {
		case k == namespace.User && o.UserParent:
			st.Source, st.from = "parent of the target's user namespace", joinUserParent
		case k == namespace.Net && o.NetSocketFd >= 0:
			st.Source, st.from = fmt.Sprintf("target's socket fd %d", o.NetSocketFd), joinSocket
		case sel.fileKinds.Has(k):
			st.from = joinFile
			if file, ok := o.Files[k]; ok {
				st.Source = "file " + file.Name()
			} else {
				st.Source = "file " + f.nsFileName
			}
		}
		p.Steps = append(p.Steps, st)
	}
	return nil
}

// planDirs decides the root and working directory.
func planDirs(p *Plan, f *facts, o *Options, want namespace.Set) error {
	x := &p.exec
	p.Root, p.Cwd = "unchanged", "unchanged"
	if want.Has(namespace.Mount) {
		p.Root, p.Cwd = "the mount namespace's root", "the mount namespace's root"
	}
	if o.Root {
		var err error
		if x.root, p.Root, err = planDir(f, o.RootDir, f.root, "the target's root"); err != nil {
			return err
		}
		x.checkCwd = true
		p.Cwd = "/ of the new root"
	}
	if o.WorkDir {
		var err error
		if x.cwd, p.Cwd, err = planDir(f, o.WorkDirFile, f.cwd, "the target's working directory"); err != nil {
			return err
		}
	}
	if o.ConfineCwd {
		x.checkCwd, x.cwdFromCaller = true, o.WorkDir
	}
	if o.WdnsEmpty {
		return errorf(syscall.ENOENT, "cannot open current working directory")
	}
	if o.WorkDirInNS != "" {
		x.wdnsPath = o.WorkDirInNS
		p.Cwd = o.WorkDirInNS + " (resolved after entering)"
	}
	return nil
}

// planDir picks the directory of -r or -w: the option's own file, else
// the target's, which the facts opened (or failed to).
func planDir(f *facts, file *os.File, target fdRead, what string) (dirFrom, string, error) {
	if file != nil {
		return dirOption, file.Name(), nil
	}
	if err := needPID(f, ""); err != nil {
		return 0, "", err
	}
	if target.err != nil {
		return 0, "", target.err
	}
	return dirTarget, what, nil
}

// planCredentials decides the uid, gid, groups and capabilities.
func planCredentials(p *Plan, f *facts, o *Options, userEntered bool) error {
	x := &p.exec
	x.uid, x.gid = -1, -1
	if userEntered && !o.PreserveCredentials {
		x.uid, x.gid, x.setGroups, x.dropGroupsEarly = 0, 0, true, true
	}
	if o.FollowUID || o.FollowGID {
		if err := needPID(f, ""); err != nil {
			return err
		}
		if f.follow.err != nil {
			return f.follow.err
		}
		if o.FollowUID {
			x.uid = f.follow.uid
		}
		if o.FollowGID {
			x.gid, x.setGroups = f.follow.gid, true
		}
	}
	if o.UID >= 0 {
		x.uid = o.UID
	}
	if o.GID >= 0 {
		x.gid, x.setGroups = o.GID, true
	}
	if o.As != "" {
		if f.as.err != nil {
			return f.as.err
		}
		x.uid, x.setGroups = f.as.uid, true
		if f.as.gid >= 0 {
			x.gid = f.as.gid
		}
	}
	// util-linux drops supplementary groups once before the joins, while
	// still privileged where it started, whenever it sets a group; the
	// second try in the entered user namespace fails only if both do.
	x.dropGroupsEarly = x.dropGroupsEarly || x.setGroups
	x.keepCaps = o.KeepCaps && userEntered
	p.UID, p.GID, p.DropGroups, p.KeepCaps = x.uid, x.gid, x.setGroups, x.keepCaps
	return nil
}

// planProgram decides the program and its arguments: the login shell when
// none is given, the debug default program.
func planProgram(p *Plan, f *facts, r *request) error {
	o, x := &r.opts, &p.exec
	path, argv := r.path, r.args
	if o.Debug != nil && path == "" {
		if f.debug.shell == "" {
			return errorf(nil, "toolbox %s is not a root filesystem: it has no /bin/sh; name the program to run", f.debug.toolbox)
		}
		path, argv = f.debug.shell, []string{f.debug.shell}
	}
	if path == "" && len(argv) == 0 {
		// The login shell comes from the program's environment: with -e
		// that is the target's, as util-linux 2.41 resets the
		// environment before it looks SHELL up.
		shell, ok := lookupEnv(x.env, "SHELL")
		if !ok {
			shell = "/bin/sh"
		}
		p.Shell = shell + " ($SHELL)"
		if !ok {
			p.Shell = shell + " ($SHELL is not set)"
		}
		if o.ShellFallback && shell != "/bin/sh" && f.shellMissing && f.shell == shell {
			// nsx enter: $SHELL is the caller's; the target may not
			// have it (a busybox container has no /bin/bash).
			p.Shell = fmt.Sprintf("/bin/sh ($SHELL %s does not exist in the target)", shell)
			shell = "/bin/sh"
		}
		path, argv = shell, []string{"-" + filepath.Base(shell)}
	} else if len(argv) == 0 {
		argv = []string{path}
	}
	x.path, x.argv = path, argv
	p.Program = argv
	return nil
}

// programEnv is the program's environment: the caller's, the target's
// (-e) or nsx's own, with --setenv applied and, for debug, the variables
// naming the target.
func programEnv(f *facts, r *request) []string {
	o := &r.opts
	env := r.env
	if o.TargetEnv {
		env = f.env
	} else if env == nil {
		env = f.ownEnv
	}
	if len(o.SetEnv) > 0 {
		env = setEnv(env, o.SetEnv)
	}
	if o.Debug != nil {
		env = debugEnv(env, f.ref)
	}
	return env
}

// goneError is util-linux's message for a target PID that does not exist:
// it names the first file of the target it would have failed to open.
func goneError(pid int, o *Options) error {
	e := errorf(syscall.ESRCH, "failed to pidfd_open() for %d", pid)
	enoent := func(format string, args ...any) {
		e = errorf(syscall.ENOENT, format, args...)
	}
	switch {
	case o.All:
		enoent("stat of /proc/%d/ns/user failed", pid)
	case o.Kinds&^kindsOf(o.Files) != 0:
		for _, k := range namespace.All {
			if _, file := o.Files[k]; o.Kinds.Has(k) && !file {
				enoent("cannot open /proc/%d/ns/%s", pid, k.ProcName())
				break
			}
		}
	case o.Root && o.RootDir == nil:
		enoent("cannot open /proc/%d/root", pid)
	case o.WorkDir && o.WorkDirFile == nil:
		enoent("cannot open /proc/%d/cwd", pid)
	case o.TargetEnv:
		enoent("cannot open /proc/%d/environ", pid)
	}
	e.Kind = ErrTargetGone
	return e
}

func kindsOf[V any](m map[namespace.Kind]V) namespace.Set {
	var s namespace.Set
	for k := range m {
		s = s.Add(k)
	}
	return s
}

// lookupEnv finds a variable in an environment list; the first one wins,
// as with getenv(3).
func lookupEnv(env []string, name string) (string, bool) {
	for i := range env {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v, true
		}
	}
	return "", false
}
