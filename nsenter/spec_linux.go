package nsenter

import (
	"errors"
	"syscall"

	"github.com/nsxproject/nsx/internal/spawn"
	"github.com/nsxproject/nsx/namespace"
)

// build is one prepared run: the facts (owning the fds the spec names), the
// plan made from them and the spawn spec made from the plan.
type build struct {
	facts *facts
	plan  *Plan
	spec  *spawn.Spec
	// joins are the plan's joins in the spec's order (Tolerant, then
	// User), so that a failed join is named as the plan names it.
	joins []join
}

// build gathers the facts for c, plans and makes the spawn spec. With
// perFile the target's namespaces are joined one file at a time, never
// through the pidfd.
func (c *Cmd) build(inPlace, perFile bool) (*build, error) {
	r := &request{opts: c.Options.effective(), inPlace: inPlace, path: c.Path, args: c.Args, env: c.Env}
	f := gatherFacts(c.Target, r, perFile)
	p, err := plan(f, r)
	if err != nil {
		f.Close()
		return nil, err
	}
	b := &build{facts: f, plan: p}
	b.spec, b.joins = specFrom(p, f, &r.opts)
	return b, nil
}

func (b *build) close() { b.facts.Close() }

// readIDs fills in the plan's namespace IDs (Plan, the audit record).
func (b *build) readIDs() { b.facts.readIDs(b.plan) }

// newSpec is a spawn spec that changes nothing: every fd and id unset.
func newSpec() *spawn.Spec {
	return &spawn.Spec{PrejoinPID: -1, RootFd: -1, CwdFd: -1, CgroupFd: -1, UID: -1, GID: -1, Stdio: [3]int{-1, -1, -1}}
}

// specFrom makes the spawn spec a plan describes, with the fds of the facts.
func specFrom(p *Plan, f *facts, o *Options) (*spawn.Spec, []join) {
	x := &p.exec
	s := newSpec()
	var joins []join
	for _, j := range x.tolerant {
		s.Tolerant = append(s.Tolerant, spawnJoin(f, j))
		joins = append(joins, j)
	}
	if x.user != nil {
		u := spawnJoin(f, *x.user)
		s.User = &u
		joins = append(joins, *x.user)
	}
	if x.prejoinPID != nil {
		j := spawnJoin(f, *x.prejoinPID)
		s.PrejoinPID, s.PIDMask = j.Fd, j.Mask
	}
	s.ReadOnly = x.readOnly
	switch x.root {
	case dirOption:
		s.RootFd = int(o.RootDir.Fd())
	case dirTarget:
		s.RootFd = f.root.fd
	}
	switch x.cwd {
	case dirOption:
		s.CwdFd = int(o.WorkDirFile.Fd())
	case dirTarget:
		s.CwdFd = f.cwd.fd
	}
	s.CheckCwd, s.WdnsPath = x.checkCwd, x.wdnsPath
	if x.cgroup {
		s.CgroupFd = f.cgroup.fd
	}
	if x.debug {
		d := &f.debug
		s.Debug = &spawn.DebugRoot{
			TargetMntFd: d.mnt, TargetRootFd: d.root, OwnMntFd: d.ownMnt,
			Toolbox: d.toolbox, Writable: o.Debug.Writable, MountPoint: DebugMountPoint,
		}
	}
	s.UID, s.GID, s.SetGroups, s.DropGroupsEarly, s.KeepCaps = x.uid, x.gid, x.setGroups, x.dropGroupsEarly, x.keepCaps
	s.NoDump = true
	// The relaying process, when there is one, is as invisible as nsx.
	s.ForwardSignals = true
	s.Path, s.Argv, s.Env = x.path, x.argv, x.env
	return s, joins
}

// spawnJoin is the setns a join of the plan makes.
func spawnJoin(f *facts, j join) spawn.Join {
	fd := -1
	k := namespace.Kind(j.kinds)
	switch j.from {
	case joinPidfd, joinTarget:
		fd = f.pidfdFd
	case joinTargetFile:
		fd = f.nsFds[k].fd
	case joinFile:
		fd = f.files[k]
	case joinSocket:
		fd = f.socket.fd
	case joinUserParent:
		fd = f.userParent.fd
	}
	return spawn.Join{Fd: fd, Mask: uint32(j.kinds)}
}

// pidfdJoinFailed reports whether err is a join through the pidfd failing
// with errno.
func (b *build) pidfdJoinFailed(err error, errno syscall.Errno) bool {
	var ce *spawn.ChildError
	if !errors.As(err, &ce) || ce.Stage != spawn.StageJoin || ce.Errno != errno {
		return false
	}
	return ce.Index >= 0 && ce.Index < len(b.joins) && b.joins[ce.Index].from == joinPidfd
}

// childError words a failure of the child as util-linux does.
func (b *build) childError(err error) error {
	var de *spawn.DebugError
	if errors.As(err, &de) {
		return errorf(nil, "debug: cannot %s: %s", de.Step, debugCause(de.Err))
	}
	var ce *spawn.ChildError
	if !errors.As(err, &ce) {
		return err
	}
	e := ce.Errno
	switch ce.Stage {
	case spawn.StageJoin:
		if ce.Index >= 0 && ce.Index < len(b.joins) {
			return joinError(e, b.joins[ce.Index].failed)
		}
		return joinError(e, "reassociate to namespaces failed")
	case spawn.StagePrivateMounts:
		return errorf(e, "--read-only: cannot make a private copy of the mount namespace")
	case spawn.StageReadOnly:
		return errorf(e, "--read-only: cannot make the mounts read-only")
	case spawn.StageRootDir:
		return errorf(e, "change directory by root file descriptor failed")
	case spawn.StageChroot:
		return errorf(e, "chroot failed")
	case spawn.StageChdirRoot:
		return errorf(e, "cannot change directory to /")
	case spawn.StageWdns:
		if e == syscall.ENOTDIR {
			// util-linux opens the path and then fchdirs to it, so a
			// file that is not a directory fails at the second step.
			return errorf(e, "change directory by working directory file descriptor failed")
		}
		return errorf(e, "cannot open current working directory")
	case spawn.StageCwd:
		return errorf(e, "change directory by working directory file descriptor failed")
	case spawn.StageCwdEscape:
		if b.plan.exec.cwdFromCaller {
			return errorf(nil, "the working directory given with -w/--wd is outside the program's root directory; for a directory inside the target use -W/--wdns DIR")
		}
		return errorf(nil, "the working directory is outside the root directory: refusing to run the program there")
	case spawn.StageCgroup:
		return errorf(e, "write cgroup.procs failed")
	case spawn.StageFork:
		return errorf(e, "fork failed")
	case spawn.StageSetgroups:
		return errorf(e, "setgroups failed")
	case spawn.StageSetgid:
		return errorf(e, "setgid() failed")
	case spawn.StageSetuid:
		return errorf(e, "setuid() failed")
	case spawn.StageCapget:
		return errorf(e, "capget failed")
	case spawn.StageCapset:
		return errorf(e, "capset failed")
	case spawn.StageAmbient:
		return errorf(e, "prctl(PR_CAP_AMBIENT) failed")
	case spawn.StageStdio:
		return errorf(e, "cannot set up standard streams")
	case spawn.StageDebugProc:
		return errorf(e, "debug: cannot mount /proc of the target's PID namespace")
	case spawn.StageExec:
		return &Error{Op: "failed to execute " + b.plan.exec.path, Kind: ErrExec, Path: b.plan.exec.path, Err: e}
	}
	return err
}
