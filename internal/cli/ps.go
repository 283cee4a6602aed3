package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/nsxproject/nsx/internal/getopt"
	"github.com/nsxproject/nsx/listing"
	"github.com/nsxproject/nsx/namespace"
)

func init() {
	register(&Command{
		Name:    "ps",
		Summary: "list the processes in a target's PID namespace, with cgroup totals",
		Run:     runPs,
		Help:    psHelp,
	})
}

var psOptions = []getopt.Option{
	{Short: 'J', Long: "json"},
	{Short: 'n', Long: "noheadings"},
	{Short: 'u', Long: "notruncate"},
	{Short: 'h', Long: "help"},
}

func runPs(env *Env, args []string) int {
	p := &getopt.Parser{Options: psOptions, Permute: true}
	results, operands, perr := p.Parse(args)
	var f listing.Format
	for _, r := range results {
		switch r.Option.Short {
		case 'J':
			f.JSON = true
		case 'n':
			f.NoHeadings = true
		case 'u':
			f.NoTrunc = true
		case 'h':
			psHelp(env.Stdout, env)
			return 0
		}
	}
	if perr != nil {
		return env.UsageError(perr)
	}
	t, code := env.resolveOne(operands)
	if t == nil {
		return code
	}
	defer t.Close()
	var pidns uint64
	if fd, kind, ok := t.NamespaceFile(); ok {
		if kind != namespace.PID {
			return env.Errorf("%s: a %s namespace has no processes to list; name a PID namespace or a process", operands[0], kind)
		}
		id, err := namespace.Stat(fd)
		if err != nil {
			return env.Errorf("%s: %s", operands[0], err)
		}
		pidns = uint64(id)
	} else {
		fd, err := t.OpenNS(namespace.PID)
		if err != nil {
			return env.Errorf("%s", err)
		}
		id, err := namespace.Stat(fd)
		closeFd(fd)
		if err != nil {
			return env.Errorf("%s", err)
		}
		pidns = uint64(id)
	}
	res, err := listing.Ps(pidns, t.PID())
	if err != nil {
		return env.Errorf("%s", err)
	}
	if t.Container() != nil {
		c := t.Container().Container
		res.Container = &c
	}
	if f.JSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "   ")
		if err := enc.Encode(res); err != nil {
			return env.writeError(err)
		}
		return 0
	}
	if !f.NoTrunc {
		f.TermWidth = termWidth(env.Stdout)
	}
	tab := listing.PsTable(res)
	if err := tab.Write(env.Stdout, f); err != nil {
		return env.writeError(err)
	}
	if !f.NoHeadings {
		if res.Container != nil {
			fmt.Fprintf(env.Stdout, "\ncontainer: %s\n", listing.Escape(res.Container.Ref()))
		} else {
			fmt.Fprintln(env.Stdout)
		}
		noun := "processes"
		if len(res.Processes) == 1 {
			noun = "process"
		}
		fmt.Fprintf(env.Stdout, "pid namespace: %d, %d %s\n", res.PIDNamespace, len(res.Processes), noun)
		for _, l := range listing.CgroupSummary(res.Cgroup) {
			// The cgroup path is the target's to choose.
			fmt.Fprintln(env.Stdout, listing.Escape(l))
		}
	}
	return 0
}

func psHelp(w io.Writer, env *Env) {
	io.WriteString(w, `
Usage:
 nsx ps [options] <target>

List the processes in the PID namespace of a target (PID, PID:INODE, PID
namespace file or container reference such as docker:web1): host PID, PID
inside the namespace, user on the host and inside the target's user
namespace, state, CPU and memory use, command; then the target cgroup's CPU,
memory and pids totals and limits (cgroup v2, or v1 where v2 lacks the
controller).

Options:
 -J, --json             use JSON output format
 -n, --noheadings       print the table only, without headings or totals
 -u, --notruncate       don't truncate the command to the terminal width
 -h, --help             display this help

For more details see nsx-ps(1).
`)
}
