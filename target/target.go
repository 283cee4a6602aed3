// Package target turns what a user names as a target — a PID, PID:INODE, a
// namespace file or a container reference — into a process pinned by a pidfd,
// so that a PID recycled between lookup and use can never redirect nsx into
// another process's namespaces.
package target

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nsxproject/nsx/container"
)

// Ref is a parsed target reference. Exactly one of PID, Path and Container
// is set.
type Ref struct {
	// PID of the target process, with Inode, when non-zero, the pidfs inode
	// the process must have (PID:INODE).
	PID   int
	Inode uint64
	// Path is a namespace file (a /proc/PID/ns entry or a bind mount of one).
	Path string
	// Container is a container reference, with or without a runtime scheme.
	Container string
}

// String gives the reference back as users write it.
func (r Ref) String() string {
	switch {
	case r.Path != "":
		return r.Path
	case r.Container != "":
		return r.Container
	case r.Inode != 0:
		return fmt.Sprintf("%d:%d", r.PID, r.Inode)
	}
	return strconv.Itoa(r.PID)
}

// ErrBadPID reports a PID that is not a positive decimal number.
var ErrBadPID = errors.New("invalid PID")

// ParsePID parses "PID" or "PID:INODE" as nsenter 2.42 does.
func ParsePID(s string) (pid int, inode uint64, err error) {
	p, ino, hasIno := strings.Cut(s, ":")
	n, err := strconv.ParseUint(p, 10, 31)
	if err != nil || n == 0 {
		return 0, 0, ErrBadPID
	}
	if hasIno {
		if inode, err = strconv.ParseUint(ino, 10, 64); err != nil || inode == 0 {
			return 0, 0, ErrBadPID
		}
	}
	return int(n), inode, nil
}

// Parse classifies a reference: digits are a PID, a path (anything with a
// '/') a namespace file, everything else a container reference.
func Parse(s string) (Ref, error) {
	if s == "" {
		return Ref{}, errors.New("empty target")
	}
	if s[0] == '-' {
		// Not a PID, and no container name starts so: most likely an
		// option in the wrong place.
		return Ref{}, fmt.Errorf("invalid target %q", s)
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.Contains(s, "/") {
		if _, _, isRef := container.SplitRef(s); !isRef {
			pid, ino, err := ParsePID(s)
			if err != nil {
				return Ref{}, fmt.Errorf("invalid target %q: not a PID, PID:INODE, namespace file or container", s)
			}
			return Ref{PID: pid, Inode: ino}, nil
		}
	}
	if strings.Contains(s, "/") {
		if _, _, isRef := container.SplitRef(s); !isRef {
			return Ref{Path: s}, nil
		}
	}
	return Ref{Container: s}, nil
}

// Resolve parses s and pins what it names. For a container reference it asks
// the container package which process that is.
func Resolve(ctx context.Context, s string) (*Pinned, error) {
	r, err := Parse(s)
	if err != nil {
		return nil, err
	}
	return r.Pin(ctx)
}
