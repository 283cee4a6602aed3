package nsenter

import (
	"os"

	"github.com/nsxproject/nsx/namespace"
)

// Options say what to enter and how, mirroring util-linux nsenter's options.
// Files and directories are passed open, because nsenter opens them when it
// parses its arguments, relative to the caller's root and namespaces.
type Options struct {
	// Kinds are the target's namespaces to enter (-m, -u, …).
	Kinds namespace.Set
	// All enters every namespace of the target (-a), except kinds this
	// kernel lacks, a user namespace equal to the caller's and kinds given
	// in Files.
	All bool
	// Files are namespace files to enter instead of the target's (-nFILE).
	Files map[namespace.Kind]*os.File
	// NetSocketFd, when >= 0, enters the network namespace of the target's
	// socket with that fd number (-N).
	NetSocketFd int
	// UserParent enters the parent of the target's user namespace.
	UserParent bool

	// UID and GID, when >= 0, are set in the entered namespaces (-S, -G);
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
}

// DefaultOptions returns options with no namespace selected and every
// numeric field unset.
func DefaultOptions() Options {
	return Options{UID: -1, GID: -1, NetSocketFd: -1}
}
