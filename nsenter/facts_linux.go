package nsenter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/errtext"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/procfs"
	"github.com/nsxproject/nsx/target"
)

// targetPidfd is the pidfd a join through the target's pidfd uses; a
// test stands in for a kernel whose setns refuses pidfds by swapping it.
var targetPidfd = (*target.Pinned).Pidfd

// gatherFacts reads, opens and looks up everything the plan for r depends
// on that costs a system call, so that plan itself can be pure. A read that
// fails is recorded with its error, worded as util-linux words it, rather
// than returned: which failure a user sees first is the plan's decision, as
// it is util-linux's order of checks. The fds it opens belong to the facts
// (Close).
//
// It reads only what the options make the plan look at: the namespace IDs
// that --explain alone shows are read later by readIDs, off Start's path.
// With perFile the target's namespace files are opened one by one instead
// of joining through the pidfd (a kernel whose setns refuses pidfds).
func gatherFacts(t *target.Pinned, r *request, perFile bool) *facts {
	o := &r.opts
	f := &facts{
		t: t, own: map[namespace.Kind]namespace.ID{}, ids: map[namespace.Kind]idRead{},
		files: map[namespace.Kind]int{}, nsFds: map[namespace.Kind]fdRead{},
	}
	if o.All {
		// Only -a asks which kinds the kernel has.
		f.supported = namespace.Supported()
	}
	for k, file := range o.Files {
		f.files[k] = int(file.Fd())
	}
	if t != nil {
		f.pid = t.PID()
		f.ref = t.Ref().String()
		f.desc = f.ref
		if t.Container() != nil {
			f.container = true
			c := t.Container()
			f.desc += " (" + c.Runtime + " " + c.ShortID() + ", PID " + strconv.Itoa(t.PID()) + ", found by " + c.Source + ")"
		} else if t.PID() != 0 {
			f.desc = "PID " + strconv.Itoa(t.PID())
		}
		if fd, kind, ok := t.NamespaceFile(); ok {
			f.nsFile, f.nsFileKind, f.nsFileName = true, kind, t.Ref().Path
			f.files[kind] = fd
		}
		f.pidfdFd = targetPidfd(t)
		f.pidfdSetns = f.pidfdFd >= 0 && !perFile
	}
	f.gatherOwnEnv(r)
	if f.pid == 0 {
		// Nothing of a process to read; the files the program's root
		// gives are looked at all the same.
		if sel, err := selectKinds(f, r); err == nil {
			f.gatherRootLookups(r, sel.want)
		}
		return f
	}

	// Namespace IDs the choice of kinds depends on.
	need := namespace.Set(0)
	if o.All {
		need = need.Add(namespace.User).Add(namespace.Time)
		if f.container {
			need = namespace.AllKinds
		}
	}
	if o.Kinds.Has(namespace.User) {
		need = need.Add(namespace.User)
	}
	for _, k := range need.Kinds() {
		f.readTargetID(k)
		f.readOwnID(k)
	}

	if o.NetSocketFd >= 0 {
		f.socket.fd, f.socket.err = socketNetns(t, o.NetSocketFd)
		f.keep(f.socket.fd)
	}
	if o.UserParent {
		f.userParent = f.openUserParent()
	}
	sel, err := selectKinds(f, r)
	if err != nil {
		// The plan fails there or earlier; nothing later is looked at.
		return f
	}
	if !f.pidfdSetns {
		kinds := sel.fromTarget.Remove(namespace.User).Kinds()
		if sel.fromTarget.Has(namespace.User) {
			kinds = append(kinds, namespace.User)
		}
		for _, k := range kinds {
			fd, err := t.OpenNS(k)
			if err != nil {
				f.nsFds[k] = fdRead{fd: -1, err: errorf(unwrapErrno(err), "cannot open /proc/%d/ns/%s", t.PID(), k.ProcName())}
				break // the plan stops at the first that fails
			}
			f.nsFds[k] = fdRead{fd: f.keep(fd)}
		}
	}
	if o.Root && o.RootDir == nil {
		f.root = f.openTargetDir("root")
	}
	if o.WorkDir && o.WorkDirFile == nil {
		f.cwd = f.openTargetDir("cwd")
	}
	if o.Debug != nil {
		f.gatherDebug(r)
	}
	if o.TargetEnv {
		f.env, f.envErr = targetEnviron(t)
	}
	if o.JoinCgroup {
		f.cgroup.fd, f.cgroup.path, f.cgroup.err = targetCgroup(t)
		f.keep(f.cgroup.fd)
	}
	if o.FollowUID || o.FollowGID {
		f.follow.uid, f.follow.gid, f.follow.err = followIDs(t, sel.want.Has(namespace.User))
	}
	f.gatherRootLookups(r, sel.want)
	return f
}

// gatherRootLookups looks up, as the program will see the file system,
// the --as names and whether the login shell exists.
func (f *facts) gatherRootLookups(r *request, want namespace.Set) {
	o := &r.opts
	if o.As != "" {
		root, err := programRoot(o, f.t, want)
		if err != nil {
			f.as.err = errorf(unwrapErrno(err), "--as %s: cannot open the program's root", o.As)
		} else {
			f.as.uid, f.as.gid, f.as.err = resolveAs(root, o.As)
			if root >= 0 {
				unix.Close(root)
			}
		}
	}
	if r.path != "" || len(r.args) != 0 || !o.ShellFallback || o.Debug != nil {
		return
	}
	shell, ok := lookupEnv(programEnv(f, r), "SHELL")
	if !ok || shell == "/bin/sh" {
		return
	}
	f.shell = shell
	if root, err := programRoot(o, f.t, want); err == nil && root >= 0 {
		f.shellMissing = !existsInRoot(root, shell)
		unix.Close(root)
	}
}

// facts are what a plan depends on that costs a system call: the target's
// identity and the namespaces, files and ids of it the options refer to.
// Fields a plan does not need are left zero. Errors are final messages.
type facts struct {
	t *target.Pinned // for the reads of readIDs only; plan never uses it

	pid        int    // the target process, 0 for none
	gone       bool   // the target process was named but does not exist
	ref, desc  string // as the user named it; as --explain names it
	container  bool   // resolved from a container
	nsFile     bool   // a namespace-file target
	nsFileKind namespace.Kind
	nsFileName string
	// pidfdSetns: the target is pinned by a pidfd (pidfdFd) and setns
	// through it is used (false on kernels that refuse it, see Start).
	pidfdSetns bool
	pidfdFd    int
	supported  namespace.Set

	own   map[namespace.Kind]namespace.ID // nsx's own namespaces read so far
	ids   map[namespace.Kind]idRead       // the target's namespaces read so far
	files map[namespace.Kind]int          // namespace files: Options.Files, the namespace-file target
	nsFds map[namespace.Kind]fdRead       // the target's namespace files, without setns(pidfd)

	socket     fdRead // -N: the socket's net namespace
	userParent fdRead // --user-parent
	root, cwd  fdRead // -r, -w of the target

	env    []string // -e: the target's environment, as nsenter builds it
	envErr error
	ownEnv []string // nsx's own environment, when the program gets it

	cgroup struct {
		fd   int
		path string
		err  error
	}
	follow, as struct {
		uid, gid int
		err      error
	}
	shell        string // the login shell looked for in the program's root
	shellMissing bool   // it does not exist there (ShellFallback)

	debug struct {
		toolbox           string
		err               error
		mnt, root, ownMnt int
		shell             string // the default program found in the toolbox
	}

	fds []int
}

type idRead struct {
	id  namespace.ID
	err error
}

type fdRead struct {
	fd  int
	err error
}

// Close closes the fds the facts opened.
func (f *facts) Close() {
	for _, fd := range f.fds {
		unix.Close(fd)
	}
	f.fds = nil
}

func (f *facts) keep(fd int) int {
	if fd >= 0 {
		f.fds = append(f.fds, fd)
	}
	return fd
}

func (f *facts) readOwnID(k namespace.Kind) namespace.ID {
	if id, ok := f.own[k]; ok {
		return id
	}
	id, _ := namespace.StatPath("/proc/self/ns/" + k.ProcName())
	f.own[k] = id
	return id
}

func (f *facts) readTargetID(k namespace.Kind) idRead {
	if r, ok := f.ids[k]; ok {
		return r
	}
	var r idRead
	r.id, r.err = statTargetNS(f.t, k)
	f.ids[k] = r
	return r
}

// statTargetNS reads the ID of the target's namespace of kind k with one
// stat relative to the pinned /proc/PID, which follows the ns link as
// opening it does, and fails with the errno OpenNS would.
func statTargetNS(t *target.Pinned, k namespace.Kind) (namespace.ID, error) {
	name := "ns/" + k.ProcName()
	if t.ProcDir() < 0 {
		return 0, fmt.Errorf("%s: target has no process", name)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(t.ProcDir(), name, &st, 0); err != nil {
		return 0, &os.PathError{Op: "stat", Path: procfs.Root + "/" + strconv.Itoa(t.PID()) + "/" + name, Err: err}
	}
	return namespace.ID(st.Ino), nil
}

func (f *facts) openTargetDir(name string) fdRead {
	fd, err := f.t.OpenAt(name, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fdRead{fd: -1, err: errorf(unwrapErrno(err), "cannot open /proc/%d/%s", f.pid, name)}
	}
	return fdRead{fd: f.keep(fd)}
}

func (f *facts) openUserParent() fdRead {
	src, ok := f.files[namespace.User]
	if !ok {
		fd, err := f.t.OpenNS(namespace.User)
		if err != nil {
			return fdRead{fd: -1, err: errorf(unwrapErrno(err), "failed to open parent namespace")}
		}
		src = f.keep(fd)
	}
	fd, err := namespace.ParentFd(src)
	if err != nil {
		return fdRead{fd: -1, err: errorf(err, "failed to open parent namespace")}
	}
	return fdRead{fd: f.keep(fd)}
}

// gatherDebug opens what the debug mount namespace is built from, in nsx's
// own namespaces, and finds the default program in the toolbox when no
// program is named.
func (f *facts) gatherDebug(r *request) {
	o, d := &r.opts, &f.debug
	d.mnt, d.root, d.ownMnt = -1, -1, -1
	toolbox := o.Debug.Toolbox
	if toolbox == "" {
		toolbox = "/"
	}
	toolbox, err := filepath.Abs(toolbox)
	if err != nil {
		d.err = errorf(err, "toolbox %s", o.Debug.Toolbox)
		return
	}
	d.toolbox = toolbox
	if st, err := os.Stat(toolbox); err != nil {
		d.err = errorf(unwrapErrno(err), "cannot open toolbox %s", toolbox)
		return
	} else if !st.IsDir() {
		d.err = errorf(nil, "toolbox %s is not a directory", toolbox)
		return
	}
	mnt, err := f.t.OpenNS(namespace.Mount)
	if err != nil {
		d.err = errorf(unwrapErrno(err), "cannot open /proc/%d/ns/mnt", f.pid)
		return
	}
	d.mnt = f.keep(mnt)
	root, err := f.t.OpenAt("root", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		d.err = errorf(unwrapErrno(err), "cannot open /proc/%d/root", f.pid)
		return
	}
	d.root = f.keep(root)
	own, err := unix.Open("/proc/self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		d.err = errorf(err, "cannot open /proc/self/ns/mnt")
		return
	}
	d.ownMnt = f.keep(own)
	if r.path != "" {
		// planProgram runs the named program; the default is not looked at.
		return
	}
	for _, sh := range []string{os.Getenv("SHELL"), "/bin/sh"} {
		if sh != "" && inToolbox(toolbox, sh) {
			d.shell = sh
			break
		}
	}
}

// readIDs fills in the namespace IDs of the plan's steps, which only
// --explain and the audit record show.
func (f *facts) readIDs(p *Plan) {
	for i := range p.Steps {
		s := &p.Steps[i]
		s.Own = f.readOwnID(s.Kind)
		var err error
		switch fd := f.stepFd(s); {
		case fd >= 0:
			s.ID, err = namespace.Stat(fd)
		case f.t != nil && f.pid != 0:
			r := f.readTargetID(s.Kind)
			s.ID, err = r.id, r.err
		default:
			err = syscall.EBADF
		}
		if err != nil {
			s.IDErr = errtext.Strerror(unwrapErrno(err))
		}
	}
	if d := p.Debug; d != nil && p.exec.debugPIDFromTarget && f.pid != 0 {
		if r := f.readTargetID(namespace.PID); r.err == nil {
			d.PIDNS = "the target's PID namespace " + nsName(namespace.PID, r.id)
		}
	}
}

// stepFd is the fd a step joins from, or -1 for the target's own.
func (f *facts) stepFd(s *Step) int {
	switch s.from {
	case joinUserParent:
		return f.userParent.fd
	case joinSocket:
		return f.socket.fd
	case joinFile:
		return f.files[s.Kind]
	}
	return -1
}

// gatherOwnEnv keeps nsx's own environment when the program gets it.
func (f *facts) gatherOwnEnv(r *request) {
	if r.env == nil && !r.opts.TargetEnv {
		f.ownEnv = os.Environ()
	}
}

// unwrapErrno returns the errno inside err, for util-linux style messages
// that print the path themselves.
func unwrapErrno(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// socketNetns returns the net namespace of the target's socket fd.
func socketNetns(t *target.Pinned, fd int) (int, error) {
	if t.Pidfd() < 0 {
		return -1, errorf(nil, "failed to pidfd_open() for %d", t.PID())
	}
	sock, err := unix.PidfdGetfd(t.Pidfd(), fd, 0)
	if err != nil {
		return -1, errorf(err, "pidfd_getfd(%d, %d)", t.Pidfd(), fd)
	}
	defer unix.Close(sock)
	var st unix.Stat_t
	if err := unix.Fstat(sock, &st); err != nil {
		return -1, errorf(err, "fstat(%d)", sock)
	}
	ns, err := unix.IoctlRetInt(sock, unix.SIOCGSKNS)
	if err != nil {
		return -1, errorf(err, "ioctl(%d, SIOCGSKNS)", sock)
	}
	return ns, nil
}

// targetEnviron reads the target's environment the way nsenter -e builds
// it: entries without '=' dropped, the last of duplicates winning, and the
// result in reverse order of the entries.
func targetEnviron(t *target.Pinned) ([]string, error) {
	data, err := t.ReadFile("environ")
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Op == "open" {
		return nil, errorf(pe.Err, "cannot open /proc/%d/environ", t.PID())
	} else if err != nil {
		return nil, errorf(unwrapErrno(err), "failed to get environment variables")
	}
	entries := strings.Split(string(data), "\x00")
	seen := map[string]bool{}
	env := []string{}
	for i := len(entries) - 1; i >= 0; i-- {
		name, _, ok := strings.Cut(entries[i], "=")
		if !ok {
			continue
		}
		if name == "" {
			return nil, errorf(unix.EINVAL, "failed to set environment variables")
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		env = append(env, entries[i])
	}
	return env, nil
}

// targetCgroup opens the target's cgroup v2 directory. On a hybrid host the
// v2 hierarchy is mounted elsewhere than /sys/fs/cgroup; nsx finds it.
func targetCgroup(t *target.Pinned) (int, string, error) {
	data, err := t.ReadFile("cgroup")
	if err != nil {
		return -1, "", errorf(unwrapErrno(err), "failed to get cgroup path")
	}
	lines, err := procfs.ParseCgroup(string(data))
	if err != nil {
		return -1, "", errorf(err, "failed to get cgroup path")
	}
	rel, ok := procfs.UnifiedPath(lines)
	if !ok {
		return -1, "", unsupportedf("--join-cgroup is only supported in cgroup v2")
	}
	mnt, mntRoot, err := cgroup2Mount()
	if err != nil {
		return -1, "", err
	}
	under, ok := cgroupUnder(mntRoot, rel)
	if !ok {
		return -1, "", errorf(nil, "the target's cgroup %s is not below the cgroup2 mount at %s (its root is %s)", rel, mnt, mntRoot)
	}
	path := filepath.Join(mnt, under)
	dir, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", errorf(err, "failed to open %s", path)
	}
	return dir, path, nil
}

func cgroup2Mount() (mountPoint, root string, err error) {
	mounts, err := procfs.ReadMountinfo(0)
	if err != nil {
		return "", "", errorf(unwrapErrno(err), "statfs /sys/fs/cgroup failed")
	}
	m, ok := visibleCgroup2(mounts)
	if !ok {
		return "", "", unsupportedf("--join-cgroup is only supported in cgroup v2")
	}
	return m.MountPoint, m.Root, nil
}

// visibleCgroup2 picks the cgroup2 mount a path lookup reaches: the last
// one in mountinfo order (later mounts stack on earlier ones) that no later
// mount covers, at its own mount point or above it.
func visibleCgroup2(mounts []procfs.Mount) (procfs.Mount, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		m := mounts[i]
		if m.FSType != "cgroup2" {
			continue
		}
		covered := false
		for _, later := range mounts[i+1:] {
			if later.MountPoint == m.MountPoint || later.MountPoint == "/" ||
				strings.HasPrefix(m.MountPoint, later.MountPoint+"/") {
				covered = true
				break
			}
		}
		if !covered {
			return m, true
		}
	}
	return procfs.Mount{}, false
}

// cgroupUnder maps a cgroup path (as /proc/PID/cgroup gives it) to a path
// below a cgroup2 mount whose root is mountRoot; ok is false when the mount
// does not show that cgroup.
func cgroupUnder(mountRoot, cgroup string) (string, bool) {
	if mountRoot == "/" || mountRoot == "" {
		return cgroup, true
	}
	if cgroup == mountRoot {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(cgroup, mountRoot+"/"); ok {
		return "/" + rest, true
	}
	return "", false
}

// followIDs returns the owner of the target's /proc entry, as seen from the
// target's user namespace when that is entered (-S follow, -G follow).
func followIDs(t *target.Pinned, mapped bool) (int, int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(t.ProcDir(), &st); err != nil {
		return -1, -1, errorf(err, "stat of /proc/%d failed", t.PID())
	}
	uid, gid := int(st.Uid), int(st.Gid)
	if !mapped {
		return uid, gid, nil
	}
	return mapID(t, "uid_map", uid), mapID(t, "gid_map", gid), nil
}

// mapID maps a host id into the target's user namespace; unmapped ids show
// as the overflow id 65534, as the kernel shows them.
func mapID(t *target.Pinned, file string, id int) int {
	data, err := t.ReadFile(file)
	if err != nil {
		return 65534
	}
	m, err := procfs.ParseIDMap(string(data))
	if err != nil {
		return 65534
	}
	if inside, ok := m.ToInside(uint32(id)); ok {
		return int(inside)
	}
	return 65534
}
