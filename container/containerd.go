package container

// containerd:[NAMESPACE/]ID
//
// The namespace is the one given, else CONTAINERD_NAMESPACE, else every
// namespace (Namespaces.List). ID is a full container ID, a unique ID prefix
// among running tasks, or a nerdctl name (label nerdctl/name).
//
// Sources, in order: the native gRPC API (Tasks.List for PIDs and states,
// Containers.List for containers without a task and for nerdctl names);
// when containerd cannot be reached, the shim's and runc's state under
// /run/containerd, then a scan of /proc cgroups.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsxproject/nsx/procfs"
)

// containerd task states (containerd.v1.types.Status).
const (
	taskUnknown = 0
	taskCreated = 1
	taskRunning = 2
	taskStopped = 3
	taskPaused  = 4
	taskPausing = 5
)

// ctrTask is a containerd.v1.types.Process from Tasks.List.
type ctrTask struct {
	ID         string
	PID        uint32
	Status     int
	ExitStatus uint32
}

// ctrContainer is a containerd.services.containers.v1.Container.
type ctrContainer struct {
	ID     string
	Labels map[string]string
}

// validContainerdID follows containerd's identifier rules: alphanumerics
// and . _ -, starting with an alphanumeric, at most 76 characters.
func validContainerdID(s string) bool {
	if s == "" || len(s) > 76 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			return false
		}
	}
	return true
}

// splitContainerdRef splits "[NS/]ID".
func splitContainerdRef(ref, rest string) (ns, id string, err error) {
	id = rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		ns, id = rest[:i], rest[i+1:]
		if !validContainerdID(ns) {
			return "", "", newErr(ref, ErrBadRef, "invalid containerd namespace "+strconv.Quote(ns))
		}
	} else {
		ns = getenv("CONTAINERD_NAMESPACE")
	}
	if !validContainerdID(id) {
		return "", "", newErr(ref, ErrBadRef, "invalid containerd container ID "+strconv.Quote(id)+" (want containerd:[NAMESPACE/]ID)")
	}
	return ns, id, nil
}

func (rs *Resolver) resolveContainerd(ctx context.Context, ref, rest string) (*Found, error) {
	ns, id, err := splitContainerdRef(ref, rest)
	if err != nil {
		return nil, err
	}
	var apiErr error
	where := ""
	for _, sock := range rs.containerdSockets() {
		if !exists(sock) {
			continue
		}
		where = sock
		c := newGRPCClient(sock)
		cctx, cancel := rs.withTimeout(ctx)
		f, err := containerdFromAPI(cctx, c, ref, ns, id)
		cancel()
		c.close()
		if err == nil || errKind(err) != nil {
			return f, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		apiErr = err
		break
	}
	f, ferr := containerdFromFiles(ref, ns, id)
	if f != nil || ferr != nil {
		if apiErr != nil && ferr != nil {
			if e, ok := ferr.(*Error); ok {
				e.Detail += " (containerd at " + where + " " + grpcUnreachableWhy(apiErr) + "; from its state files)"
			}
		}
		return f, ferr
	}
	nsDesc := "every namespace"
	if ns != "" {
		nsDesc = "namespace " + ns
	}
	if apiErr == nil && where == "" {
		return nil, newErr(ref, ErrUnreachable, "containerd is unreachable (no socket at "+strings.Join(rs.containerdSockets(), ", ")+") and no daemonless source found the container in "+nsDesc+" ("+containerdStateDesc()+", /proc cgroups)")
	}
	kind := ErrUnreachable
	if apiErr != nil && errorsIsPermission(apiErr) {
		kind = ErrPermission
	}
	return nil, newErr(ref, kind, "containerd at "+where+" "+grpcUnreachableWhy(apiErr)+" and no daemonless source found the container in "+nsDesc+" ("+containerdStateDesc()+", /proc cgroups)")
}

func errorsIsPermission(err error) bool {
	return transportError(err) == ErrPermission || grpcCode(err) == grpcPermissionDenied
}

func grpcUnreachableWhy(err error) string {
	if err == nil {
		return "is unreachable"
	}
	if ge, ok := err.(*grpcError); ok {
		return "failed: " + ge.Message
	}
	return unreachableWhy(err)
}

// ctrMatch is a container that matches the reference in one namespace.
type ctrMatch struct {
	ns, id, name string
	taskRoot     string // the shim's bundle directory it was found in, if any
	task         *ctrTask
	exact        bool
}

// containerdFromAPI resolves through containerd's native API. Transport
// failures are returned as they come (not *Error) so that the caller tries
// the daemonless sources.
func containerdFromAPI(ctx context.Context, c *grpcClient, ref, ns, id string) (*Found, error) {
	namespaces := []string{ns}
	if ns == "" {
		var err error
		if namespaces, err = ctrListNamespaces(ctx, c); err != nil {
			return nil, err
		}
	}
	// Containers.List with filters reads containerd's metadata only;
	// Tasks.List would ask every shim of the namespace for its state, which
	// cost most of a lookup. Tasks are then asked for the candidates alone.
	var exact, prefix []ctrMatch
	for _, n := range namespaces {
		ctrs, err := ctrListContainers(ctx, c, n, []string{
			"id==" + strconv.Quote(id),
			`labels."nerdctl/name"==` + strconv.Quote(id),
			"id~=" + strconv.Quote("^"+quoteRegexp(id)),
		})
		if err != nil {
			return nil, err
		}
		for _, ct := range ctrs {
			switch {
			case ct.ID == id:
				exact = append(exact, ctrMatch{ns: n, id: ct.ID, exact: true})
			case ct.Labels["nerdctl/name"] == id:
				exact = append(exact, ctrMatch{ns: n, id: ct.ID, name: id, exact: true})
			case strings.HasPrefix(ct.ID, id):
				prefix = append(prefix, ctrMatch{ns: n, id: ct.ID})
			}
		}
	}
	matches := exact
	if len(matches) == 0 {
		matches = prefix
	}
	var withTask []ctrMatch
	for i := range matches {
		m := &matches[i]
		task, err := ctrGetTask(ctx, c, m.ns, m.id)
		if err != nil {
			return nil, err
		}
		m.task = task
		// An ID prefix names running (or exited) tasks only, as before;
		// an exact ID or name also a container without a task, which is
		// then reported as not running.
		if task != nil || m.exact {
			withTask = append(withTask, *m)
		}
	}
	matches = withTask
	m, err := pickCtrMatch(ref, id, matches)
	if err != nil {
		return nil, err
	}
	if m == nil {
		nsDesc := "any namespace"
		if ns != "" {
			nsDesc = "namespace " + ns
		}
		return nil, newErr(ref, ErrNotFound, "no such container in "+nsDesc+" (asked containerd at "+c.socket+")")
	}
	return ctrFoundFromTask(ref, m, "containerd API")
}

// pickCtrMatch prefers exact matches (ID or name) to prefix matches and
// reports several as ambiguous.
func pickCtrMatch(ref, id string, matches []ctrMatch) (*ctrMatch, error) {
	var exact, prefix []ctrMatch
	seen := map[string]bool{}
	for _, m := range matches {
		k := m.ns + "/" + m.id
		if seen[k] {
			continue
		}
		seen[k] = true
		if m.exact {
			exact = append(exact, m)
		} else {
			prefix = append(prefix, m)
		}
	}
	set := exact
	what := "ID " + id
	if len(set) == 0 {
		set = prefix
		what = "ID prefix " + id
	}
	switch len(set) {
	case 0:
		return nil, nil
	case 1:
		return &set[0], nil
	}
	var cands []string
	for _, m := range set {
		cands = append(cands, "containerd:"+m.ns+"/"+m.id)
	}
	sortStrings(cands)
	return nil, ambiguous(ref, what, cands)
}

func ctrFoundFromTask(ref string, m *ctrMatch, source string) (*Found, error) {
	if m.task == nil {
		return nil, newErr(ref, ErrNotRunning, "container "+m.ns+"/"+m.id+" has no task (created but never started, or its task was deleted)")
	}
	switch m.task.Status {
	case taskRunning:
	case taskCreated:
		return nil, newErr(ref, ErrNotRunning, "container "+m.ns+"/"+m.id+" is created but not running")
	case taskStopped:
		return nil, newErr(ref, ErrNotRunning, fmt.Sprintf("container %s/%s has exited (exit status %d)", m.ns, m.id, m.task.ExitStatus))
	case taskPaused, taskPausing:
		return nil, newErr(ref, ErrNotRunning, "container "+m.ns+"/"+m.id+" is paused (resume it first)")
	default:
		return nil, newErr(ref, ErrNotRunning, "container "+m.ns+"/"+m.id+" is in an unknown state")
	}
	pid := int(m.task.PID)
	start, err := validate(ref, pid, m.id, 0, func() uint64 {
		p, s := ociStartTime(containerdRuncRoots(m.ns), m.id)
		if p != pid {
			return 0
		}
		return s
	})
	if err != nil {
		return nil, err
	}
	name := m.ns + "/" + m.id
	if m.name != "" {
		name = m.ns + "/" + m.name
	}
	return &Found{PID: pid, StartTime: start, Container: Container{Runtime: "containerd", ID: m.id, Name: name, Source: source}}, nil
}

// containerdRuncRoots are where runc keeps state for a namespace's
// containers (Docker's own root for namespace moby).
func containerdRuncRoots(ns string) []string {
	roots := containerdRuncNamespaceRoots(ns)
	if ns == "moby" {
		roots = append(roots, dockerRuncRoot())
	}
	return roots
}

func nsMD(ns string) map[string]string {
	return map[string]string{"containerd-namespace": ns}
}

func ctrListNamespaces(ctx context.Context, c *grpcClient) ([]string, error) {
	reply, err := c.call(ctx, "/containerd.services.namespaces.v1.Namespaces/List", nil, nil)
	if err != nil {
		return nil, err
	}
	return parseCtrNamespaces(reply)
}

// parseCtrNamespaces decodes ListNamespacesResponse{repeated Namespace
// namespaces = 1}, Namespace{string name = 1}.
func parseCtrNamespaces(b []byte) ([]string, error) {
	var out []string
	err := pbEach(b, func(f pbField) error {
		if f.Num != 1 || f.Type != wireBytes {
			return nil
		}
		name := ""
		err := pbEach(f.Bytes, func(g pbField) error {
			if g.Num == 1 && g.Type == wireBytes {
				name = string(g.Bytes)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if name != "" {
			out = append(out, name)
		}
		return nil
	})
	return out, err
}

// ctrGetTask returns the task of container id, nil when it has none.
func ctrGetTask(ctx context.Context, c *grpcClient, ns, id string) (*ctrTask, error) {
	reply, err := c.call(ctx, "/containerd.services.tasks.v1.Tasks/Get", nsMD(ns), pbAppendString(nil, 1, id))
	if grpcCode(err) == grpcNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseCtrGetTask(reply, id)
}

// parseCtrGetTask decodes GetResponse{Process process = 1}.
func parseCtrGetTask(b []byte, id string) (*ctrTask, error) {
	var t *ctrTask
	err := pbEach(b, func(f pbField) error {
		if f.Num != 1 || f.Type != wireBytes {
			return nil
		}
		p, err := parseCtrProcess(f.Bytes)
		if err != nil {
			return err
		}
		p.ID = id
		t = &p
		return nil
	})
	if err == nil && t == nil {
		err = errProto
	}
	return t, err
}

// parseCtrProcess decodes containerd.v1.types.Process: container_id = 1,
// id = 2, pid = 3, status = 4, exit_status = 9. containerd 1.6 fills id
// only; later versions may fill container_id.
func parseCtrProcess(b []byte) (ctrTask, error) {
	var t ctrTask
	var containerID string
	err := pbEach(b, func(f pbField) error {
		switch {
		case f.Num == 1 && f.Type == wireBytes:
			containerID = string(f.Bytes)
		case f.Num == 2 && f.Type == wireBytes:
			t.ID = string(f.Bytes)
		case f.Num == 3 && f.Type == wireVarint:
			t.PID = uint32(f.Varint)
		case f.Num == 4 && f.Type == wireVarint:
			t.Status = int(f.Varint)
		case f.Num == 9 && f.Type == wireVarint:
			t.ExitStatus = uint32(f.Varint)
		}
		return nil
	})
	if containerID != "" {
		t.ID = containerID
	}
	return t, err
}

func ctrListContainers(ctx context.Context, c *grpcClient, ns string, filters []string) ([]ctrContainer, error) {
	var req []byte
	for _, f := range filters {
		req = pbAppendString(req, 1, f)
	}
	reply, err := c.call(ctx, "/containerd.services.containers.v1.Containers/List", nsMD(ns), req)
	if err != nil {
		return nil, err
	}
	return parseCtrContainers(reply)
}

// parseCtrContainers decodes ListContainersResponse{repeated Container
// containers = 1}, Container{string id = 1; map<string,string> labels = 2}.
func parseCtrContainers(b []byte) ([]ctrContainer, error) {
	var out []ctrContainer
	err := pbEach(b, func(f pbField) error {
		if f.Num != 1 || f.Type != wireBytes {
			return nil
		}
		var ct ctrContainer
		err := pbEach(f.Bytes, func(g pbField) error {
			switch {
			case g.Num == 1 && g.Type == wireBytes:
				ct.ID = string(g.Bytes)
			case g.Num == 2 && g.Type == wireBytes:
				k, v, err := pbMapEntry(g.Bytes)
				if err != nil {
					return err
				}
				if ct.Labels == nil {
					ct.Labels = map[string]string{}
				}
				ct.Labels[k] = v
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = append(out, ct)
		return nil
	})
	return out, err
}

// containerdFromFiles resolves without the daemon: the shim's bundle
// directories under each state's task root name each namespace's containers; the
// PID comes from runc's state (with its start time) or the shim's init.pid.
func containerdFromFiles(ref, ns, id string) (*Found, error) {
	var matches []ctrMatch
	for _, taskRoot := range containerdTaskRoots() {
		var namespaces []string
		if ns != "" {
			namespaces = []string{ns}
		} else {
			ents, _ := os.ReadDir(taskRoot)
			for _, e := range ents {
				if e.IsDir() {
					namespaces = append(namespaces, e.Name())
				}
			}
		}
		for _, n := range namespaces {
			ents, _ := os.ReadDir(filepath.Join(taskRoot, n))
			for _, e := range ents {
				switch {
				case e.Name() == id:
					matches = append(matches, ctrMatch{ns: n, id: e.Name(), taskRoot: taskRoot, exact: true})
				case strings.HasPrefix(e.Name(), id):
					matches = append(matches, ctrMatch{ns: n, id: e.Name(), taskRoot: taskRoot})
				}
			}
		}
	}
	m, err := pickCtrMatch(ref, id, matches)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if ns != "" {
			return containerdCgroupScan(ref, ns, id)
		}
		return nil, nil
	}
	pid, recorded := ociStartTime(containerdRuncRoots(m.ns), m.id)
	if pid == 0 {
		pid, _ = readPIDFile(filepath.Join(m.taskRoot, m.ns, m.id, "init.pid"))
	}
	if pid == 0 {
		return nil, newErr(ref, ErrNotRunning, "container "+m.ns+"/"+m.id+" has no running process (containerd's state files)")
	}
	start, err := validate(ref, pid, m.id, recorded, nil)
	if err != nil {
		return nil, err
	}
	return &Found{PID: pid, StartTime: start, Container: Container{Runtime: "containerd", ID: m.id, Name: m.ns + "/" + m.id, Source: "containerd state files"}}, nil
}

// containerdCgroupScan finds a container of the cgroupfs layout
// /<namespace>/<id> (ctr, nerdctl) by scanning /proc.
func containerdCgroupScan(ref, ns, id string) (*Found, error) {
	want := "/" + ns + "/" + id
	byID, err := scanCgroups(func(lines []procfs.CgroupLine) string {
		for _, l := range lines {
			if l.Path == want || strings.HasSuffix(l.Path, want) {
				return id
			}
		}
		return ""
	})
	if err != nil || len(byID[id]) == 0 {
		return nil, nil
	}
	pid, start := pickInit(byID[id])
	if pid == 0 {
		return nil, nil
	}
	return &Found{PID: pid, StartTime: start, Container: Container{Runtime: "containerd", ID: id, Name: ns + "/" + id, Source: "cgroup scan"}}, nil
}

// containerdStateDesc names the directories the daemonless sources read,
// for error messages.
func containerdStateDesc() string {
	return strings.Join(append(containerdTaskRoots(), configuredContainerdDirs().runcBases...), ", ")
}
