// Package kubectl is kubectl-nsx, the kubectl plugin that runs nsx on the
// node of a pod: `kubectl nsx POD -- CMD` enters the namespaces of one of
// the pod's containers with the exact engine of `nsx enter`, from a machine
// that has kubectl and no shell on the node.
//
// The work happens in a helper pod on the pod's node: privileged, in the
// host's PID namespace, the node's runtime socket mounted, running an image
// that holds only the static nsx binary. The plugin resolves the pod's node
// and container ID through the API server, reuses a helper already on the
// node (the agent DaemonSet's or a kept one) or creates one, and runs
// `nsx enter cri:ID …` in it through the pod exec API with stdio attached.
//
// It lives in its own binary (cmd/kubectl-nsx) so that client-go never
// weighs on nsx's start-up.
package kubectl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nsxproject/nsx/internal/getopt"
)

// Version is the plugin's version, set at link time by the Makefile; the
// default helper image carries the same version.
var Version = "dev"

// ImageRepository is where the default helper image is named from:
// the image is ImageRepository:Version.
const ImageRepository = "ghcr.io/nsxproject/nsx"

// DefaultKeep is how long a helper the plugin created stays on its node,
// idle, for the next call to reuse.
const DefaultKeep = 5 * time.Minute

// Stdio is the plugin's standard streams. In is usually os.Stdin: with -t
// the plugin puts it into raw mode when it is a terminal.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// ExitError carries the exit status of the program run in the container
// (or 128+signal when the plugin was interrupted). The plugin has printed
// nothing for it: main exits with Code silently.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// usageError is a bad command line; main prints it with a pointer to --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// IsUsage reports whether err is a command-line error.
func IsUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// pluginOptions are kubectl's own flags, short forms included.
var pluginOptions = []getopt.Option{
	{Short: 'n', Long: "namespace", Arg: getopt.RequiredArg},
	{Short: 'c', Long: "container", Arg: getopt.RequiredArg},
	{Short: 'i', Long: "stdin"},
	{Short: 't', Long: "tty"},
	{Short: 'h', Long: "help"},
	{Long: "kubeconfig", Arg: getopt.RequiredArg},
	{Long: "context", Arg: getopt.RequiredArg},
	{Long: "image", Arg: getopt.RequiredArg},
	{Long: "keep", Arg: getopt.RequiredArg},
	{Long: "timeout", Arg: getopt.RequiredArg},
	{Long: "runtime-endpoint", Arg: getopt.RequiredArg},
	{Long: "agent-namespace", Arg: getopt.RequiredArg},
	{Long: "node-pid", Arg: getopt.RequiredArg},
	{Long: "cleanup"},
	{Long: "version"},
}

// passOptions are nsx enter's (and nsx debug's) options, long forms only:
// their short forms collide with kubectl's (-n net, -c cgroup, -i ipc, -t
// target). They are handed to nsx unchanged.
var passOptions = []getopt.Option{
	{Long: "all"},
	{Long: "mount", Arg: getopt.OptionalArg},
	{Long: "uts", Arg: getopt.OptionalArg},
	{Long: "ipc", Arg: getopt.OptionalArg},
	{Long: "net", Arg: getopt.OptionalArg},
	{Long: "pid", Arg: getopt.OptionalArg},
	{Long: "user", Arg: getopt.OptionalArg},
	{Long: "cgroup", Arg: getopt.OptionalArg},
	{Long: "time", Arg: getopt.OptionalArg},
	{Long: "user-parent"},
	{Long: "setuid", Arg: getopt.RequiredArg},
	{Long: "setgid", Arg: getopt.RequiredArg},
	{Long: "preserve-credentials"},
	{Long: "keep-caps"},
	{Long: "root", Arg: getopt.OptionalArg},
	{Long: "wd", Arg: getopt.OptionalArg},
	{Long: "wdns", Arg: getopt.OptionalArg},
	{Long: "env"},
	{Long: "no-fork"},
	{Long: "join-cgroup"},
	{Long: "follow-context"},
	{Long: "explain"},
	{Long: "read-only"},
	// nsx debug
	{Long: "rw"},
	{Long: "toolbox", Arg: getopt.RequiredArg},
}

// mode is what the command line asks for.
type mode int

const (
	modeEnter mode = iota
	modeDebug
	modeNode
	modeCleanup
	modeAgentInstall
	modeAgentRemove
	modeHelp
	modeVersion
)

// request is a parsed command line.
type request struct {
	mode           mode
	kubeconfig     string
	context        string
	namespace      string
	container      string
	stdin, tty     bool
	image          string
	keep           time.Duration
	timeout        time.Duration
	endpoint       string
	agentNamespace string
	nodePID        int
	pod            string // pod name, or node name for modeNode
	nsxArgs        []string
	program        []string
}

func parseArgs(args []string) (*request, error) {
	p := &getopt.Parser{Options: append(append([]getopt.Option{}, pluginOptions...), passOptions...), Permute: true}
	results, operands, err := p.Parse(args)
	if err != nil {
		return nil, usagef("%s", err)
	}
	r := &request{
		image:          ImageRepository + ":" + Version,
		keep:           DefaultKeep,
		timeout:        30 * time.Second,
		agentNamespace: "kube-system",
		nodePID:        1,
	}
	isPass := map[string]bool{}
	for _, o := range passOptions {
		isPass[o.Long] = true
	}
	duration := func(name, v string) (time.Duration, error) {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return 0, usagef("invalid --%s %q: want a duration such as 90s or 5m", name, v)
		}
		return d, nil
	}
	for _, res := range results {
		o, v := res.Option, res.Value
		if isPass[o.Long] {
			switch {
			case !res.HasValue:
				r.nsxArgs = append(r.nsxArgs, "--"+o.Long)
			default:
				r.nsxArgs = append(r.nsxArgs, "--"+o.Long+"="+v)
			}
			continue
		}
		switch o.Long {
		case "namespace":
			r.namespace = v
		case "container":
			r.container = v
		case "stdin":
			r.stdin = true
		case "tty":
			r.tty = true
		case "help":
			r.mode = modeHelp
			return r, nil
		case "version":
			r.mode = modeVersion
			return r, nil
		case "kubeconfig":
			r.kubeconfig = v
		case "context":
			r.context = v
		case "image":
			r.image = v
		case "keep":
			if r.keep, err = duration("keep", v); err != nil {
				return nil, err
			}
		case "timeout":
			if r.timeout, err = duration("timeout", v); err != nil {
				return nil, err
			}
			if r.timeout == 0 {
				return nil, usagef("invalid --timeout 0: the helper pod needs time to start")
			}
		case "runtime-endpoint":
			r.endpoint = v
		case "agent-namespace":
			r.agentNamespace = v
		case "node-pid":
			pid, err := strconv.Atoi(v)
			if err != nil || pid < 1 {
				return nil, usagef("invalid --node-pid %q: want a PID", v)
			}
			r.nodePID = pid
		case "cleanup":
			r.mode = modeCleanup
		}
	}
	if r.mode == modeCleanup {
		if len(operands) > 0 {
			return nil, usagef("--cleanup takes no pod")
		}
		return r, nil
	}
	if len(operands) == 0 {
		return nil, usagef("no pod given: kubectl nsx POD [-c CONTAINER] [options] [-- COMMAND [ARGS...]]")
	}
	switch operands[0] {
	case "agent":
		if len(operands) != 2 || (operands[1] != "install" && operands[1] != "remove") {
			return nil, usagef("usage: kubectl nsx agent install|remove")
		}
		r.mode = modeAgentInstall
		if operands[1] == "remove" {
			r.mode = modeAgentRemove
		}
		return r, nil
	case "debug":
		r.mode = modeDebug
		operands = operands[1:]
		if len(operands) == 0 {
			return nil, usagef("no pod given: kubectl nsx debug POD [-c CONTAINER] [options] [-- COMMAND [ARGS...]]")
		}
	}
	r.pod, r.program = operands[0], operands[1:]
	if name, ok := strings.CutPrefix(r.pod, "node/"); ok && r.mode == modeEnter {
		r.mode, r.pod = modeNode, name
	} else if name, ok := strings.CutPrefix(r.pod, "pod/"); ok {
		r.pod = name
	}
	if r.pod == "" {
		return nil, usagef("empty pod or node name")
	}
	if r.mode == modeNode && r.container != "" {
		return nil, usagef("-c makes no sense with node/%s", r.pod)
	}
	return r, nil
}

// Run is the plugin: args are the words after `kubectl nsx`.
func Run(ctx context.Context, stdio Stdio, args []string) error {
	r, err := parseArgs(args)
	if err != nil {
		return err
	}
	switch r.mode {
	case modeHelp:
		_, err := io.WriteString(stdio.Out, helpText)
		return err
	case modeVersion:
		_, err := fmt.Fprintf(stdio.Out, "kubectl-nsx %s\n", Version)
		return err
	}
	k, err := connect(r)
	if err != nil {
		return err
	}
	switch r.mode {
	case modeCleanup:
		return k.cleanup(ctx, stdio)
	case modeAgentInstall:
		return k.agentInstall(ctx, stdio)
	case modeAgentRemove:
		return k.agentRemove(ctx, stdio)
	}
	return k.enter(ctx, stdio)
}

// session is one run against one cluster.
type session struct {
	req    *request
	config *rest.Config
	api    *apiClients
	// spares are kept helpers being created in the background (see
	// acquireHelper); the plugin waits for their creation before it exits.
	spares    sync.WaitGroup
	namespace string
}

// connect loads the kubeconfig as kubectl does: --kubeconfig, else
// KUBECONFIG, else ~/.kube/config; --context and -n override it.
func connect(r *request) (*session, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if r.kubeconfig != "" {
		rules.ExplicitPath = r.kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: r.context}
	if r.namespace != "" {
		overrides.Context.Namespace = r.namespace
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %s", oneLine(err))
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %s", oneLine(err))
	}
	// A few calls in a row: do not let client-side throttling add latency.
	cfg.QPS, cfg.Burst = 50, 100
	if traceOn {
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return tracedTransport{rt} }
	}
	tracef("kubeconfig loaded")
	api, err := newAPIClients(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %s", oneLine(err))
	}
	return &session{req: r, config: cfg, api: api, namespace: ns}, nil
}

// oneLine folds an error message onto one line: API and TLS errors can
// span several.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

const helpText = `Usage:
  kubectl nsx POD [-c CONTAINER] [-n NAMESPACE] [-i] [-t] [nsx enter options] [-- COMMAND [ARGS...]]
  kubectl nsx debug POD [-c CONTAINER] [nsx debug options] [-- COMMAND [ARGS...]]
  kubectl nsx node/NODE [-i] [-t] [-- COMMAND [ARGS...]]
  kubectl nsx agent install|remove
  kubectl nsx --cleanup

Run COMMAND (default: a shell) in the namespaces of a container of POD, with
nsx on the pod's node: exact, read-only if asked (--read-only), with the
node's tools if asked (debug). node/NODE gives a shell on the node itself.

A helper pod on the node runs nsx (privileged, in the host's PID and network
namespaces, the host's /run mounted for the runtime's socket). A helper kept
by an earlier call or the agent DaemonSet's pod is used when there is one;
otherwise a one-shot helper (no mounts: it starts sooner) runs this command
and is deleted, and with --keep a kept helper is created for the next calls,
which exits by itself once idle that long.

kubectl options:
  -n, --namespace NAME      the pod's namespace (default: the context's)
  -c, --container NAME      the container (default: the pod's default container)
  -i, --stdin               pass stdin to the command
  -t, --tty                 stdin is a TTY
      --kubeconfig FILE     kubeconfig file (default: $KUBECONFIG, ~/.kube/config)
      --context NAME        kubeconfig context

kubectl-nsx options:
      --image REF           helper image (default ` + ImageRepository + `:VERSION)
      --keep DURATION       keep a created helper this long when idle (default 5m)
      --timeout DURATION    how long the helper may take to start (default 30s)
      --runtime-endpoint URL  the node's CRI socket (default: the node's
                              kubeadm.alpha.kubernetes.io/cri-socket
                              annotation, else the runtime's usual socket)
      --agent-namespace NAME  where the agent DaemonSet lives (default kube-system)
      --node-pid PID        node/NODE enters this host process's namespaces
                              (default 1)
      --cleanup             delete the plugin's helper pods: in -n's namespace,
                              else in every namespace you may list pods in
  -h, --help                this help
      --version             print the version

nsx enter options (long forms only; without one, every namespace is entered):
  --all --mount[=FILE] --uts[=FILE] --ipc[=FILE] --net[=FILE] --pid[=FILE]
  --user[=FILE] --cgroup[=FILE] --time[=FILE] --user-parent --setuid=UID
  --setgid=GID --preserve-credentials --keep-caps --root[=DIR] --wd[=DIR]
  --wdns[=DIR] --env --no-fork --join-cgroup --follow-context --explain
  --read-only
nsx debug options: --rw --toolbox=DIR

See kubectl-nsx(1).
`
