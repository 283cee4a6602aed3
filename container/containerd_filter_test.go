package container

import (
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
)

// ID prefixes go to containerd as a regular expression: a '.' in them
// must match only a '.'.
func TestContainerdDottedPrefix(t *testing.T) {
	enginetest.Require(t, "containerd")
	id := enginetest.Name("nsx-runtime.d")
	pid := enginetest.RunCtr(t, "default", id)
	checkFound(t, resolveT(t, "containerd:"+id[:len(id)-3]), "containerd", id, pid, "containerd API")
	other := strings.Replace(id, ".", "x", 1)
	wantErr(t, "containerd:"+other[:len(other)-3], ErrNotFound, "no such container")
}
