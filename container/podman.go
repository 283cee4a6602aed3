package container

// podman:NAME|ID|ID-PREFIX
//
// Sources, in order: podman's REST service (CONTAINER_HOST, or the rootful
// or user socket when it exists; its Docker-compatible inspect); then,
// podman being daemonless, its state files: containers-storage's
// containers.json for names and IDs, conmon's pidfile under the run root,
// and the OCI runtime's state (runc state.json or crun status) for the start
// time; then a scan of /proc cgroups for an ID prefix.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

func podmanRuncRoots() []string {
	roots := []string{"/run/runc"}
	if os.Geteuid() != 0 {
		if xdg := getenv("XDG_RUNTIME_DIR"); xdg != "" {
			roots = append([]string{filepath.Join(xdg, "runc")}, roots...)
		}
	}
	return roots
}

func (rs *Resolver) resolvePodman(ctx context.Context, ref, name string) (*Found, error) {
	if err := checkEngineName(ref, name); err != nil {
		return nil, err
	}
	var apiErr error
	where := ""
	if ep := rs.podmanEndpoint(); ep != "" {
		api, err := newEngineAPI("podman", ep)
		if err != nil {
			return nil, newErr(ref, ErrUnreachable, "CONTAINER_HOST="+err.Error())
		}
		defer api.close()
		where = api.where()
		cctx, cancel := rs.withTimeout(ctx)
		defer cancel()
		c, err := api.inspect(cctx, name)
		switch {
		case err == nil:
			return foundFromEngine(ref, "podman", c, podmanRuncRoots())
		case isAmbiguousReply(err):
			return nil, engineAmbiguous(ref, name, err, api.candidatesByPrefix(cctx, name))
		case isNoSuchReply(err):
			// The service knows its own user's containers only.
			if f, rerr := podmanRootless(ref, name); f != nil || rerr != nil {
				return f, rerr
			}
			return nil, newErr(ref, ErrNotFound, "no such container (asked the podman API at "+where+")")
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		apiErr = err
	}
	graph, run := podmanStorageRoots()
	f, ferr := podmanFromFiles(ref, name, graph, run)
	if f != nil {
		return f, nil
	}
	if ferr == nil || errors.Is(ferr, os.ErrNotExist) {
		// Another user's rootless container.
		if f, rerr := podmanRootless(ref, name); f != nil || rerr != nil {
			return f, rerr
		}
	}
	if ferr == nil {
		f, ferr = fromCgroupScan(ref, "podman", name)
		if f != nil {
			return f, nil
		}
	}
	note := ""
	if apiErr != nil {
		note = "podman service at " + where + " " + unreachableWhy(apiErr) + "; "
	}
	switch errKind(ferr) {
	case ErrNotRunning, ErrAmbiguous:
		if note != "" {
			e := ferr.(*Error)
			e.Detail += " (" + strings.TrimSuffix(note, "; ") + ")"
		}
		return nil, ferr
	}
	if ferr != nil && errors.Is(ferr, os.ErrPermission) {
		return nil, newErr(ref, ErrPermission, note+"permission denied reading podman's state in "+graph)
	}
	kind := ErrNotFound
	if apiErr != nil && errors.Is(transportError(apiErr), ErrPermission) {
		kind = ErrPermission
	}
	detail := note + "no such container (asked podman's state files in " + graph + " and " + run + ", /proc cgroups)"
	if ferr != nil && errKind(ferr) == nil && !errors.Is(ferr, os.ErrNotExist) {
		detail += ": " + ferr.Error()
	}
	return nil, newErr(ref, kind, detail)
}

// podmanStorageRoots returns containers-storage's graph root and run root,
// from storage.conf or the defaults (rootful, or rootless for other users).
func podmanStorageRoots() (graph, run string) {
	confs := []string{"/etc/containers/storage.conf", "/usr/share/containers/storage.conf"}
	if os.Geteuid() != 0 {
		if home, err := os.UserHomeDir(); err == nil {
			confs = append([]string{filepath.Join(home, ".config/containers/storage.conf")}, confs...)
		}
	}
	if c := getenv("CONTAINERS_STORAGE_CONF"); c != "" {
		confs = []string{c}
	}
	for _, c := range confs {
		if b, err := os.ReadFile(c); err == nil {
			graph, run = parseStorageConf(string(b))
			break
		}
	}
	if os.Geteuid() != 0 {
		if graph == "" {
			if home, err := os.UserHomeDir(); err == nil {
				graph = filepath.Join(home, ".local/share/containers/storage")
			}
		}
		if run == "" {
			if xdg := getenv("XDG_RUNTIME_DIR"); xdg != "" {
				run = filepath.Join(xdg, "containers")
			}
		}
	}
	if graph == "" {
		graph = "/var/lib/containers/storage"
	}
	if run == "" {
		run = "/run/containers/storage"
	}
	return graph, run
}

// podmanFromFiles resolves name from podman's state files. It returns nil,
// nil when they do not know the container.
func podmanFromFiles(ref, name, graph, run string) (*Found, error) {
	lists, _ := filepath.Glob(filepath.Join(graph, "*-containers", "containers.json"))
	if len(lists) == 0 {
		if _, err := os.Stat(graph); err != nil {
			return nil, err
		}
		return nil, nil
	}
	var entries []podmanStorageEntry
	var driverOf = map[string]string{}
	var readErr error
	for _, l := range lists {
		b, err := os.ReadFile(l)
		if err != nil {
			readErr = err
			continue
		}
		es, err := parsePodmanContainers(b)
		if err != nil {
			continue
		}
		driver := filepath.Base(filepath.Dir(l))
		for _, e := range es {
			driverOf[e.ID] = driver
		}
		entries = append(entries, es...)
	}
	if entries == nil && readErr != nil {
		return nil, readErr
	}
	e, err := matchPodmanEntry(ref, name, entries)
	if e == nil || err != nil {
		return nil, err
	}
	ename := ""
	if len(e.Names) > 0 {
		ename = e.Names[0]
	}
	// The OCI runtime's state is authoritative while it exists; conmon's
	// pidfile outlives the container.
	pid, recorded := ociStartTime(podmanRuncRoots(), e.ID)
	if pid == 0 {
		pid, _ = readPIDFile(filepath.Join(run, driverOf[e.ID], e.ID, "userdata", "pidfile"))
	}
	if pid == 0 {
		return nil, newErr(ref, ErrNotRunning, "container is not running (podman's state files show no process for "+shortID(e.ID)+")")
	}
	start, err := validate(ref, pid, e.ID, recorded, nil)
	if err != nil {
		return nil, err
	}
	return &Found{PID: pid, StartTime: start, Container: Container{Runtime: "podman", ID: e.ID, Name: ename, Source: "podman state files"}}, nil
}

// matchPodmanEntry picks name among containers-storage entries: full ID,
// then name, then unique ID prefix.
func matchPodmanEntry(ref, name string, entries []podmanStorageEntry) (*podmanStorageEntry, error) {
	for i := range entries {
		if entries[i].ID == name {
			return &entries[i], nil
		}
	}
	for i := range entries {
		for _, n := range entries[i].Names {
			if n == name {
				return &entries[i], nil
			}
		}
	}
	var pre []*podmanStorageEntry
	if isHex(name) {
		for i := range entries {
			if strings.HasPrefix(entries[i].ID, name) {
				pre = append(pre, &entries[i])
			}
		}
	}
	switch len(pre) {
	case 0:
		return nil, nil
	case 1:
		return pre[0], nil
	}
	var cands []string
	for _, e := range pre {
		n := ""
		if len(e.Names) > 0 {
			n = e.Names[0]
		}
		cands = append(cands, candidateRef("podman", n, e.ID))
	}
	sortStrings(cands)
	return nil, ambiguous(ref, "ID prefix "+name, cands)
}
