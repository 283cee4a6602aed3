package kubectl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"

	"golang.org/x/term"
)

// enter runs nsx in a helper on the target's node: enter or debug a
// container, or enter the node's own namespaces (node/NAME).
func (s *session) enter(ctx context.Context, stdio Stdio) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Ctrl-C (without a TTY), a closed terminal or a kill end the command
	// remotely and delete a helper that is not kept: nothing is left.
	var caught atomic.Value
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)
	go func() {
		select {
		case sig := <-sigc:
			caught.Store(sig)
			cancel()
		case <-ctx.Done():
		}
	}()
	interrupted := func(err error) error {
		if sig, ok := caught.Load().(syscall.Signal); ok {
			return &ExitError{Code: 128 + int(sig)}
		}
		return err
	}

	var node string
	var tgt *containerTarget
	// Kept helpers are listed while the pod is looked up.
	kept := s.lookupKept(ctx)
	var pre *prefetch
	if s.req.mode == modeNode {
		node = s.req.pod
	} else {
		var err error
		pre = s.prefetchAgent(ctx, s.req.pod)
		if tgt, err = s.findContainer(ctx, s.req.pod, s.req.container); err != nil {
			return interrupted(err)
		}
		node = tgt.node
		tracef("pod found")
	}
	defer s.spares.Wait()

	tty := s.req.tty
	in, _ := stdio.In.(*os.File)
	if tty && (in == nil || !term.IsTerminal(int(in.Fd()))) {
		fmt.Fprintln(stdio.Err, "Unable to use a TTY - input is not a terminal or the right kind of file")
		tty = false
	}

	for attempt := 0; ; attempt++ {
		h, err := s.acquireHelper(ctx, node, tgt, attempt > 0, kept, pre)
		if err != nil {
			return interrupted(err)
		}
		if tgt != nil {
			s.storeHint(s.req.pod, nodeHint{node: node, agent: h.agent})
		}
		tracef("helper %s acquired (created %v, endpoint %q)", h.name, h.created, h.endpoint)
		cmd := s.nsxCommand(tgt, h.endpoint)
		used, err := s.stream(ctx, stdio, h, cmd, tty, in)
		tracef("exec ended")
		if h.remove {
			s.deletePod(h.namespace, h.name)
			tracef("helper deleted")
		}
		if err == nil {
			return nil
		}
		var exit utilexec.ExitError
		if errors.As(err, &exit) && exit.Exited() {
			return &ExitError{Code: exit.ExitStatus()}
		}
		if ctx.Err() != nil {
			return interrupted(fmt.Errorf("interrupted"))
		}
		// A reused helper may have idled out between the lookup and the
		// exec: try once more, with a new helper, if nothing was exchanged.
		if !h.created && !used && attempt == 0 {
			continue
		}
		return fmt.Errorf("running nsx in helper pod %s/%s: %s", h.namespace, h.name, oneLine(err))
	}
}

// nsxCommand is the command line run in the helper.
func (s *session) nsxCommand(t *containerTarget, endpoint string) []string {
	var cmd []string
	switch s.req.mode {
	case modeNode:
		// The host's PID 1 (or --node-pid), in the helper's (the host's)
		// PID namespace.
		cmd = []string{nsxPath, "enter", "--target=" + strconv.Itoa(s.req.nodePID), "--all"}
		cmd = append(cmd, s.req.nsxArgs...)
		if len(s.req.program) > 0 {
			cmd = append(append(cmd, "--"), s.req.program...)
		}
		return cmd
	case modeDebug:
		cmd = []string{nsxPath, "debug"}
		// The helper's own root holds only nsx: the toolbox is the node's
		// root, mounted into the helper.
		if !slices.ContainsFunc(s.req.nsxArgs, func(a string) bool { return strings.HasPrefix(a, "--toolbox=") }) {
			cmd = append(cmd, "--toolbox="+hostRootMount)
		}
	default:
		cmd = []string{nsxPath, "enter"}
	}
	if t.runtime != "docker" && endpoint != "" {
		cmd = append(cmd, "--runtime-endpoint="+inHelperPath(endpoint))
	}
	cmd = append(cmd, s.req.nsxArgs...)
	cmd = append(cmd, t.nsxRef())
	if len(s.req.program) > 0 {
		cmd = append(append(cmd, "--"), s.req.program...)
	}
	return cmd
}

// stream runs cmd in the helper through the pod exec API (WebSocket, else
// SPDY) with the plugin's stdio. used reports whether any byte went either
// way, after which a retry could repeat the command's effects.
func (s *session) stream(ctx context.Context, stdio Stdio, h *helper, cmd []string, tty bool, in *os.File) (used bool, err error) {
	req := s.api.core.Post().
		Resource("pods").Namespace(h.namespace).Name(h.name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: helperContainer,
			Command:   cmd,
			Stdin:     s.req.stdin,
			Stdout:    true,
			Stderr:    !tty,
			TTY:       tty,
		}, paramCodec)
	ex, err := executor(s.config, req.URL())
	if err != nil {
		return false, err
	}
	var moved atomic.Bool
	opts := remotecommand.StreamOptions{
		Stdout: &flagWriter{w: stdio.Out, moved: &moved},
		Tty:    tty,
	}
	if !tty {
		opts.Stderr = &flagWriter{w: stdio.Err, moved: &moved}
	}
	if s.req.stdin {
		opts.Stdin = &flagReader{r: stdio.In, moved: &moved}
	}
	if tty {
		fd := int(in.Fd())
		if s.req.stdin {
			old, err := term.MakeRaw(fd)
			if err != nil {
				return false, fmt.Errorf("terminal: %w", err)
			}
			defer term.Restore(fd, old)
		}
		sizes := newSizeQueue(fd)
		defer sizes.stop()
		opts.TerminalSizeQueue = sizes
	}
	err = ex.StreamWithContext(ctx, opts)
	return moved.Load(), err
}

// executor is the exec stream's protocol, as kubectl exec picks it:
// WebSocket (v5), SPDY when the upgrade fails, SPDY alone with
// KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false (kubectl's own switch; the
// benchmark compares both).
func executor(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error) {
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", u)
	if err != nil {
		return nil, err
	}
	if v := os.Getenv("KUBECTL_REMOTE_COMMAND_WEBSOCKETS"); v != "" {
		if on, err := strconv.ParseBool(v); err == nil && !on {
			tracef("exec over SPDY")
			return spdy, nil
		}
	}
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// flagWriter and flagReader note that bytes moved.
type flagWriter struct {
	w     io.Writer
	moved *atomic.Bool
}

func (f *flagWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		f.moved.Store(true)
	}
	return f.w.Write(p)
}

type flagReader struct {
	r     io.Reader
	moved *atomic.Bool
}

func (f *flagReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 {
		f.moved.Store(true)
	}
	return n, err
}

// sizeQueue reports the terminal's size, again a few times in the first
// seconds, then each change (SIGWINCH). The repeats are for runtimes that
// drop a resize arriving before the program's terminal exists (containerd
// 1.6 does): the program would otherwise see a 0x0 terminal until the user
// resizes the window.
type sizeQueue struct {
	fd      int
	winch   chan os.Signal
	done    chan struct{}
	first   atomic.Bool
	repeats atomic.Int32
}

// sizeRepeats are the pauses before each repeat of the first size.
var sizeRepeats = []time.Duration{250 * time.Millisecond, 750 * time.Millisecond, 2 * time.Second}

func newSizeQueue(fd int) *sizeQueue {
	q := &sizeQueue{fd: fd, winch: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(q.winch, syscall.SIGWINCH)
	return q
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	for {
		if q.first.CompareAndSwap(false, true) {
			if sz := q.size(); sz != nil {
				return sz
			}
		}
		var again <-chan time.Time
		if n := int(q.repeats.Load()); n < len(sizeRepeats) {
			again = time.After(sizeRepeats[n])
		}
		select {
		case <-q.done:
			return nil
		case <-again:
			q.repeats.Add(1)
			if sz := q.size(); sz != nil {
				return sz
			}
		case <-q.winch:
			if sz := q.size(); sz != nil {
				return sz
			}
		}
	}
}

func (q *sizeQueue) size() *remotecommand.TerminalSize {
	w, h, err := term.GetSize(q.fd)
	if err != nil || w <= 0 || h <= 0 {
		return nil
	}
	return &remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}
}

func (q *sizeQueue) stop() {
	signal.Stop(q.winch)
	close(q.done)
}
