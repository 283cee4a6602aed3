package container

// Names of containers found without a reference (in a cgroup path), from
// what the runtimes leave on disk: listings name every container the way a
// user would type it, and no daemon is asked for that.

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Identity is what the files a runtime leaves on disk say of a container
// whose ID a cgroup path gave.
type Identity struct {
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
	identities   sync.Map // runtime+"\x00"+id -> Identity
	podmanNameMu sync.Mutex
	podmanNames  map[string]string // ID -> first name, from every containers.json read
)

// Identify returns the runtime and name of the container with this full
// ID, as a cgroup path named the runtime ("docker", "podman",
// "containerd", "cri"). It reads state files only (Docker's
// config.v2.json, containers-storage's containers.json, runc's state
// labels), each once per process, and never fails: what it cannot read
// leaves Name empty.
func Identify(runtime, id string) Identity {
	key := runtime + "\x00" + id
	if v, ok := identities.Load(key); ok {
		return v.(Identity)
	}
	ident := Identity{Runtime: runtime}
	if id != "" && !strings.ContainsAny(id, "/\x00") && id != "." && id != ".." {
		switch runtime {
		case "docker":
			ident.Name = dockerName(id)
		case "podman":
			ident.Name = podmanName(id)
		case "cri":
			ident.Name = criName(id)
		case "containerd":
			ident = containerdIdentity(id)
		}
	}
	identities.Store(key, ident)
	return ident
}

// maxStateFile bounds what is read of a state file a name comes from.
const maxStateFile = 16 << 20

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err == nil && len(b) > maxStateFile {
		err = os.ErrInvalid
	}
	return b, err
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
		lists, _ := filepath.Glob(filepath.Join(graph, "*-containers", "containers.json"))
		for _, l := range lists {
			b, err := readBounded(l)
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
	for _, root := range []string{filepath.Join(containerdRuncRoot, "k8s.io"), "/run/runc"} {
		if st, err := readRuncState(root, id); err == nil {
			return criStateName(st)
		}
	}
	return ""
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
func containerdIdentity(id string) Identity {
	nss, _ := os.ReadDir(containerdRuncRoot)
	for _, ns := range nss {
		st, err := readRuncState(filepath.Join(containerdRuncRoot, ns.Name()), id)
		if err != nil {
			continue
		}
		if ns.Name() == "k8s.io" {
			if name := criStateName(st); name != "" {
				return Identity{Runtime: "cri", Name: name}
			}
		}
		name := st.label("nerdctl/name")
		if name == "" || strings.ContainsAny(name, "/\x00") {
			name = id
		}
		return Identity{Runtime: "containerd", Name: ns.Name() + "/" + name}
	}
	return Identity{Runtime: "containerd"}
}
