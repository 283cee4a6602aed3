package nsenter

import (
	"errors"
	"fmt"
	"syscall"
)

// Strerror returns glibc's text for an errno ("No such file or directory"),
// which util-linux prints and scripts match; Go's texts are lower-case.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s == "" {
			return s
		}
		if s[0] >= 'a' && s[0] <= 'z' {
			s = string(s[0]-'a'+'A') + s[1:]
		}
		return s
	}
	return err.Error()
}

// Error is a failure to enter, with util-linux nsenter's message.
type Error struct {
	// Msg is the message without program prefix, e.g.
	// "reassociate to namespace 'ns/net' failed".
	Msg string
	// Err, if not nil, is printed after the message and a colon.
	Err error
	// ExitCode is what nsenter exits with for this failure: 1, or 126/127
	// when the program could not be executed.
	ExitCode int
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + Strerror(e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(err error, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Err: err, ExitCode: 1}
}
