package spawn

// canShareMemory says that this architecture has clone3Shared, so that Start
// may run the raw child in this process's memory (sharesMemory).
const canShareMemory = true

// clone3Shared is clone3 for a child that shares this process's memory and
// stack until it executes (clone_linux_amd64.s). It returns twice: first in
// the child (pid 0), which must never return from its caller, then here.
func clone3Shared(args, size uintptr) (pid, errno uintptr)
