package spawn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/testutil"
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

// TestMountByMountCopyLeavesOutWhatLeft: a tree copied one mount at a time
// (it holds a mount namespace file) while its mounts come and go. A mount
// unmounted and removed after mountinfo was read, one replaced by another,
// and one whose directory is removed after it was copied are left out of
// the attached copy; the copy of the one that stayed is attached. In CI the
// host's containers and pods remove such mounts under nsx debug's feet.
func TestMountByMountCopyLeavesOutWhatLeft(t *testing.T) {
	testutil.RequireRoot(t)
	src, dst := t.TempDir(), t.TempDir()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread and its namespace end with the goroutine
		errc <- copyWhileMountsLeave(src, dst)
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// copyWhileMountsLeave runs TestMountByMountCopyLeavesOutWhatLeft in a
// private mount namespace of the calling thread.
func copyWhileMountsLeave(src, dst string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	if err := unix.Mount("nsx-src", src, "tmpfs", 0, ""); err != nil {
		return err
	}
	dir, err := unix.Open(src, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	srcID, err := mountID(dir)
	if err != nil {
		return err
	}
	for _, d := range []string{"gone", "replaced", "removed", "stays"} {
		if err := os.Mkdir(filepath.Join(src, d), 0o755); err != nil {
			return err
		}
		if err := unix.Mount("nsx-"+d, filepath.Join(src, d), "tmpfs", 0, ""); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, d, "f"), []byte(d), 0o644); err != nil {
			return err
		}
	}
	proc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(proc)
	tab := &mountTable{proc: proc}
	mounts, err := tab.get()
	if err != nil {
		return err
	}
	// The file itself never needs to exist: the copy only leaves such
	// files out, and its entry makes the copy go one mount at a time.
	tab.mounts = append(mounts, procfs.Mount{ID: 1 << 30, ParentID: int(srcID), Root: "mnt:[4026531841]", MountPoint: src + "/mntns", FSType: "nsfs"})

	// After mountinfo was read: one leaves, one is replaced.
	if err := unix.Unmount(filepath.Join(src, "gone"), 0); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(src, "gone")); err != nil {
		return err
	}
	if err := unix.Unmount(filepath.Join(src, "replaced"), 0); err != nil {
		return err
	}
	if err := unix.Mount("nsx-new", filepath.Join(src, "replaced"), "tmpfs", 0, ""); err != nil {
		return err
	}
	parts, err := cloneTree(tab, dir, &unix.MountAttr{Propagation: unix.MS_PRIVATE})
	defer closeParts(parts)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	// After the copy: the place of one is removed.
	if err := unix.Unmount(filepath.Join(src, "removed"), 0); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(src, "removed")); err != nil {
		return err
	}
	if err := attachTree(parts, dst); err != nil {
		return fmt.Errorf("attach: %w", err)
	}

	if b, err := os.ReadFile(filepath.Join(dst, "stays", "f")); err != nil || string(b) != "stays" {
		return fmt.Errorf("the mount that stayed is not attached: %q, %v", b, err)
	}
	for _, d := range []string{"gone", "removed"} {
		if _, err := os.Lstat(filepath.Join(dst, d)); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: %v, want it absent from the copy", d, err)
		}
	}
	// The replaced mount's place shows the directory under it, in the
	// copy of the tree's root, not the new mount.
	rootID, err := pathMountID(dst)
	if err != nil {
		return err
	}
	if id, err := pathMountID(filepath.Join(dst, "replaced")); err != nil || id != rootID {
		return fmt.Errorf("replaced: on mount %d (%v), want the copy's root %d", id, err, rootID)
	}
	return nil
}

func pathMountID(path string) (uint64, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	return mountID(fd)
}
