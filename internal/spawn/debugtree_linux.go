package spawn

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/procfs"
)

// Copies of mount trees for the debug namespace. One recursive
// open_tree(OPEN_TREE_CLONE) is the rule. The exception is a tree holding a
// bind mount of a mount namespace file (unshare --mount=FILE persists one
// so): the kernel refuses to attach such a tree in a namespace newer than
// the one the file names (ELOOP, to rule out reference loops), and the debug
// namespace is always the newest. Such a tree is copied one mount at a time,
// without those files, from the calling thread's mountinfo.
//
// Copied so, the tree is not one snapshot: the host and its containers mount
// and unmount while nsx works, and removing a directory detaches the mounts
// on it from every namespace. A mount gone before it is copied, or whose
// place is gone before it is attached, is left out, as it is gone from the
// target too; one that appeared after mountinfo was read is not copied. The
// debug program sees the tree of a moment during nsx's start-up, less what
// left meanwhile, and never a mount that was not the target's.

// treePart is a detached copy of one mount (or, for a single recursive
// copy, of the whole tree), to be attached at rel below the tree's place.
type treePart struct {
	rel string // "" for the tree's root, else "a/b" without a leading slash
	fd  int
}

func closeParts(parts []treePart) {
	for _, p := range parts {
		unix.Close(p.fd)
	}
}

// mountTable is the calling thread's mountinfo, read once for the copies
// made in one mount namespace. proc is a directory fd of nsx's own procfs:
// in the target's mount namespace, /proc is the target's, where this
// thread has no entry.
type mountTable struct {
	proc   int
	mounts []procfs.Mount
	read   bool
}

func (t *mountTable) get() ([]procfs.Mount, error) {
	if !t.read {
		fd, err := unix.Openat(t.proc, "thread-self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(fd), "mountinfo")
		text, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		if t.mounts, err = procfs.ParseMountinfo(string(text)); err != nil {
			return nil, err
		}
		t.read = true
	}
	return t.mounts, nil
}

// cloneTree copies the mount tree at dir, an fd of the calling thread's
// mount namespace (whose mounts tab lists), and sets attr on every copied
// mount.
func cloneTree(tab *mountTable, dir int, attr *unix.MountAttr) (parts []treePart, err error) {
	defer func() {
		if err != nil {
			closeParts(parts)
			parts = nil
		}
	}()
	mounts, err := tab.get()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(tab.proc, "thread-self/fd/"+strconv.Itoa(dir), buf)
	if err != nil {
		return nil, err
	}
	path := string(buf[:n])
	base, err := mountID(dir)
	if err != nil {
		return nil, err
	}
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH
	setFlags := unix.AT_EMPTY_PATH
	visible := visibleBelow(mounts, path, base)
	if !holdsMountNSFile(visible) {
		flags |= unix.AT_RECURSIVE
		setFlags |= unix.AT_RECURSIVE
		visible = nil
	}
	fd, err := unix.OpenTree(dir, "", uint(flags))
	if err != nil {
		return nil, err
	}
	parts = append(parts, treePart{fd: fd})
	if err := unix.MountSetattr(fd, "", uint(setFlags), attr); err != nil {
		return parts, err
	}
	for _, m := range visible {
		if isMountNSFile(m) {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(m.MountPoint, path), "/")
		fd, err := openBeneath(dir, rel)
		if errors.Is(err, unix.ENOENT) {
			continue // gone since mountinfo was read
		}
		if err != nil {
			return parts, &os.PathError{Op: "open", Path: m.MountPoint, Err: err}
		}
		id, err := mountID(fd)
		if err == nil && id != uint64(m.ID) {
			// Unmounted or covered since mountinfo was read: the
			// path shows another mount now, which is not the one
			// listed, so neither is copied.
			unix.Close(fd)
			continue
		}
		var clone int
		if err == nil {
			clone, err = unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
		}
		unix.Close(fd)
		if err != nil {
			return parts, &os.PathError{Op: "copy", Path: m.MountPoint, Err: err}
		}
		parts = append(parts, treePart{rel: rel, fd: clone})
		if err := unix.MountSetattr(clone, "", unix.AT_EMPTY_PATH, attr); err != nil {
			return parts, err
		}
	}
	return parts, nil
}

// attachTree attaches the copies at dst, a path of the debug namespace's
// stage. The copies below the root are attached through fds resolved
// beneath dst without following symlinks, as the tree's owner controls its
// paths.
func attachTree(parts []treePart, dst string) error {
	if len(parts) == 0 {
		return errors.New("nothing to attach")
	}
	if err := unix.MoveMount(parts[0].fd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return err
	}
	if len(parts) == 1 {
		return nil
	}
	top, err := unix.Open(dst, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(top)
	for _, p := range parts[1:] {
		at, err := openBeneath(top, p.rel)
		if err == nil {
			err = unix.MoveMount(p.fd, "", at, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
			unix.Close(at)
		}
		// ENOENT: the directory the mount sat on was removed since it
		// was copied (move_mount says so too for a removed one), and
		// the kernel detached the mount from every namespace then.
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return nil
}

// openBeneath opens rel below dir as an O_PATH fd, never leaving dir and
// never following a symlink.
func openBeneath(dir int, rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(dir, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
}

func mountID(fd int) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, err
	}
	return stx.Mnt_id, nil
}

// visibleBelow lists, parents first, the mounts a walk from dir (at path,
// on mount base) can reach: below path, not covered by a later mount on
// the same place.
func visibleBelow(mounts []procfs.Mount, path string, base uint64) []procfs.Mount {
	children := map[int][]int{}
	for i, m := range mounts {
		children[m.ParentID] = append(children[m.ParentID], i)
	}
	below := func(p string) bool {
		return path == "/" && p != "/" || strings.HasPrefix(p, path+"/")
	}
	// A mount mounted on another's root covers it entirely; follow such
	// stacks to the mount on top.
	topOf := func(i int) int {
		for {
			next := -1
			for _, c := range children[mounts[i].ID] {
				if mounts[c].MountPoint == mounts[i].MountPoint {
					next = c
				}
			}
			if next < 0 {
				return i
			}
			i = next
		}
	}
	// A child of a mount is covered by a sibling mounted later on the
	// same place, or by one on a directory above its place.
	covered := func(kids []int, c int) bool {
		mp := mounts[c].MountPoint
		for _, q := range kids {
			qp := mounts[q].MountPoint
			if q != c && (qp == mp && q > c || strings.HasPrefix(mp, strings.TrimSuffix(qp, "/")+"/")) {
				return true
			}
		}
		return false
	}
	var out []procfs.Mount
	var walk func(i int)
	walk = func(i int) {
		m := mounts[i]
		kids := children[m.ID]
		for _, c := range kids {
			mp := mounts[c].MountPoint
			if mp == m.MountPoint || !below(mp) || covered(kids, c) {
				continue
			}
			t := topOf(c)
			out = append(out, mounts[t])
			walk(t)
		}
	}
	for i, m := range mounts {
		if uint64(m.ID) == base {
			walk(i)
		}
	}
	return out
}

func isMountNSFile(m procfs.Mount) bool {
	return m.FSType == "nsfs" && strings.HasPrefix(m.Root, "mnt:")
}

func holdsMountNSFile(ms []procfs.Mount) bool {
	for _, m := range ms {
		if isMountNSFile(m) {
			return true
		}
	}
	return false
}
