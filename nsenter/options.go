package nsenter

import (
	"os"

	"github.com/nsxproject/nsx/namespace"
)

// Options say what to enter and how, mirroring util-linux nsenter's options.
// Files and directories are passed open, because nsenter opens them when it
// parses its arguments, relative to the caller's root and namespaces.
//
// The zero value, with only Kinds set, enters exactly those namespaces of
// the target and changes nothing else: no socket's network namespace, no
// uid or gid (beyond becoming root in an entered user namespace, as
// nsenter does), no root or working directory. In such a literal a UID,
// GID or NetSocketFd of 0 means unset, so to set uid 0, gid 0 or name
// socket fd 0 start from DefaultOptions, where -1 means unset and 0 is a
// value:
//
//	opts := nsenter.DefaultOptions()
//	opts.Kinds = namespace.SetOf(namespace.Net)
//	opts.UID = 0
type Options struct {
	// Kinds are the target's namespaces to enter (-m, -u, …).
	Kinds namespace.Set
	// All enters every namespace of the target (-a), except kinds this
	// kernel lacks, a user namespace equal to the caller's and kinds given
	// in Files.
	All bool
	// Files are namespace files to enter instead of the target's (-nFILE).
	Files map[namespace.Kind]*os.File
	// NetSocketFd, when set (see the zero value above), enters the network
	// namespace of the target's socket with that fd number (-N).
	NetSocketFd int
	// UserParent enters the parent of the target's user namespace.
	UserParent bool

	// UID and GID, when set (see the zero value above), are set in the
	// entered namespaces (-S, -G);
	// FollowUID and FollowGID take them from the target's owner.
	UID, GID             int
	FollowUID, FollowGID bool
	// PreserveCredentials keeps the caller's uid and gid when entering a
	// user namespace, instead of becoming root there.
	PreserveCredentials bool
	// KeepCaps keeps the capabilities gained in an entered user namespace
	// across the exec, as ambient capabilities.
	KeepCaps bool

	// Root changes the root directory: to RootDir when set, else to the
	// target's root (-r).
	Root    bool
	RootDir *os.File
	// WorkDir changes the working directory: to WorkDirFile when set, else
	// to the target's (-w). WorkDirInNS is a path resolved after entering
	// (-W).
	WorkDir     bool
	WorkDirFile *os.File
	WorkDirInNS string
	WdnsGiven   bool
	// WdnsEmpty is an empty -W=/--wdns=, which util-linux fails to open.
	WdnsEmpty bool
	// ConfineCwd refuses to start the program when its working directory,
	// however it was chosen (-w, inherited), is not inside the root it
	// gets, where any process sharing its namespaces could follow
	// /proc/PID/cwd out of that root. util-linux checks nothing, and nsx
	// checks only with -r, when it is false (the nsenter personality).
	ConfineCwd bool

	// ReadOnly runs the program in a private copy of the target's mount
	// namespace in which every mount is read-only: it can look at the
	// target's files but not change them, and the target's own mounts are
	// left as they were. It needs the mount namespace entered.
	ReadOnly bool

	// What docker exec users expect (nsx enter's --as, --setenv and the
	// shell fallback; --workdir is WorkDirInNS):
	//
	// As is USER[:GROUP], names looked up in the target's /etc/passwd
	// and /etc/group through the program's root; it sets the uid and gid
	// and drops supplementary groups.
	As string
	// SetEnv are KEY=VALUE entries added to the program's environment,
	// replacing entries of the same name.
	SetEnv []string
	// ShellFallback runs /bin/sh when no program is given and $SHELL does
	// not exist as the program will see the file system.
	ShellFallback bool

	// TargetEnv runs the program with the target's environment (-e).
	TargetEnv bool
	// JoinCgroup starts the program in the target's cgroup v2 (-c).
	JoinCgroup bool
	// NoFork executes the program in place of this process (-F).
	NoFork bool
	// FollowContext is -Z (SELinux).
	FollowContext bool

	// Audit records the run in the audit trail root configures in
	// /etc/nsx/nsx.conf (see nsx.conf(5)): Start writes a start record
	// just before the program runs, Wait an end record with its exit
	// status or signal. Start fails, having entered nothing, when that
	// file is invalid or not root's, or when audit-required is set there
	// and the start record cannot be written; any other failed write is
	// reported on os.Stderr and changes nothing. With NoFork (Exec) only
	// the start record is written. nsx's commands always set it.
	Audit bool

	// Debug, when set, runs the program with the target's namespaces but
	// in a new mount namespace of nsx's making, with the target's files at
	// /target (nsx debug); see DebugOptions and the Debug constructor.
	Debug *DebugOptions

	// zeroIsValue is set by DefaultOptions: its UID, GID and NetSocketFd
	// are -1 when unset, so 0 is a value. Without it 0 is unset, because
	// a literal that does not mention those fields must not mean "socket
	// fd 0, setuid 0".
	zeroIsValue bool
}

// DefaultOptions returns options with no namespace selected and every
// numeric field unset (-1), so that 0 can then be given as a uid, gid or
// socket fd.
func DefaultOptions() Options {
	return Options{UID: -1, GID: -1, NetSocketFd: -1, zeroIsValue: true}
}

// effective returns o with the numeric fields that mean unset at -1, the
// form the build reads.
func (o Options) effective() Options {
	if !o.zeroIsValue {
		for _, f := range []*int{&o.UID, &o.GID, &o.NetSocketFd} {
			if *f == 0 {
				*f = -1
			}
		}
	}
	return o
}

// NeedsTarget reports whether the options refer to a target: a namespace,
// directory, environment, cgroup, owner or socket of it. Without one, every
// namespace comes from Options.Files.
func (o Options) NeedsTarget() bool {
	o = o.effective()
	for _, k := range o.Kinds.Kinds() {
		if _, ok := o.Files[k]; !ok {
			return true
		}
	}
	return o.All || (o.Root && o.RootDir == nil) || (o.WorkDir && o.WorkDirFile == nil) ||
		o.TargetEnv || o.FollowUID || o.FollowGID || o.JoinCgroup || o.NetSocketFd >= 0 || o.UserParent || o.FollowContext
}

// MissingTargetError is the error for these options when the target PID
// names no process, as util-linux nsenter reports it: naming the first file
// of the target it would have failed to open, or the pidfd it could not
// get. Its kind is ErrTargetGone.
func (o Options) MissingTargetError(pid int) error {
	f := &facts{pid: pid, gone: true}
	_, err := plan(f, &request{opts: o.effective()})
	return err
}
