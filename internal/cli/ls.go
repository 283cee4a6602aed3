package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/errtext"
	"github.com/nsxproject/nsx/internal/getopt"
	"github.com/nsxproject/nsx/listing"
	"github.com/nsxproject/nsx/namespace"
)

// lsnsVersion is the util-linux release whose lsns output nsx matches.
const lsnsVersion = "2.41.5"

func init() {
	register(&Command{
		Name:    "ls",
		Compat:  "lsns",
		Summary: "list namespaces and the containers that own them (lsns)",
		Run:     runLs,
		Help:    lsHelp,
	})
}

// lsOptions is lsns's option table in util-linux's longopts order.
var lsOptions = []getopt.Option{
	{Short: 'J', Long: "json"},
	{Short: 'l', Long: "list"},
	{Short: 'n', Long: "noheadings"},
	{Short: 'o', Long: "output", Arg: getopt.RequiredArg},
	{Long: "output-all"},
	{Short: 'p', Long: "task", Arg: getopt.RequiredArg},
	{Short: 'h', Long: "help"},
	{Short: 'r', Long: "raw"},
	{Short: 't', Long: "type", Arg: getopt.RequiredArg},
	{Short: 'u', Long: "notruncate"},
	{Short: 'V', Long: "version"},
	{Short: 'W', Long: "nowrap"},
	{Short: 'T', Long: "tree", Arg: getopt.OptionalArg},
	{Short: 'P', Long: "persistent"},
	{Short: 'Q', Long: "filter", Arg: getopt.RequiredArg},
	{Short: 'H', Long: "list-columns"},
}

// nsxLsOptions are only in `nsx ls`.
var nsxLsOptions = []getopt.Option{
	{Long: "container", Arg: getopt.RequiredArg},
}

func runLs(env *Env, args []string) int {
	table := lsOptions
	if !env.Compat {
		table = append(append([]getopt.Option{}, lsOptions...), nsxLsOptions...)
	}
	p := &getopt.Parser{Options: table, Permute: true}
	results, operands, perr := p.Parse(args)
	o := &listing.LsOptions{Compat: env.Compat}
	var output string
	hasOutput, outputAll, list, treeGiven := false, false, false, false
	var json, raw, persistent, task bool
	var stray []byte
	defer func() {
		if len(stray) > 0 {
			env.Stdout.Write(stray)
		}
	}()
	for _, res := range results {
		v := res.Value
		switch res.Option.Long {
		case "json":
			json = true
			if raw {
				return env.Errorf("mutually exclusive arguments: --json --raw")
			}
		case "raw":
			raw = true
			if json {
				return env.Errorf("mutually exclusive arguments: --json --raw")
			}
		case "list":
			list = true
		case "noheadings":
			o.Format.NoHeadings = true
		case "output":
			output, hasOutput = v, true
		case "output-all":
			outputAll = true
		case "task":
			if task = true; persistent {
				return env.Errorf("mutually exclusive arguments: --persistent --task")
			}
			pid, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return env.Errorf("invalid PID argument: '%s'", v)
			}
			o.Task, o.HasTask = int(pid), true
		case "help":
			return env.printOut(func(w io.Writer) { lsHelp(w, env) })
		case "version":
			return env.printOut(func(w io.Writer) {
				if env.Compat {
					fmt.Fprintf(w, "lsns from util-linux %s (nsx %s)\n", lsnsVersion, Version)
				} else {
					fmt.Fprintf(w, "nsx %s\n", Version)
				}
			})
		case "type":
			k, err := namespace.Parse(v)
			if err != nil || v == "mount" {
				return env.Errorf("unknown namespace type: %s", v)
			}
			o.Kinds = o.Kinds.Add(k)
		case "notruncate":
			o.Format.NoTrunc = true
		case "nowrap":
			o.NoWrap = true
		case "tree":
			treeGiven = true
			// "-T=parent" and "--tree==parent": lsns drops one '='.
			m, err := listing.ParseTreeMode(strings.TrimPrefix(v, "="))
			if err != nil {
				return env.Errorf("%s", err)
			}
			o.Tree = m
		case "persistent":
			if persistent = true; task {
				return env.Errorf("mutually exclusive arguments: --persistent --task")
			}
			o.Persistent = true
		case "filter":
			// lsns parses the expression when it meets the option.
			f, err := listing.ParseFilter(v)
			if f != nil && env.Compat {
				// lsns's scanner echoes what it does not know to its
				// buffered stdout: after errors, before the table.
				stray = append(stray, f.Stray...)
			}
			if err != nil {
				return env.Errorf("failed to parse \"%s\": %s", v, err)
			}
			o.Filter = f
		case "list-columns":
			return listColumns(env, json, raw)
		case "container":
			o.Container = v
		}
	}
	if perr != nil {
		return env.UsageError(perr)
	}
	o.Format.JSON, o.Format.Raw = json, raw
	if len(operands) > 0 {
		id, err := strconv.ParseUint(operands[0], 10, 64)
		if err != nil {
			return env.Errorf("invalid namespace argument: '%s'", operands[0])
		}
		o.NS, o.HasNS = id, true
	}
	if o.HasNS && o.HasTask {
		return env.Errorf("--task is mutually exclusive with <namespace>")
	}
	if list && treeGiven && !env.Compat {
		// lsns takes both and draws the tree (its exclusion table is out
		// of order); a list cannot be a tree, so nsx ls refuses.
		return env.Errorf("mutually exclusive arguments: --list --tree")
	}
	if (list && !treeGiven) || (outputAll && !treeGiven) {
		o.Tree = listing.TreeNone
	}
	switch {
	case hasOutput:
		var base []string
		if strings.HasPrefix(output, "+") {
			output = output[1:]
			base = defaultLsColumns(o)
		}
		for _, name := range strings.Split(output, ",") {
			if listing.ColumnIndex(name, env.Compat) < 0 {
				return env.Errorf("unknown column: %s", name)
			}
			base = append(base, strings.ToUpper(name))
		}
		o.Columns = base
	case outputAll:
		for _, c := range listing.LsColumns {
			if env.Compat && c.Name == "CONTAINER" {
				continue
			}
			o.Columns = append(o.Columns, c.Name)
		}
	}
	if !json && !raw {
		o.Format.TermWidth = termWidth(env.Stdout)
	}
	t, err := listing.BuildLs(o)
	if err != nil {
		var ue *listing.UsageError
		var ce *listing.FilterColumnError
		var ae *listing.FilterApplyError
		switch {
		case errors.As(err, &ue):
			return env.Errorf("%s", ue.Msg)
		case errors.As(err, &ce):
			for _, n := range ce.Names {
				env.Errorf("unknown column: %s", n)
			}
			return env.Errorf("failed to initialize filter")
		case errors.As(err, &ae):
			return env.Errorf("failed to apply filter: %s", errtext.Strerror(ae.Err))
		}
		return env.Errorf("%s", err)
	}
	if len(stray) > 0 {
		env.Stdout.Write(stray)
		stray = nil
	}
	if len(t.Rows) == 0 && o.Container != "" {
		// A reference that names nothing is a typo, not an empty answer.
		return env.Errorf("%s: no such container owns a listed namespace", o.Container)
	}
	if len(t.Rows) == 0 && !o.Format.JSON {
		// lsns prints no header for nothing, but an empty JSON array.
		return 0
	}
	if err := t.Write(env.Stdout, o.Format); err != nil {
		return env.writeError(err)
	}
	return 0
}

// defaultLsColumns are the columns "-o +LIST" appends to.
func defaultLsColumns(o *listing.LsOptions) []string {
	if o.HasNS {
		return []string{"PID", "PPID", "USER", "COMMAND"}
	}
	c := []string{"NS", "TYPE", "NPROCS", "PID", "USER"}
	if o.Kinds.Has(namespace.Net) {
		c = append(c, "NETNSID", "NSFS")
	}
	return append(c, "COMMAND")
}

// termWidth returns the terminal's width when w is a terminal, else 0.
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	if ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}

// listColumns prints -H/--list-columns: each column's name, type and
// description, as a table (raw or JSON as already asked, as lsns does).
func listColumns(env *Env, json, raw bool) int {
	t := &listing.Table{Name: "lsns-columns", TreeColumn: -1, Columns: []listing.Column{
		{Name: "HOLDER", Key: "holder", Right: true},
		{Name: "TYPE", Key: "type"},
		{Name: "DESCRIPTION", Key: "description"},
	}}
	for _, c := range listing.LsColumns {
		if env.Compat && c.Name == "CONTAINER" {
			continue
		}
		typ := "<string>"
		if c.Number {
			typ = "<integer>"
		}
		t.Rows = append(t.Rows, &listing.Row{Cells: []string{c.Name, typ, c.Help}})
	}
	if err := t.Write(env.Stdout, listing.Format{JSON: json, Raw: raw, NoHeadings: true}); err != nil {
		return env.writeError(err)
	}
	return 0
}

func lsHelp(w io.Writer, env *Env) {
	var b strings.Builder
	name := "lsns"
	if !env.Compat {
		name = "nsx ls"
	}
	fmt.Fprintf(&b, "\nUsage:\n %s [options] [<namespace>]\n\nList system namespaces.\n\nOptions:\n", name)
	b.WriteString(` -J, --json             use JSON output format
 -l, --list             use list format output
 -n, --noheadings       don't print headings
 -o, --output <list>    define which output columns to use
     --output-all       output all columns
 -P, --persistent       namespaces without processes
 -p, --task <pid>       print process namespaces
 -Q, --filter <expr>    apply display filter
 -r, --raw              use the raw output format
 -u, --notruncate       don't truncate text in columns
 -W, --nowrap           don't use multi-line representation
 -t, --type <name>      namespace type (mnt, net, ipc, user, pid, uts, cgroup, time)
 -T, --tree[=<rel>]     use tree format (parent, owner, or process)
`)
	if !env.Compat {
		b.WriteString("     --container <ref>  only namespaces owned by a container (docker:web1, ID prefix, name)\n")
	}
	b.WriteString("\n -H, --list-columns     list the available columns\n -h, --help             display this help\n -V, --version          display version\n")
	if env.Compat {
		b.WriteString("\nFor more details see lsns(8).\n")
	} else {
		b.WriteString("\nFor more details see nsx-ls(1).\n")
	}
	io.WriteString(w, b.String())
}
