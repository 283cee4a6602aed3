package container

import "golang.org/x/sys/unix"

// ownerOf returns the uid owning path (not following a final symlink).
func ownerOf(path string) (uint32, bool) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return 0, false
	}
	return st.Uid, true
}
