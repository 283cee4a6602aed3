package cli

import (
	"encoding/json"
	"io"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/getopt"
	"github.com/nsxproject/nsx/listing"
	"github.com/nsxproject/nsx/nsenter"
)

func init() {
	register(&Command{
		Name:    "inspect",
		Summary: "show a target's namespaces, ID maps, hostname, addresses, cgroup and credentials",
		Run:     runInspect,
		Help:    inspectHelp,
	})
}

var inspectOptions = []getopt.Option{
	{Short: 'J', Long: "json"},
	{Short: 'h', Long: "help"},
}

func closeFd(fd int) { unix.Close(fd) }

func runInspect(env *Env, args []string) int {
	p := &getopt.Parser{Options: inspectOptions, Permute: true}
	results, operands, perr := p.Parse(args)
	asJSON := false
	for _, r := range results {
		switch r.Option.Short {
		case 'J':
			asJSON = true
		case 'h':
			inspectHelp(env.Stdout, env)
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
	r := listing.Inspect(t, nsenter.Do)
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "   ")
		if err := enc.Encode(r); err != nil {
			return env.writeError(err)
		}
		return 0
	}
	if _, err := io.WriteString(env.Stdout, listing.InspectText(r)); err != nil {
		return env.writeError(err)
	}
	return 0
}

func inspectHelp(w io.Writer, env *Env) {
	io.WriteString(w, `
Usage:
 nsx inspect [options] <target>

Show what a target (PID, PID:INODE, namespace file or container reference)
is made of: for every namespace kind its ID, whether the host shares it, its
owner user namespace and that namespace's creator UID, its parent (PID and
user namespaces); uid_map, gid_map and setgroups; the hostname; network
interfaces and addresses (read with netlink from a thread inside the
target's network namespace); root and working directory; cgroup path,
totals and limits; capabilities, no_new_privs, seccomp mode and LSM label;
the container it belongs to.

Options:
 -J, --json             use JSON output format
 -h, --help             display this help

For more details see nsx-inspect(1).
`)
}
