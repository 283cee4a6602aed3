package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/container"
	"github.com/nsxproject/nsx/internal/errtext"
	"github.com/nsxproject/nsx/internal/getopt"
	"github.com/nsxproject/nsx/internal/spawn"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/target"
)

// utilLinuxVersion is the util-linux release whose nsenter nsx matches.
const utilLinuxVersion = "2.41"

func init() {
	register(&Command{
		Name:    "enter",
		Compat:  "nsenter",
		Summary: "run a program in the namespaces of a process or container",
		Run:     runEnter,
		Help:    enterHelp,
	})
}

// enterOptions is nsenter's option table, in util-linux's longopts order:
// glibc lists ambiguous candidates in this order.
var enterOptions = []getopt.Option{
	{Short: 'a', Long: "all"},
	{Short: 'h', Long: "help"},
	{Short: 'V', Long: "version"},
	{Short: 't', Long: "target", Arg: getopt.RequiredArg},
	{Short: 'm', Long: "mount", Arg: getopt.OptionalArg},
	{Short: 'u', Long: "uts", Arg: getopt.OptionalArg},
	{Short: 'i', Long: "ipc", Arg: getopt.OptionalArg},
	{Short: 'n', Long: "net", Arg: getopt.OptionalArg},
	{Short: 'N', Long: "net-socket", Arg: getopt.RequiredArg},
	{Short: 'p', Long: "pid", Arg: getopt.OptionalArg},
	{Short: 'U', Long: "user", Arg: getopt.OptionalArg},
	{Short: 'C', Long: "cgroup", Arg: getopt.OptionalArg},
	{Short: 'T', Long: "time", Arg: getopt.OptionalArg},
	{Short: 'S', Long: "setuid", Arg: getopt.RequiredArg},
	{Short: 'G', Long: "setgid", Arg: getopt.RequiredArg},
	{Short: 'r', Long: "root", Arg: getopt.OptionalArg},
	{Short: 'w', Long: "wd", Arg: getopt.OptionalArg},
	{Short: 'W', Long: "wdns", Arg: getopt.OptionalArg},
	{Short: 'e', Long: "env"},
	{Short: 'F', Long: "no-fork"},
	{Short: 'c', Long: "join-cgroup"},
	{Long: "preserve-credentials"},
	{Long: "keep-caps"},
	{Long: "user-parent"},
	{Short: 'Z', Long: "follow-context"},
}

// nsxEnterOptions are the options only `nsx enter` has.
var nsxEnterOptions = []getopt.Option{
	{Long: "explain"},
	// docker exec's -u, -e and -w, under names that do not collide
	// with nsenter's (-u is UTS, -e the target's environment, -w the
	// caller's directory).
	{Long: "as", Arg: getopt.RequiredArg},
	{Long: "setenv", Arg: getopt.RequiredArg},
	{Long: "workdir", Arg: getopt.RequiredArg},
	{Long: "runtime-endpoint", Arg: getopt.RequiredArg},
	{Long: "read-only"},
}

// enterRequest is the parsed command line.
type enterRequest struct {
	opts      nsenter.Options
	targetArg string
	hasTarget bool
	explain   bool
	program   []string
	help      bool
	version   bool
	// resolver finds container targets (--runtime-endpoint).
	resolver container.Resolver
	// signals, when set, started catching before the target was resolved,
	// and the Cmd made from the request has its caught channel as its
	// start gate.
	signals *signalForwarder
}

// closeFiles closes what parsing opened.
func (r *enterRequest) closeFiles() {
	for _, f := range r.opts.Files {
		f.Close()
	}
	for _, f := range []*os.File{r.opts.RootDir, r.opts.WorkDirFile} {
		if f != nil {
			f.Close()
		}
	}
}

// parseEnter parses argv as nsenter does: options are acted on in argv
// order, so a file that cannot be opened is reported before a later bad
// option, as util-linux does.
func parseEnter(env *Env, args []string) (*enterRequest, int) {
	table := enterOptions
	if !env.Compat {
		table = append(append([]getopt.Option{}, enterOptions...), nsxEnterOptions...)
	}
	return parseEnterTable(env, args, table, nil)
}

// optionHook lets a command built on enter's grammar (nsx debug) act on an
// option first: it reports whether it handled the option, or a one-line
// reason to refuse it.
type optionHook func(r *enterRequest, res getopt.Result) (handled bool, refusal string)

// parseEnterTable is parseEnter with another option table and a hook.
func parseEnterTable(env *Env, args []string, table []getopt.Option, hook optionHook) (*enterRequest, int) {
	p := &getopt.Parser{Options: table}
	results, operands, perr := p.Parse(args)
	r := &enterRequest{opts: nsenter.DefaultOptions()}
	fail := func(format string, a ...any) (*enterRequest, int) {
		r.closeFiles()
		return nil, env.Errorf(format, a...)
	}
	wdSeen, wdnsSeen := false, false
	for _, res := range results {
		if hook != nil {
			handled, refusal := hook(r, res)
			if refusal != "" {
				return fail("%s", refusal)
			}
			if handled {
				continue
			}
		}
		o, v := res.Option, res.Value
		// util-linux 2.41.1 strips a leading '=' from these optional
		// arguments ("-n=/path"); -r keeps it.
		if res.HasValue && o.Short != 'r' && o.Arg == getopt.OptionalArg {
			v = strings.TrimPrefix(v, "=")
		}
		switch o.Short {
		case 'a':
			r.opts.All = true
		case 'h':
			r.help = true
			return r, 0
		case 'V':
			r.version = true
			return r, 0
		case 't':
			r.targetArg, r.hasTarget = v, true
			if env.Compat {
				if _, _, err := target.ParsePID(strings.TrimLeft(v, " \t+")); err != nil {
					if neg, n, st := parseCNumber(strings.Split(v, ":")[0]); st == numRange || st == numOK && neg && n != 0 {
						return fail("failed to parse pid: '%s': %s", v, errtext.Strerror(syscall.ERANGE))
					}
					return fail("failed to parse pid: '%s'", v)
				}
				r.targetArg = strings.TrimLeft(v, " \t+")
			}
		case 'm', 'u', 'i', 'n', 'p', 'U', 'C', 'T':
			k := kindOfOption(o.Short)
			if !res.HasValue {
				r.opts.Kinds = r.opts.Kinds.Add(k)
				continue
			}
			f, err := namespace.OpenFile(v)
			if err != nil {
				return fail("cannot open %s: %s", v, errtext.Strerror(unwrap(err)))
			}
			if r.opts.Files == nil {
				r.opts.Files = map[namespace.Kind]*os.File{}
			}
			if old := r.opts.Files[k]; old != nil {
				old.Close()
			}
			r.opts.Files[k] = f
		case 'N':
			// As strtos32_or_err; a negative fd, which 2.41 takes as
			// "not given", is refused.
			neg, n, st := parseCNumber(v)
			switch {
			case st == numBad:
				return fail("failed to parse file descriptor: '%s'", v)
			case st == numRange || neg && n != 0 || n > math.MaxInt32:
				return fail("failed to parse file descriptor: '%s': %s", v, errtext.Strerror(syscall.ERANGE))
			}
			r.opts.NetSocketFd = int(n)
		case 'S', 'G':
			what := map[rune]string{'S': "uid", 'G': "gid"}[o.Short]
			if v == "follow" {
				if o.Short == 'S' {
					r.opts.FollowUID = true
				} else {
					r.opts.FollowGID = true
				}
				continue
			}
			// As 2.41: a negative value or one beyond 64 bits is out
			// of range; a larger one than 32 bits is truncated.
			neg, n, st := parseCNumber(v)
			switch {
			case st == numBad:
				return fail("failed to parse %s: '%s'", what, v)
			case st == numRange || neg && n != 0:
				return fail("failed to parse %s: '%s': %s", what, v, errtext.Strerror(syscall.ERANGE))
			}
			if o.Short == 'S' {
				r.opts.UID = int(uint32(n))
			} else {
				r.opts.GID = int(uint32(n))
			}
		case 'r':
			r.opts.Root = true
			if res.HasValue {
				f, err := namespace.OpenFile(v)
				if err != nil {
					return fail("cannot open %s: %s", v, errtext.Strerror(unwrap(err)))
				}
				r.opts.RootDir = f
			}
		case 'w':
			if wdnsSeen {
				return fail("mutually exclusive arguments: --wdns --wd")
			}
			wdSeen = true
			r.opts.WorkDir = true
			if res.HasValue {
				f, err := namespace.OpenFile(v)
				if err != nil {
					return fail("cannot open %s: %s", v, errtext.Strerror(unwrap(err)))
				}
				r.opts.WorkDirFile = f
			}
		case 'W':
			if wdSeen {
				return fail("mutually exclusive arguments: --wdns --wd")
			}
			wdnsSeen = true
			r.opts.WdnsGiven = true
			if res.HasValue {
				r.opts.WorkDirInNS = v
				r.opts.WdnsEmpty = v == ""
			}
		case 'e':
			r.opts.TargetEnv = true
		case 'F':
			r.opts.NoFork = true
		case 'c':
			r.opts.JoinCgroup = true
		case 'Z':
			r.opts.FollowContext = true
		case 0:
			switch o.Long {
			case "preserve-credentials":
				r.opts.PreserveCredentials = true
			case "keep-caps":
				r.opts.KeepCaps = true
			case "user-parent":
				r.opts.UserParent = true
			case "explain":
				r.explain = true
			case "read-only":
				r.opts.ReadOnly = true
			case "as":
				r.opts.As = v
			case "setenv":
				if name, _, ok := strings.Cut(v, "="); !ok || name == "" {
					return fail("--setenv %s: expected KEY=VALUE", v)
				}
				r.opts.SetEnv = append(r.opts.SetEnv, v)
			case "workdir":
				// -W with a required argument.
				if wdSeen {
					return fail("mutually exclusive arguments: --workdir --wd")
				}
				wdnsSeen = true
				r.opts.WdnsGiven = true
				r.opts.WorkDirInNS = v
				r.opts.WdnsEmpty = v == ""
			case "runtime-endpoint":
				// As crictl's flag: the CRI socket for cri: targets.
				r.resolver.CRIEndpoint = v
			}
		}
	}
	if perr != nil {
		r.closeFiles()
		fmt.Fprintf(env.Stderr, "%s: %s\n", env.Argv0, perr)
		fmt.Fprintf(env.Stderr, "Try '%s --help' for more information.\n", env.Prog)
		return nil, 1
	}
	r.program = operands
	// 2.41: "follow" wins over a number, whatever their order.
	if r.opts.FollowUID {
		r.opts.UID = -1
	}
	if r.opts.FollowGID {
		r.opts.GID = -1
	}
	if !env.Compat {
		// A program never starts with a working directory outside its
		// root in nsx's own command (the nsenter personality keeps
		// util-linux's -w semantics).
		r.opts.ConfineCwd = true
		r.opts.ShellFallback = true
		if r.opts.As != "" && (r.opts.UID >= 0 || r.opts.GID >= 0 || r.opts.FollowUID || r.opts.FollowGID) {
			return fail("--as cannot be combined with -S/--setuid or -G/--setgid")
		}
		// nsx enter: no namespace option means all of them, and without
		// -t the first operand names the target.
		if r.opts.Kinds == 0 && len(r.opts.Files) == 0 && !r.opts.All && r.opts.NetSocketFd < 0 && !r.opts.UserParent {
			r.opts.All = true
		}
		if !r.hasTarget && r.opts.NeedsTarget() {
			if len(operands) == 0 {
				return fail("no target given: name a PID, PID:INODE, namespace file or container (e.g. docker:web1)")
			}
			r.targetArg, r.hasTarget = operands[0], true
			r.program = operands[1:]
			// "nsx enter TARGET -- cmd": getopt stopped at TARGET, so the
			// "--" that separates the program is still there.
			if len(r.program) > 0 && r.program[0] == "--" {
				r.program = r.program[1:]
			}
		}
	}
	return r, 0
}

// numStatus is how a number in the style of strtoumax(3) parsed.
type numStatus int

const (
	numOK    numStatus = iota
	numBad             // not a number, or trailing characters
	numRange           // beyond 64 bits (ERANGE)
)

// parseCNumber parses a decimal number as util-linux's numeric option
// parsers do: leading blanks, an optional sign, digits and nothing else. It
// returns the sign and the magnitude; callers decide which values are out
// of their range.
func parseCNumber(s string) (neg bool, n uint64, st numStatus) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return neg, 0, numBad
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return neg, 0, numRange
	}
	if err != nil {
		return neg, 0, numBad
	}
	return neg, n, numOK
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func kindOfOption(c rune) namespace.Kind {
	for _, k := range namespace.All {
		if k.ShortOption() == c {
			return k
		}
	}
	return 0
}

func unwrap(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

func runEnter(env *Env, args []string) int {
	r, code := parseEnter(env, args)
	if r == nil {
		return code
	}
	defer r.closeFiles()
	if r.help || r.version {
		// Like util-linux's close_stdout: a failed write is an error.
		w := &errWriter{w: env.Stdout}
		if r.help {
			enterHelp(w, env)
		} else if env.Compat {
			fmt.Fprintf(w, "nsenter from util-linux %s (nsx %s)\n", utilLinuxVersion, Version)
		} else {
			fmt.Fprintf(w, "nsx %s\n", Version)
		}
		if w.err != nil {
			return env.writeError(w.err)
		}
		return 0
	}

	if !r.explain && !r.opts.NoFork {
		r.signals = catchSignals()
	}
	var t *target.Pinned
	if r.hasTarget && r.opts.NeedsTarget() {
		var err error
		t, err = pinTarget(env, r)
		if err != nil {
			return env.Errorf("%s", errText(err))
		}
		defer t.Close()
	}
	if r.opts.FollowContext {
		if t == nil {
			return env.Errorf("no target PID specified for --follow-context")
		}
		if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
			return env.Errorf("--follow-context: SELinux contexts are not supported by nsx yet")
		}
	}

	r.opts.Audit = true // every run is recorded as /etc/nsx/nsx.conf says; no option turns it off
	// The program's process is created only once the signals are caught,
	// but everything before it runs meanwhile (see signalForwarder).
	ctx := context.Background()
	if r.signals != nil {
		ctx = spawn.WithStartGate(ctx, r.signals.caught)
	}
	cmd := nsenter.CommandContext(ctx, t, r.opts, "")
	cmd.Path, cmd.Args = "", nil // no program: the shell, as util-linux runs
	if len(r.program) > 0 {
		cmd.Path, cmd.Args = r.program[0], r.program
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.RelayStops = env.Stdin, fileOf(env.Stdout), fileOf(env.Stderr), true
	return runCmd(env, r, cmd)
}

// runCmd explains, executes or starts cmd and ends as its program ended:
// the exit status, or death by the same signal.
func runCmd(env *Env, r *enterRequest, cmd *nsenter.Cmd) int {
	if r.explain {
		plan, err := cmd.Plan()
		if err != nil {
			return reportEnterError(env, err)
		}
		plan.Print(env.Stdout)
		return 0
	}
	if r.opts.NoFork {
		return reportEnterError(env, cmd.Exec())
	}
	signals := r.signals
	if signals != nil {
		signals.hold() // cmd's start gate waits for the catching
	} else {
		signals = catchSignals()
		signals.starting()
	}
	if err := cmd.Start(); err != nil {
		signals.startFailed()
		return reportEnterError(env, err)
	}
	signals.forwardTo(cmd.Process.Pid, func(sig syscall.Signal) error { return cmd.Signal(sig) })
	err := cmd.Wait()
	signals.stop()
	var ee *nsenter.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.Signaled() {
			spawn.DieOfSignal(ee.Signal())
			return 1 // the signal was ignored
		}
		return ee.ExitCode()
	}
	return env.Errorf("%s", err)
}

// fileOf passes an *os.File through so the child inherits it directly.
func fileOf(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return w
}

// reportEnterError prints a failure to enter as util-linux nsenter does
// and returns its exit status: 126 for a program that could not be
// executed, 127 for one that was not found, else 1.
func reportEnterError(env *Env, err error) int {
	var ne *nsenter.Error
	if !errors.As(err, &ne) {
		return env.Errorf("%s", err)
	}
	env.Errorf("%s", nsenterText(ne))
	if errors.Is(ne, nsenter.ErrExec) {
		if errors.Is(ne.Err, syscall.ENOENT) {
			return 127
		}
		return 126
	}
	return 1
}

// nsenterText words an nsenter failure as util-linux does: the operation,
// then the cause in glibc's words.
func nsenterText(e *nsenter.Error) string {
	if e.Err == nil {
		return e.Op
	}
	return e.Op + ": " + errtext.Strerror(e.Err)
}

// pinTarget pins the target. A PID that does not exist is reported as
// util-linux reports it: naming the first file it would have opened.
func pinTarget(env *Env, r *enterRequest) (*target.Pinned, error) {
	ref, err := target.Parse(r.targetArg)
	if err != nil {
		return nil, err
	}
	if env.Compat && ref.PID == 0 {
		return nil, fmt.Errorf("failed to parse pid: '%s'", r.targetArg)
	}
	t, err := ref.PinWith(context.Background(), &r.resolver)
	if err == nil {
		return t, nil
	}
	if ref.PID == 0 || !(errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) || errors.Is(err, target.ErrGone)) {
		return nil, err
	}
	if ref.Inode != 0 {
		return nil, err
	}
	// util-linux names the first file of the target it would have
	// opened; the planner knows which.
	return nil, r.opts.MissingTargetError(ref.PID)
}

func enterHelp(w io.Writer, env *Env) {
	name := "nsenter"
	usage := " nsenter [options] [<program> [<argument>...]]\n"
	extra := ""
	manPage := "nsenter(1)"
	if !env.Compat {
		manPage = "nsx-enter(1)"
		name = "nsx enter"
		usage = " nsx enter [options] [--target] <target> [--] [<program> [<argument>...]]\n"
		extra = `
nsx options:
     --explain          print what would be entered, in which order, and why;
                          run nothing
     --read-only        run in a private copy of the target's mounts, all
                          read-only (writes fail with EROFS; the target is
                          unchanged); a guard against mistakes, not a sandbox
     --as <user>[:<group>]
                        run as this user and group (names from the target's
                          /etc/passwd and /etc/group; numbers as they are);
                          like docker exec -u
     --setenv <key>=<value>
                        add to the program's environment (repeatable); like
                          docker exec -e
     --workdir <dir>    start in <dir> inside the target (as -W); like
                          docker exec -w
     --runtime-endpoint <unix:///path>
                        CRI socket for cri: targets (default:
                          $CONTAINER_RUNTIME_ENDPOINT, /etc/crictl.yaml,
                          then the usual containerd and CRI-O sockets)

A target is a PID, PID:INODE, a namespace file, or a container: docker:NAME,
podman:NAME, containerd:[NAMESPACE/]ID, cri:ID or cri:NAMESPACE/POD/CONTAINER,
or a bare container name. Without a namespace option, nsx enter enters all of
the target's namespaces (-a). Without a program it runs $SHELL, or the
target's /bin/sh when the target has no $SHELL. A working directory outside the program's root
(-w with a host directory) is refused: use -W for a directory in the target.
Signals sent to nsx are passed on to the program; nsx exits as it does.
`
	}
	_ = name
	fmt.Fprint(w, "\nUsage:\n"+usage+`
Run a program with namespaces of other processes.

Options:
 -a, --all              enter all namespaces
 -t, --target <pid>     target process to get namespaces from
 -m, --mount[=<file>]   enter mount namespace
 -u, --uts[=<file>]     enter UTS namespace (hostname etc)
 -i, --ipc[=<file>]     enter System V IPC namespace
 -n, --net[=<file>]     enter network namespace
 -N, --net-socket <fd>  enter socket's network namespace (use with --target)
 -p, --pid[=<file>]     enter pid namespace
 -C, --cgroup[=<file>]  enter cgroup namespace
 -U, --user[=<file>]    enter user namespace
     --user-parent      enter parent user namespace
 -T, --time[=<file>]    enter time namespace
 -S, --setuid <uid>|follow  set uid in entered namespace
 -G, --setgid <gid>|follow  set gid in entered namespace
     --preserve-credentials do not touch uids or gids
     --keep-caps        retain capabilities granted in user namespaces
 -r, --root[=<dir>]     set the root directory
 -w, --wd[=<dir>]       set the working directory
 -W, --wdns[=<dir>]     set the working directory in namespace
 -e, --env              inherit environment variables from target process
 -F, --no-fork          do not fork before exec'ing <program>
 -c, --join-cgroup      join the cgroup of the target process
 -Z, --follow-context   set SELinux context according to --target PID
`+extra+`
 -h, --help             display this help
 -V, --version          display version

For more details see `+manPage+`.
`)
}
