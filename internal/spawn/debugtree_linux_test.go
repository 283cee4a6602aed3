package spawn

import (
	"strings"
	"testing"

	"github.com/nsxproject/nsx/procfs"
)

// visibleBelow decides which mounts a copy of a tree takes one by one; it
// is pure, so the covering rules are checked here on a made-up table.
func TestVisibleBelow(t *testing.T) {
	const table = `1 0 8:1 / / rw - ext4 /dev/sda1 rw
2 1 0:5 / /proc rw - proc proc rw
3 2 0:6 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
4 2 0:7 / /proc rw - proc proc rw
5 1 8:1 /mnt /mnt/deep/x rw - ext4 /dev/sda1 rw
6 1 0:8 / /mnt rw - tmpfs tmpfs rw
7 6 0:4 mnt:[4026532999] /mnt/ns rw - nsfs nsfs rw
8 6 0:9 / /mnt/sub rw - tmpfs tmpfs rw
9 1 0:10 / /srv rw - tmpfs a rw
10 1 0:11 / /srv rw - tmpfs b rw
11 1 0:12 / /other rw - tmpfs tmpfs rw
`
	mounts, err := procfs.ParseMountinfo(table)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ms []procfs.Mount) string {
		var out []string
		for _, m := range ms {
			out = append(out, m.MountPoint+"="+m.Source)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		path string
		base uint64
		want string
	}{
		// /proc: the procfs stacked on top, not the one under it or its
		// binfmt_misc; /mnt/deep/x: covered by the tmpfs on /mnt; /srv:
		// the later of two on one place.
		{"/", 1, "/proc=proc /mnt=tmpfs /mnt/ns=nsfs /mnt/sub=tmpfs /srv=b /other=tmpfs"},
		{"/mnt", 6, "/mnt/ns=nsfs /mnt/sub=tmpfs"},
		// A directory that is not a mount: only what lies below it.
		{"/srv2", 1, ""},
	} {
		if got := names(visibleBelow(mounts, c.path, c.base)); got != c.want {
			t.Errorf("below %s: %q, want %q", c.path, got, c.want)
		}
	}
	if !holdsMountNSFile(visibleBelow(mounts, "/", 1)) || holdsMountNSFile(visibleBelow(mounts, "/srv", 10)) {
		t.Error("holdsMountNSFile misjudges the mount namespace file at /mnt/ns")
	}
}
