package errtext

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestStrerror(t *testing.T) {
	for err, want := range map[error]string{
		syscall.ENOENT:                          "No such file or directory",
		fmt.Errorf("open x: %w", syscall.EPERM): "Operation not permitted",
		errors.New("plain"):                     "plain",
	} {
		if got := Strerror(err); got != want {
			t.Errorf("Strerror(%v) = %q, want %q", err, got, want)
		}
	}
}
