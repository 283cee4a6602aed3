// Package cli implements nsx's commands: argument grammar, help texts and the
// mapping of errors to messages and exit codes. One file per command; each
// registers itself in init so that main stays a dispatcher.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/nsxproject/nsx/internal/errtext"
	"github.com/nsxproject/nsx/internal/escape"
	"github.com/nsxproject/nsx/listing"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/target"
)

// Version is nsx's version, set at link time by the Makefile.
var Version = "0.1.0-dev"

// Env is what a command runs with: its name as the user sees it in messages,
// its standard streams and whether it runs as a util-linux stand-in.
type Env struct {
	// Prog is the name messages are prefixed with: "nsenter", "lsns", or
	// "nsx enter" style names for nsx's own commands.
	Prog string
	// Argv0 is argv[0] as given, which glibc-style parse errors repeat.
	Argv0  string
	Stdin  *os.File
	Stdout io.Writer
	Stderr io.Writer
	// Compat is true when nsx was invoked under a util-linux program's name
	// and must match its grammar and messages exactly.
	Compat bool
}

// Errorf prints "prog: message" on stderr and returns exit code 1. The
// message is escaped (escape.Terminal) as a whole: errors carry strings a
// target controls (its cgroup path, names from an engine, paths in its
// root), and the one line an error is must stay one line that cannot drive
// the terminal. Escaping is idempotent, so parts escaped already are kept.
func (e *Env) Errorf(format string, args ...any) int {
	fmt.Fprintf(e.Stderr, "%s: %s\n", e.Prog, escape.Terminal(fmt.Sprintf(format, args...)))
	return 1
}

// writeError reports a failed write of the output as util-linux's
// close_stdout does: "write error: " and glibc's words for the errno.
func (e *Env) writeError(err error) int {
	return e.Errorf("write error: %s", errtext.Strerror(unwrap(err)))
}

// printOut runs print on stdout and reports a failed write; for help and
// version texts, whose write can fail like any other output.
func (e *Env) printOut(print func(w io.Writer)) int {
	w := &errWriter{w: e.Stdout}
	print(w)
	if w.err != nil {
		return e.writeError(w.err)
	}
	return 0
}

// UsageError reports an argument parse error as util-linux programs do:
// glibc's message prefixed with argv[0], then a pointer to --help. It
// returns exit code 1.
func (e *Env) UsageError(err error) int {
	fmt.Fprintf(e.Stderr, "%s: %s\n", e.Argv0, err)
	fmt.Fprintf(e.Stderr, "Try '%s --help' for more information.\n", e.Prog)
	return 1
}

// resolveOne pins the single target a command takes as its operand. On
// failure it reports the error and returns nil with the exit code.
func (e *Env) resolveOne(operands []string) (*target.Pinned, int) {
	if len(operands) != 1 {
		return nil, e.Errorf("expected one target (PID, PID:INODE, namespace file or container)")
	}
	t, err := target.Resolve(context.Background(), operands[0])
	if err != nil {
		// glibc's errno wording, the reference said once, both escaped for
		// the terminal.
		msg := strings.TrimPrefix(errText(err), operands[0]+": ")
		return nil, e.Errorf("%s: %s", listing.Escape(operands[0]), listing.Escape(msg))
	}
	return t, 0
}

// errText is err's message with a system error in glibc's words ("No such
// process"), as every other nsx message has it, instead of Go's lower-case.
func errText(err error) string {
	var ne *nsenter.Error
	if errors.As(err, &ne) {
		return nsenterText(ne)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path + ": " + errtext.Strerror(pe.Err)
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Syscall + ": " + errtext.Strerror(se.Err)
	}
	msg := err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if goText := errno.Error(); strings.HasSuffix(msg, goText) {
			msg = strings.TrimSuffix(msg, goText) + errtext.Strerror(errno)
		}
	}
	return msg
}

// Command is one nsx command.
type Command struct {
	Name    string
	Summary string
	// Compat is the util-linux program this command stands in for when nsx
	// is invoked under that name ("nsenter"), or "".
	Compat string
	Run    func(env *Env, args []string) int
	// Help prints the command's help text.
	Help func(w io.Writer, env *Env)
}

var commands = map[string]*Command{}

func register(c *Command) { commands[c.Name] = c }

// Main runs nsx with the full argv and returns the exit code.
func Main(argv []string, stdin *os.File, stdout, stderr io.Writer) int {
	argv0 := "nsx"
	if len(argv) > 0 {
		argv0 = argv[0]
	}
	base := filepath.Base(argv0)
	for _, c := range commands {
		if c.Compat != "" && c.Compat == base {
			env := &Env{Prog: base, Argv0: argv0, Stdin: stdin, Stdout: stdout, Stderr: stderr, Compat: true}
			return c.Run(env, argv[1:])
		}
	}
	env := &Env{Prog: "nsx", Argv0: argv0, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(argv) < 2 {
		usage(stderr)
		return 1
	}
	name, args := argv[1], argv[2:]
	switch name {
	case "-h", "--help":
		return env.printOut(usage)
	case "help":
		return runHelp(env, args)
	case "helper-idle": // hidden: the main process of kubectl-nsx's helper pods
		return runHelperIdle(env, args)
	case "-V", "--version", "version":
		return env.printOut(func(w io.Writer) { fmt.Fprintf(w, "nsx %s\n", Version) })
	}
	c, ok := commands[name]
	if !ok {
		return env.Errorf("unknown command %q; run 'nsx help' for the list", name)
	}
	env.Prog = "nsx " + c.Name
	env.Argv0 = env.Prog
	return c.Run(env, args)
}

func runHelp(env *Env, args []string) int {
	if len(args) == 0 {
		return env.printOut(usage)
	}
	c, ok := commands[args[0]]
	if !ok {
		return env.Errorf("no help for %q: unknown command", args[0])
	}
	env.Prog = "nsx " + c.Name
	return env.printOut(func(w io.Writer) { c.Help(w, env) })
}

func usage(w io.Writer) {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("Usage: nsx <command> [options] [arguments]\n\nEnter, list and inspect Linux namespaces and containers.\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].Summary)
	}
	b.WriteString("\nRun 'nsx help <command>' for a command's options. Invoked as nsenter,\nlsns or unshare, nsx behaves as util-linux's program of that name.\n")
	io.WriteString(w, b.String())
}
