package container

import (
	"errors"
	"strconv"
	"strings"
)

// Kinds of resolution failure, for errors.Is. Every error Resolve returns
// wraps one of them.
var (
	// ErrNotFound: no runtime asked knows the container.
	ErrNotFound = errors.New("no such container")
	// ErrAmbiguous: the reference matches several containers.
	ErrAmbiguous = errors.New("ambiguous container reference")
	// ErrNotRunning: the container exists but has no running main process
	// (created, exited, paused, restarting, dead).
	ErrNotRunning = errors.New("container is not running")
	// ErrUnreachable: the runtime's daemon did not answer and no daemonless
	// source found the container.
	ErrUnreachable = errors.New("container runtime unreachable")
	// ErrPermission: the runtime's socket (or state files) refused us.
	ErrPermission = errors.New("permission denied")
	// ErrBadRef: the reference is malformed.
	ErrBadRef = errors.New("invalid container reference")
)

// Error is a resolution failure. Its text is one line, meant to be printed
// after "nsx: ".
type Error struct {
	// Ref is the reference as the user typed it.
	Ref string
	// Kind is one of the Err* values above.
	Kind error
	// Detail is the message after "Ref: ".
	Detail string
	// Candidates are the references of the matching containers when Kind is
	// ErrAmbiguous, e.g. "docker:web1 (3f2a9c1b4d5e)".
	Candidates []string
}

func (e *Error) Error() string { return e.Ref + ": " + e.Detail }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

func newErr(ref string, kind error, detail string) *Error {
	return &Error{Ref: ref, Kind: kind, Detail: oneLine(detail)}
}

func ambiguous(ref, what string, candidates []string) *Error {
	return &Error{Ref: ref, Kind: ErrAmbiguous, Candidates: candidates,
		Detail: oneLine("ambiguous " + what + ": " + strconv.Itoa(len(candidates)) + " containers match: " + strings.Join(candidates, ", "))}
}

// oneLine keeps messages that quote daemons on one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

// errKind returns the Err* kind of err, or nil.
func errKind(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return nil
}
