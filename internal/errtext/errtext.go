// Package errtext words system errors as glibc's strerror does ("No such
// file or directory"), the way util-linux prints them and scripts match
// them; Go's own texts are lower-case. The CLI and nsenter's --explain
// share it.
package errtext

import (
	"errors"
	"syscall"
)

// Strerror returns glibc's text for the errno in err, or err's own text
// when it holds none.
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
