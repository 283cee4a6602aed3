package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/nsxproject/nsx/internal/getopt"
	"github.com/nsxproject/nsx/nsenter"
)

func init() {
	register(&Command{
		Name:    "debug",
		Summary: "run host tools in a container's namespaces, its files at /target",
		Run:     runDebug,
		Help:    debugHelp,
	})
}

// debugOptions are nsx debug's own options, beside the enter options it
// accepts.
var debugOptions = []getopt.Option{
	{Long: "explain"},
	{Long: "runtime-endpoint", Arg: getopt.RequiredArg},
	{Long: "rw"},
	{Long: "toolbox", Arg: getopt.RequiredArg},
	{Long: "read-only"},
}

// debugRefusals are the enter options that make no sense in debug mode,
// with the reason given to the user.
var debugRefusals = map[string]string{
	"mount":          "--mount is refused: the target's mount namespace is never entered; its files are at /target",
	"root":           "--root is refused: the root is the toolbox (see --toolbox); the target's root is at /target",
	"wd":             "--wd is refused: that directory is outside the debug root; use --wdns=DIR with a directory of the debug root, e.g. --wdns=/target/app",
	"no-fork":        "--no-fork is refused: /proc is mounted by a process born in the target's PID namespace, which needs a fork",
	"read-only":      "--read-only is refused: /target is read-only already; --rw makes it writable",
	"all":            "--all is refused: every namespace of the target but mount is entered already",
	"net-socket":     "--net-socket is refused: the target's own network namespace is entered",
	"user-parent":    "--user-parent is refused: the target's own user namespace is entered",
	"follow-context": "--follow-context is refused: SELinux contexts are not supported by nsx yet",
}

// debugNoSelection are the namespace options, refused because debug enters
// every namespace of the target but mount.
var debugNoSelection = map[string]bool{"uts": true, "ipc": true, "net": true, "pid": true, "user": true, "cgroup": true, "time": true}

func runDebug(env *Env, args []string) int {
	table := append(append([]getopt.Option{}, enterOptions...), debugOptions...)
	debug := nsenter.DebugOptions{}
	hook := func(r *enterRequest, res getopt.Result) (bool, string) {
		if why, ok := debugRefusals[res.Option.Long]; ok {
			return false, why
		}
		if debugNoSelection[res.Option.Long] {
			return false, "--" + res.Option.Long + " is refused: every namespace of the target but mount is entered; there is no selection"
		}
		switch res.Option.Long {
		case "rw":
			debug.Writable = true
			return true, ""
		case "toolbox":
			debug.Toolbox = res.Value
			return true, ""
		}
		return false, ""
	}
	r, code := parseEnterTable(env, args, table, hook)
	if r == nil {
		return code
	}
	defer r.closeFiles()
	if r.help {
		w := &errWriter{w: env.Stdout}
		debugHelp(w, env)
		if w.err != nil {
			return env.writeError(w.err)
		}
		return 0
	}
	if r.version {
		return env.printOut(func(w io.Writer) { fmt.Fprintf(w, "nsx %s\n", Version) })
	}
	if !r.hasTarget {
		return env.Errorf("no target given: name a PID, PID:INODE or container (e.g. docker:web1)")
	}
	t, err := pinTarget(env, r)
	var ne *nsenter.Error
	if errors.As(err, &ne) {
		return env.Errorf("%s", nsenterText(ne))
	} else if err != nil {
		return env.Errorf("%s", err)
	}
	defer t.Close()
	name := ""
	var args2 []string
	if len(r.program) > 0 {
		name, args2 = r.program[0], r.program[1:]
	}
	r.opts.Audit = true // recorded as /etc/nsx/nsx.conf says, as every entry
	cmd := nsenter.Debug(t, r.opts, debug, name, args2...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.RelayStops = env.Stdin, fileOf(env.Stdout), fileOf(env.Stderr), true
	return runCmd(env, r, cmd)
}

func debugHelp(w io.Writer, env *Env) {
	fmt.Fprint(w, `
Usage:
 nsx debug [options] [--target] <target> [--] [<program> [<argument>...]]

Run a program of the host (or of a toolbox directory) in every namespace of
a process or container except its mount namespace, with the container's
files at /target. Made for shell-less images: the tools come from the host,
and nothing is written into the container.

The program's mount namespace is new and private:
  /         the toolbox (the host's / by default, or --toolbox DIR)
  /target   the target's root with all its mounts (volumes too), read-only
            unless --rw
  /proc     a new procfs of the target's PID namespace (ps, top, strace -p,
            gdb -p see the container's processes)
  /dev /sys the host's;  /tmp  a new tmpfs
Environment: nsx's own, plus NSX_TARGET=/target and a PS1 naming the target.
Default program: $SHELL if the toolbox has it, else /bin/sh.

Options:
     --rw               make /target writable: writes land in the container
     --toolbox <dir>    mirror <dir> instead of / as the root (a rootfs)
     --explain          print the namespaces joined and the mounts; run nothing
     --runtime-endpoint <unix:///path>
                        CRI socket for cri: targets
 -S, --setuid <uid>|follow  set uid in entered namespace
 -G, --setgid <gid>|follow  set gid in entered namespace
     --preserve-credentials do not touch uids or gids
     --keep-caps        retain capabilities granted in user namespaces
 -W, --wdns=<dir>       start in <dir> of the debug root (-W/target/app)
 -e, --env              the target's environment instead of nsx's
 -c, --join-cgroup      start the program in the target's cgroup (v2)
 -h, --help             display this help

Refused, with the reason: -m, -r, -w, -F, --read-only, and namespace
selections (-u -i -n -p -U -C -T -a -N --user-parent): debug always enters
every namespace of the target but mount.

A target is a PID, PID:INODE, or a container: docker:NAME, podman:NAME,
containerd:[NAMESPACE/]ID, cri:ID or cri:NAMESPACE/POD/CONTAINER, or a bare
container name. A target without a PID namespace of its own is debugged in
the host's PID namespace.

Limits: a root program can still reach the target's writable root through
/proc/<pid>/root of a target process; read-only is a guard against mistakes,
not a sandbox. In a target with its own user namespace the program is root
there only: /target stays locked read-only without --rw, and with --rw
writes obey the target's uid mapping.

For more details see nsx-debug(1).
`)
}
