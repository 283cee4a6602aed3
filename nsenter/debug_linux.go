package nsenter

import (
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/errtext"

	"github.com/nsxproject/nsx/target"
)

// Debug returns a Cmd that runs name with args as DebugOptions describe,
// in every namespace of t but its mount namespace; the other options are
// those of opts (credentials, environment, capabilities). An empty name runs
// the caller's $SHELL if the toolbox has it, else /bin/sh.
func Debug(t *target.Pinned, opts Options, d DebugOptions, name string, args ...string) *Cmd {
	opts.Debug = &d
	if opts.Kinds == 0 {
		opts.All = true
	}
	c := &Cmd{Target: t, Options: opts, Path: name}
	if name != "" {
		c.Args = append([]string{name}, args...)
	}
	return c
}

// inToolbox reports whether the toolbox has an executable at path, resolved
// as the debug program will see it, with the toolbox as its root.
func inToolbox(toolbox, path string) bool {
	dir, err := unix.Open(toolbox, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, strings.TrimPrefix(path, "/"), &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o111 != 0
}

// debugCause words the error of a debug namespace step as util-linux words
// errors, with the path of a failed mount copy when there is one.
func debugCause(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + errtext.Strerror(pe.Err)
	}
	return errtext.Strerror(err)
}
