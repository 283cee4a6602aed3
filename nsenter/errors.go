package nsenter

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/nsxproject/nsx/target"
)

// The kinds of failure, for errors.Is. An *Error is of a kind when it says
// so or when its errno means it: ESRCH is ErrTargetGone, EPERM and EACCES
// ErrPermission, a join's EINVAL ErrNotNamespace.
var (
	// ErrTargetGone: the target process exited (or was replaced).
	ErrTargetGone = target.ErrGone
	// ErrNotNamespace: a file is not a namespace, or not of the kind it
	// was given for.
	ErrNotNamespace = errors.New("not a namespace of that kind")
	// ErrPermission: the kernel refused for lack of privilege.
	ErrPermission = errors.New("permission denied")
	// ErrUnsupported: a kind or a combination of options that cannot be
	// done (a user namespace without a fork, -c on cgroup v1, …).
	ErrUnsupported = errors.New("not supported")
	// ErrExec: everything was entered, but the program could not be
	// executed (not found, not executable).
	ErrExec = errors.New("program could not be executed")
)

// Error is a failure to enter or to start the program.
type Error struct {
	// Op is what failed, in util-linux nsenter's words without the
	// cause, e.g. "reassociate to namespace 'ns/net' failed" or
	// "failed to execute /bin/foo".
	Op string
	// Kind is one of the Err* kinds when the failure is of it whatever
	// the errno, else nil.
	Kind error
	// Path is the file involved, when there is one (the program for
	// ErrExec).
	Path string
	// Err is the cause, usually a syscall.Errno; nil when Op says all.
	Err error

	join bool // a setns the kernel refused
}

// Error gives the failure in Go's style: "nsenter: OP: cause".
func (e *Error) Error() string {
	if e.Err == nil {
		return "nsenter: " + e.Op
	}
	return "nsenter: " + e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether e is of the kind target (see the Err* kinds).
func (e *Error) Is(target error) bool {
	if e.Kind != nil && target == e.Kind {
		return true
	}
	var errno syscall.Errno
	if !errors.As(e.Err, &errno) {
		return false
	}
	switch target {
	case ErrTargetGone:
		return errno == syscall.ESRCH
	case ErrPermission:
		return errno == syscall.EPERM || errno == syscall.EACCES
	case ErrNotNamespace:
		return e.join && errno == syscall.EINVAL
	}
	return false
}

func errorf(err error, format string, args ...any) *Error {
	return &Error{Op: fmt.Sprintf(format, args...), Err: err}
}

// unsupportedf is an error of kind ErrUnsupported.
func unsupportedf(format string, args ...any) *Error {
	e := errorf(nil, format, args...)
	e.Kind = ErrUnsupported
	return e
}

// joinError is the kernel's refusal of a join.
func joinError(err error, op string) *Error {
	e := errorf(err, "%s", op)
	e.join = true
	return e
}

// exitCode is what nsenter exits with after err, for the audit record: 126
// or 127 when the program could not be executed, else 1.
func exitCode(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Kind == ErrExec {
		if errors.Is(e.Err, syscall.ENOENT) {
			return 127
		}
		return 126
	}
	return 1
}
