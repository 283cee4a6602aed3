package container

// Names of containers found without a reference (in a cgroup path), from
// what the runtimes leave on disk: listings name every container the way a
// user would type it, and no daemon is asked for that.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/procfs"
)

// identity is what the files a runtime leaves on disk say of a container
// whose ID a cgroup path gave.
type identity struct {
	// Runtime is the runtime a reference names it with: "cri" for a
	// containerd task the CRI plugin made (its cgroup path says k8s.io).
	Runtime string
	// Name is what Resolve takes after "Runtime:": Docker's and podman's
	// name, CRI's NAMESPACE/POD/CONTAINER (NAMESPACE/POD for a pod's
	// sandbox), containerd's NAMESPACE/ID or NAMESPACE/NERDCTL-NAME; ""
	// when none is recorded.
	Name string
}

var (
	identities   sync.Map // runtime+"\x00"+id -> identity
	podmanNameMu sync.Mutex
	podmanNames  map[string]string // ID -> first name, from every containers.json read
)

// identify returns the runtime and name of the container with this full
// ID, as a cgroup path named the runtime ("docker", "podman",
// "containerd", "cri"). It reads state files only (Docker's
// config.v2.json, containers-storage's containers.json, runc's state
// labels), each once per process, and never fails: what it cannot read
// leaves Name empty.
func identify(runtime, id string) identity {
	key := runtime + "\x00" + id
	if v, ok := identities.Load(key); ok {
		return v.(identity)
	}
	ident := identity{Runtime: runtime}
	if id != "" && !strings.ContainsAny(id, "/\x00") && id != "." && id != ".." {
		switch runtime {
		case "docker":
			ident.Name = dockerName(id)
		case "podman":
			ident.Name = podmanName(id)
		case "cri":
			ident.Name = criName(id)
			if ident.Name == "" {
				// A task of containerd's k8s.io namespace that the CRI
				// plugin did not make (ctr -n k8s.io run).
				if c := containerdIdentity(id); c.Name != "" {
					ident = c
				}
			}
		case "containerd":
			ident = containerdIdentity(id)
		}
	}
	identities.Store(key, ident)
	return ident
}

// OfProcess says which container process pid belongs to, given the text of
// its /proc/PID/cgroup: the container its cgroup path names (FromCgroup),
// named as the runtime's files on disk name it (no daemon is asked), else a
// rootless podman container whose recorded main process pid is. It returns
// nil when the process is in no container it can tell.
func OfProcess(pid int, cgroup []byte) *Container {
	if lines, err := procfs.ParseCgroup(string(cgroup)); err == nil {
		if c, ok := FromCgroup(lines); ok {
			if c.Name == "" {
				id := identify(c.Runtime, c.ID)
				c.Runtime, c.Name = id.Runtime, id.Name
			}
			return &c
		}
	}
	// A rootless container without a cgroup of its own.
	if id, name, ok := podmanByInitPID(pid); ok {
		return &Container{Runtime: "podman", ID: id, Name: name, Source: "rootless podman's OCI runtime state"}
	}
	return nil
}

// maxStateFile bounds what is read of a state file a name comes from.
const maxStateFile = 16 << 20

// sortedNames lists dir in name order, as os.ReadDir would, but raw (see
// readBounded); nil when it cannot be read.
func sortedNames(dir string) []string {
	names, err := procfs.ReadDirNames(dir)
	if err != nil {
		return nil
	}
	slices.Sort(names)
	return names
}

// readBounded reads a state file whole, refusing one larger than
// maxStateFile. The reads are raw: an os.File per container row of nsx ls
// would start the network poller and register every file with it.
func readBounded(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	// Sized by fstat, one read takes the whole file and the next sees its
	// end; a file that grows meanwhile is still read to its end.
	size := 4096
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Size > 0 && st.Size < maxStateFile {
		size = int(st.Size) + 1
	}
	b, err := procfs.AppendFdMax(make([]byte, 0, size), fd, maxStateFile)
	if err == procfs.ErrTooLarge {
		return nil, os.ErrInvalid
	}
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return b, nil
}

func dockerName(id string) string {
	b, err := readBounded(filepath.Join(dockerDataRoot(), "containers", id, "config.v2.json"))
	if err != nil {
		return ""
	}
	cfg, err := parseDockerConfig(b)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(cfg.Name, "/")
}

// podmanName looks id up in containers-storage's containers.json files:
// the rootful (or the caller's own) storage.
func podmanName(id string) string {
	podmanNameMu.Lock()
	defer podmanNameMu.Unlock()
	if podmanNames == nil {
		podmanNames = map[string]string{}
		graph, _ := podmanStorageRoots()
		for _, d := range sortedNames(graph) {
			if !strings.HasSuffix(d, "-containers") {
				continue
			}
			b, err := readBounded(filepath.Join(graph, d, "containers.json"))
			if err != nil {
				continue
			}
			es, err := parsePodmanContainers(b)
			if err != nil {
				continue
			}
			for _, e := range es {
				if len(e.Names) > 0 {
					podmanNames[e.ID] = e.Names[0]
				}
			}
		}
	}
	return podmanNames[id]
}

// criName reads the Kubernetes names from runc's state labels:
// containerd's (k8s.io namespace) or CRI-O's.
func criName(id string) string {
	// The running daemons' roots are searched only when the usual and the
	// configured ones do not have it (finding them reads all of /proc).
	name := ""
	eachNewRoot(func(root string) bool {
		st, err := readRuncState(root, id)
		if err == nil {
			name = criStateName(st)
		}
		return err == nil
	}, criRuncRootsCheap, criRuncRoots)
	return name
}

// eachNewRoot calls try on the roots each source lists, in order, each root
// once, until try reports that it found what it looked for; a source is
// only asked when the ones before it did not have it.
func eachNewRoot(try func(root string) bool, sources ...func() []string) {
	var tried []string
	for _, roots := range sources {
		for _, root := range roots() {
			if slices.Contains(tried, root) {
				continue
			}
			tried = append(tried, root)
			if try(root) {
				return
			}
		}
	}
}

// criStateName is NAMESPACE/POD/CONTAINER for an application container,
// NAMESPACE/POD for a pod's sandbox (whose process holds the pod's
// network, IPC and UTS namespaces), "" for anything else.
func criStateName(st *runcState) string {
	if ns, pod, ctr, ok := criLabels(st); ok {
		if ns != "" && pod != "" && ctr != "" {
			return ns + "/" + pod + "/" + ctr
		}
		return ""
	}
	ns, pod := st.label("io.kubernetes.cri.sandbox-namespace"), st.label("io.kubernetes.cri.sandbox-name")
	if st.label("io.kubernetes.cri.container-type") != "sandbox" {
		if st.label("io.kubernetes.container.name") != "POD" {
			return ""
		}
		ns, pod = st.label("io.kubernetes.pod.namespace"), st.label("io.kubernetes.pod.name")
	}
	if ns == "" || pod == "" {
		return ""
	}
	return ns + "/" + pod
}

// containerdIdentity finds the namespace whose runc state holds id: a task
// of k8s.io that carries CRI labels is a CRI container; others are named
// NAMESPACE/ID, or NAMESPACE/NAME with a nerdctl name.
func containerdIdentity(id string) identity {
	// The running daemons' roots are read only after the files' ones.
	ident := identity{Runtime: "containerd"}
	eachNewRoot(func(base string) bool {
		found, ok := containerdIdentityIn(base, id)
		if ok {
			ident = found
		}
		return ok
	}, func() []string { return fileContainerdDirs().runcBases },
		func() []string { return configuredContainerdDirs().runcBases })
	return ident
}

// containerdIdentityIn looks for id in every namespace of one runc root.
func containerdIdentityIn(base, id string) (identity, bool) {
	for _, ns := range sortedNames(base) {
		st, err := readRuncState(filepath.Join(base, ns), id)
		if err != nil {
			continue
		}
		if ns == "k8s.io" {
			if name := criStateName(st); name != "" {
				return identity{Runtime: "cri", Name: name}, true
			}
		}
		name := st.label("nerdctl/name")
		if name == "" || strings.ContainsAny(name, "/\x00") {
			name = id
		}
		return identity{Runtime: "containerd", Name: ns + "/" + name}, true
	}
	return identity{}, false
}

// Rootless containers (rootless podman on a host without systemd, or with
// cgroups disabled) get no cgroup of their own, so no cgroup path names
// them. Their OCI runtime does record their main process, in the user's
// runtime directory: runc's state.json or crun's status, whose bundle is
// <graphroot>/<driver>-containers/<id>/userdata; the containers.json beside
// it names the container.

type rootlessEntry struct {
	id, name string
	start    uint64
}

var (
	rootlessOnce  sync.Once
	rootlessByPID map[int]rootlessEntry
)

// rootlessStateRoots are the runc and crun roots of users' runtime
// directories: every user's when the caller can read them (root), else
// the caller's own.
func rootlessStateRoots() []string {
	var dirs []string
	if xdg := getenv("XDG_RUNTIME_DIR"); xdg != "" {
		dirs = append(dirs, xdg)
	}
	for _, u := range sortedNames("/run/user") {
		if u != "" && u[0] >= '0' && u[0] <= '9' {
			dirs = append(dirs, "/run/user/"+u)
		}
	}
	var roots []string
	seen := map[string]bool{}
	for _, d := range dirs {
		for _, rt := range []string{"runc", "crun"} {
			r := filepath.Join(d, rt)
			if !seen[r] {
				seen[r] = true
				roots = append(roots, r)
			}
		}
	}
	return roots
}

// podmanByInitPID names the rootless podman container whose main process
// is pid, from the OCI runtime state in users' runtime directories; ok is
// false when none records pid (or the process there now is another one).
func podmanByInitPID(pid int) (id, name string, ok bool) {
	rootlessOnce.Do(indexRootless)
	e, ok := rootlessByPID[pid]
	if !ok {
		return "", "", false
	}
	if _, err := procStatAlive(pid, e.start); err != nil {
		return "", "", false
	}
	return e.id, e.name, true
}

func indexRootless() {
	rootlessByPID = map[int]rootlessEntry{}
	for _, root := range rootlessStateRoots() {
		ents := sortedNames(root)
		if ents == nil {
			continue
		}
		owner, ok := ownerOf(root)
		if !ok {
			continue
		}
		for _, id := range ents {
			if !isHexID(id) {
				continue
			}
			var pid int
			var start uint64
			var bundle string
			if filepath.Base(root) == "runc" {
				st, err := readRuncState(root, id)
				if err != nil || st.label("io.container.manager") != "libpod" {
					continue
				}
				pid, start, bundle = st.InitPID, st.InitStart, st.label("bundle")
			} else {
				b, err := readBounded(filepath.Join(root, id, "status"))
				if err != nil {
					continue
				}
				st, err := parseCrunStatus(b)
				if err != nil {
					continue
				}
				pid, start, bundle = st.PID, st.StartTime, st.Bundle
			}
			if pid <= 0 {
				continue
			}
			rootlessByPID[pid] = rootlessEntry{id: id, name: podmanNameBeside(bundle, id, owner), start: start}
		}
	}
}

// podmanNameBeside reads the name of container id from the containers.json
// of the storage that holds its bundle; the file must belong to the user
// whose runtime directory recorded the container, so a state file cannot
// make nsx read someone else's.
func podmanNameBeside(bundle, id string, owner uint32) string {
	if filepath.Base(bundle) != "userdata" || filepath.Base(filepath.Dir(bundle)) != id {
		return ""
	}
	list := filepath.Join(filepath.Dir(filepath.Dir(bundle)), "containers.json")
	if !strings.HasSuffix(filepath.Dir(list), "-containers") {
		return ""
	}
	if uid, ok := ownerOf(list); !ok || uid != owner {
		return ""
	}
	b, err := readBounded(list)
	if err != nil {
		return ""
	}
	es, err := parsePodmanContainers(b)
	if err != nil {
		return ""
	}
	for _, e := range es {
		if e.ID == id && len(e.Names) > 0 {
			return e.Names[0]
		}
	}
	return ""
}

// podmanRootless resolves name among the rootless podman containers that
// users' runtime directories record (found when the caller's own podman
// storage does not know it: root entering a user's container). It returns
// nil, nil when none matches.
func podmanRootless(ref, name string) (*Found, error) {
	rootlessOnce.Do(indexRootless)
	var exact, prefix []int
	for pid, e := range rootlessByPID {
		switch {
		case e.id == name || (e.name != "" && e.name == name):
			exact = append(exact, pid)
		case isHex(name) && strings.HasPrefix(e.id, name):
			prefix = append(prefix, pid)
		}
	}
	set := exact
	if len(set) == 0 {
		set = prefix
	}
	switch len(set) {
	case 0:
		return nil, nil
	case 1:
	default:
		var cands []string
		for _, pid := range set {
			cands = append(cands, candidateRef("podman", rootlessByPID[pid].name, rootlessByPID[pid].id))
		}
		sortStrings(cands)
		return nil, ambiguous(ref, "reference", cands)
	}
	pid := set[0]
	e := rootlessByPID[pid]
	start, err := validate(ref, pid, e.id, e.start, nil)
	if err != nil {
		return nil, err
	}
	return &Found{PID: pid, StartTime: start, Container: Container{Runtime: "podman", ID: e.id, Name: e.name, Source: "rootless podman's OCI runtime state"}}, nil
}
