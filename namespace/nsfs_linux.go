package namespace

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/procfs"
)

// ID identifies a namespace the way lsns and `readlink /proc/PID/ns/X` do: by
// the inode number of its nsfs file. Device numbers are all the same nsfs.
type ID uint64

// Stat returns the namespace ID (inode) of an open namespace file.
func Stat(fd int) (ID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return ID(st.Ino), nil
}

// StatPath returns the namespace ID of a namespace file, following symlinks
// as /proc/PID/ns/* are.
func StatPath(path string) (ID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return ID(st.Ino), nil
}

// KindOf asks the kernel which kind of namespace an nsfs fd refers to
// (NS_GET_NSTYPE). A file that is not a namespace gives an error.
func KindOf(fd int) (Kind, error) {
	// Only an nsfs file is asked: the same ioctl number could mean
	// something else to a device driver.
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return 0, err
	}
	if sfs.Type != unix.NSFS_MAGIC {
		return 0, unix.EINVAL
	}
	t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return 0, err
	}
	k := Kind(t)
	if _, ok := infoOf(k); !ok {
		return 0, fmt.Errorf("unknown namespace type %#x", t)
	}
	return k, nil
}

// OwnerFd opens the user namespace that owns the namespace fd refers to
// (NS_GET_USERNS). The returned fd is close-on-exec.
func OwnerFd(fd int) (int, error) {
	return unix.IoctlRetInt(fd, unix.NS_GET_USERNS)
}

// ParentFd opens the parent of a user or PID namespace (NS_GET_PARENT). The
// returned fd is close-on-exec.
func ParentFd(fd int) (int, error) {
	return unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
}

// OwnerUID returns the UID of the creator of a user namespace
// (NS_GET_OWNER_UID).
func OwnerUID(fd int) (uint32, error) {
	return unix.IoctlGetUint32(fd, unix.NS_GET_OWNER_UID)
}

// Supported reports which kinds this kernel has, judged by the entries of
// /proc/self/ns: nsenter -a skips kinds missing there.
func Supported() Set {
	var s Set
	// procfs reads raw: an os.File would start the network poller.
	names, err := procfs.ReadDirNames("/proc/self/ns")
	if err != nil {
		return s
	}
	for _, n := range names {
		for _, k := range All {
			if n == k.ProcName() {
				s = s.Add(k)
			}
		}
	}
	return s
}

// OpenFile opens a file named as a namespace file for reading, close-on-exec
// and without blocking: a FIFO given by mistake (or by a caller's trick) is
// opened at once instead of waiting forever for a writer, and then fails
// as any other file that is not a namespace does. Nothing is read from it.
func OpenFile(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
