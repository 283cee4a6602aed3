//go:build linux && !amd64

package spawn

// canShareMemory is false where nsx has no clone3Shared: Start copies the
// process for the raw child instead (fork).
const canShareMemory = false

func clone3Shared(args, size uintptr) (pid, errno uintptr) {
	panic("spawn: no clone3Shared on this architecture")
}
