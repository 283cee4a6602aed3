package nsenter

import (
	"testing"

	"github.com/nsxproject/nsx/procfs"
)

func TestVisibleCgroup2AndMountRoot(t *testing.T) {
	mounts := []procfs.Mount{
		{MountPoint: "/", FSType: "ext4"},
		{MountPoint: "/sys/fs/cgroup", FSType: "cgroup2", Root: "/"},
		{MountPoint: "/sys/fs/cgroup", FSType: "tmpfs"},        // covers it
		{MountPoint: "/mnt/cg", FSType: "cgroup2", Root: "/a"}, // a sub-tree
		{MountPoint: "/mnt/other", FSType: "tmpfs"},
	}
	m, ok := visibleCgroup2(mounts)
	if !ok || m.MountPoint != "/mnt/cg" {
		t.Fatalf("visible cgroup2: %+v %v; want /mnt/cg", m, ok)
	}
	if _, ok := visibleCgroup2(append(mounts, procfs.Mount{MountPoint: "/mnt", FSType: "tmpfs"})); ok {
		t.Error("a cgroup2 mount under a later /mnt mount is covered")
	}
	for _, c := range []struct {
		root, cg, want string
		ok             bool
	}{
		{"/", "/x/y", "/x/y", true},
		{"/a", "/a/b", "/b", true},
		{"/a", "/a", "/", true},
		{"/a", "/ab", "", false},
		{"/a", "/c", "", false},
	} {
		if got, ok := cgroupUnder(c.root, c.cg); got != c.want || ok != c.ok {
			t.Errorf("cgroupUnder(%q, %q) = %q, %v; want %q, %v", c.root, c.cg, got, ok, c.want, c.ok)
		}
	}
}
