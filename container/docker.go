package container

// docker:NAME|ID|ID-PREFIX
//
// Sources, in order: the Engine API (GET /containers/{ref}/json, one round
// trip); when the daemon cannot be reached, its state files
// (<data-root>/containers/<id>/config.v2.json, then runc's state under
// /run/docker/runtime-runc/moby), then a scan of /proc cgroups for an ID
// prefix.

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func (rs *Resolver) resolveDocker(ctx context.Context, ref, name string) (*Found, error) {
	if err := checkEngineName(ref, name); err != nil {
		return nil, err
	}
	ep := rs.dockerEndpoint()
	if f := dockerCacheLookup(name, ep); f != nil {
		return f, nil
	}
	api, err := newEngineAPI("docker", ep)
	if err != nil {
		return nil, newErr(ref, ErrUnreachable, "DOCKER_HOST="+err.Error())
	}
	defer api.close()
	api.version = getenv("DOCKER_API_VERSION")
	cctx, cancel := rs.withTimeout(ctx)
	defer cancel()
	c, apiErr := api.inspect(cctx, name)
	switch {
	case apiErr == nil:
		f, err := foundFromEngine(ref, "docker", c, []string{dockerRuncRoot()})
		if err == nil {
			dockerCacheStore(name, ep, f)
		}
		return f, err
	case isNoSuchReply(apiErr):
		return nil, newErr(ref, ErrNotFound, "no such container (asked the docker API at "+api.where()+")")
	case isAmbiguousReply(apiErr):
		return nil, engineAmbiguous(ref, name, apiErr, api.candidatesByPrefix(cctx, name))
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// The daemon is down, hung, or refused us: what it left on disk.
	f, ferr := dockerFromFiles(ref, name)
	if f != nil {
		return f, nil
	}
	why := "docker daemon at " + api.where() + " " + unreachableWhy(apiErr)
	switch errKind(ferr) {
	case ErrNotRunning, ErrAmbiguous:
		e := ferr.(*Error)
		e.Detail += " (" + why + "; from its state files)"
		return nil, e
	}
	kind := ErrUnreachable
	if errors.Is(transportError(apiErr), ErrPermission) {
		kind = ErrPermission
	}
	detail := why + " and no daemonless source found the container (" + dockerDataRoot() + "/containers, " + dockerRuncRoot() + ", /proc cgroups)"
	if ferr != nil && errKind(ferr) == nil {
		detail += ": " + ferr.Error()
	}
	return nil, newErr(ref, kind, detail)
}

// unreachableWhy words a failed API call for messages.
func unreachableWhy(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return "failed: " + ae.Error()
	}
	if errors.Is(transportError(err), ErrPermission) {
		return "refused access: permission denied on the socket (run as root or as a member of the group owning it)"
	}
	return "is unreachable (" + describeTransport(err) + ")"
}

// checkEngineName rejects what neither Docker nor podman could name.
func checkEngineName(ref, name string) error {
	if name == "" {
		return newErr(ref, ErrBadRef, "empty container name")
	}
	if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return newErr(ref, ErrBadRef, "invalid container name "+name)
	}
	return nil
}

// foundFromEngine checks an inspect reply's state and validates its PID.
func foundFromEngine(ref, runtime string, c *engineContainer, runcRoots []string) (*Found, error) {
	s := c.State
	if !s.Running || s.Paused || s.Restarting || s.Dead {
		if err := engineStateError(ref, c, ""); err != nil {
			return nil, err
		}
	}
	start, err := validate(ref, s.Pid, c.ID, 0, func() uint64 {
		pid, st := ociStartTime(runcRoots, c.ID)
		if pid != s.Pid {
			return 0
		}
		return st
	})
	if err != nil {
		return nil, err
	}
	return &Found{PID: s.Pid, StartTime: start, Container: Container{Runtime: runtime, ID: c.ID, Name: engineName(c.Name), Source: runtime + " API"}}, nil
}

// dockerFromFiles resolves name without the daemon. It returns nil, nil
// when no source knows the container, and nil plus a non-*Error error when
// a source could not be read at all.
func dockerFromFiles(ref, name string) (*Found, error) {
	dir := filepath.Join(dockerDataRoot(), "containers")
	cfg, cfgErr := findDockerConfig(ref, dir, name)
	if errKind(cfgErr) == ErrAmbiguous {
		return nil, cfgErr
	}
	if cfg != nil {
		if st := cfg.status(); st != "running" {
			c := &engineContainer{ID: cfg.ID, Name: cfg.Name}
			c.State.Status = st
			c.State.ExitCode = cfg.State.ExitCode
			return nil, engineStateError(ref, c, "")
		}
		pid := cfg.State.Pid
		recorded := uint64(0)
		if rp, rs := ociStartTime([]string{dockerRuncRoot()}, cfg.ID); rp == pid {
			recorded = rs
		}
		start, err := validate(ref, pid, cfg.ID, recorded, nil)
		if err != nil {
			return nil, err
		}
		return &Found{PID: pid, StartTime: start, Container: Container{Runtime: "docker", ID: cfg.ID, Name: engineName(cfg.Name), Source: "docker state file"}}, nil
	}
	// No readable config.v2.json (e.g. nsx in a container with only /run
	// mounted): runc's state, named by full ID.
	if f, err := fromRuncRoot(ref, "docker", dockerRuncRoot(), name); f != nil || err != nil {
		return f, err
	}
	f, err := fromCgroupScan(ref, "docker", name)
	if f != nil || err != nil {
		return f, err
	}
	if cfgErr != nil && !errors.Is(cfgErr, fs.ErrNotExist) {
		return nil, cfgErr
	}
	return nil, nil
}

// findDockerConfig finds name in Docker's containers directory the way the
// daemon does: full ID, then name, then unique ID prefix.
func findDockerConfig(ref, dir, name string) (*dockerConfig, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	read := func(id string) *dockerConfig {
		b, err := os.ReadFile(filepath.Join(dir, id, "config.v2.json"))
		if err != nil {
			return nil
		}
		c, err := parseDockerConfig(b)
		if err != nil {
			return nil
		}
		return c
	}
	for _, e := range ents {
		if e.Name() == name {
			if c := read(name); c != nil {
				return c, nil
			}
		}
	}
	var prefixed []*dockerConfig
	for _, e := range ents {
		c := read(e.Name())
		if c == nil {
			continue
		}
		if engineName(c.Name) == name {
			return c, nil
		}
		if isHex(name) && strings.HasPrefix(c.ID, name) {
			prefixed = append(prefixed, c)
		}
	}
	switch len(prefixed) {
	case 0:
		return nil, nil
	case 1:
		return prefixed[0], nil
	}
	var cands []string
	for _, c := range prefixed {
		cands = append(cands, candidateRef("docker", engineName(c.Name), c.ID))
	}
	sortStrings(cands)
	return nil, ambiguous(ref, "ID prefix "+name, cands)
}

// fromRuncRoot resolves an ID or unique ID prefix among the containers of a
// runc state root whose directories are named by full ID.
func fromRuncRoot(ref, runtime, root, prefix string) (*Found, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, nil
	}
	var ids []string
	for _, e := range ents {
		if e.Name() == prefix {
			ids = []string{prefix}
			break
		}
		if strings.HasPrefix(e.Name(), prefix) {
			ids = append(ids, e.Name())
		}
	}
	switch len(ids) {
	case 0:
		return nil, nil
	case 1:
	default:
		var cands []string
		for _, id := range ids {
			cands = append(cands, runtime+":"+shortID(id))
		}
		sortStrings(cands)
		return nil, ambiguous(ref, "ID prefix "+prefix, cands)
	}
	st, err := readRuncState(root, ids[0])
	if err != nil {
		return nil, nil
	}
	start, err := validate(ref, st.InitPID, st.ID, st.InitStart, nil)
	if err != nil {
		return nil, err
	}
	return &Found{PID: st.InitPID, StartTime: start, Container: Container{Runtime: runtime, ID: st.ID, Source: "runc state"}}, nil
}
