package container

// cri:ID-PREFIX | cri:POD-NAMESPACE/POD[/CONTAINER]
//
// Sources, in order: the CRI gRPC API (runtime.v1.RuntimeService) on
// CRIEndpoint, CONTAINER_RUNTIME_ENDPOINT, /etc/crictl.yaml's
// runtime-endpoint, or the usual sockets; pods are matched by their sandbox
// metadata (namespace, name), containers by metadata name, the PID taken
// from a verbose ContainerStatus's info. Without a runtime that answers:
// runc's state files, whose labels carry the CRI annotations, then a scan
// of /proc cgroups for an ID prefix.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// CRI container states.
const (
	criCreated = 0
	criRunning = 1
	criExited  = 2
	criUnknown = 3
)

// CRI sandbox states.
const (
	criSandboxReady    = 0
	criSandboxNotReady = 1
)

const criService = "/runtime.v1.RuntimeService/"

// criRef is a parsed cri: reference.
type criRef struct {
	id                  string // ID or ID prefix; or
	namespace, pod, ctr string // Kubernetes names (ctr may be empty)
}

func (r criRef) byName() bool { return r.pod != "" }

func parseCRIRef(ref, rest string) (criRef, error) {
	parts := strings.Split(rest, "/")
	for _, p := range parts {
		if p == "" {
			return criRef{}, newErr(ref, ErrBadRef, "empty component (want cri:ID or cri:NAMESPACE/POD/CONTAINER)")
		}
	}
	switch len(parts) {
	case 1:
		return criRef{id: parts[0]}, nil
	case 2:
		return criRef{namespace: parts[0], pod: parts[1]}, nil
	case 3:
		return criRef{namespace: parts[0], pod: parts[1], ctr: parts[2]}, nil
	}
	return criRef{}, newErr(ref, ErrBadRef, "too many components (want cri:ID or cri:NAMESPACE/POD/CONTAINER)")
}

// criContainer is a runtime.v1.Container from ListContainers.
type criContainer struct {
	ID        string
	SandboxID string
	Name      string
	Attempt   uint32
	State     int
	CreatedAt int64
	Labels    map[string]string
}

// criSandbox is a runtime.v1.PodSandbox from ListPodSandbox.
type criSandbox struct {
	ID        string
	Name      string
	UID       string
	Namespace string
	Attempt   uint32
	State     int
	CreatedAt int64
}

// criStatus is a runtime.v1.ContainerStatusResponse.
type criStatus struct {
	ID          string
	Name        string
	State       int
	ExitCode    int32
	Reason      string
	Message     string
	Labels      map[string]string
	Annotations map[string]string
	Info        map[string]string
}

// criInfo is the part of a verbose ContainerStatus "info" JSON the resolver
// uses; containerd and CRI-O both put the PID there.
type criInfo struct {
	PID         int `json:"pid"`
	RuntimeSpec struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"runtimeSpec"`
}

func parseCRIInfo(s string) (*criInfo, error) {
	var i criInfo
	if err := json.Unmarshal([]byte(s), &i); err != nil {
		return nil, err
	}
	return &i, nil
}

func (rs *Resolver) resolveCRI(ctx context.Context, ref, rest string) (*Found, error) {
	r, err := parseCRIRef(ref, rest)
	if err != nil {
		return nil, err
	}
	socks, explicit := rs.criSockets()
	var tried []string
	var lastErr error
	for _, sock := range socks {
		if !explicit && !exists(sock) {
			continue
		}
		c := newGRPCClient(sock)
		cctx, cancel := rs.withTimeout(ctx)
		f, err := criFromAPI(cctx, c, ref, r)
		cancel()
		c.close()
		if err == nil || errKind(err) != nil {
			return f, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if isUnimplemented(err) {
			tried = append(tried, sock+" (no CRI service)")
			continue
		}
		tried = append(tried, sock+" ("+describeCRIErr(err)+")")
		lastErr = err
	}
	f, ferr := criFromFiles(ref, r)
	if f != nil {
		return f, nil
	}
	if ferr == nil && !r.byName() {
		if f, ferr = fromCgroupScan(ref, "cri", r.id); f != nil {
			return f, nil
		}
	}
	note := "CRI runtime unreachable (no socket at " + strings.Join(socks, ", ") + ")"
	if len(tried) > 0 {
		note = "CRI runtime unreachable: " + strings.Join(tried, ", ")
	} else if explicit {
		note = "CRI endpoint " + socks[0] + " does not exist"
	}
	if e, ok := ferr.(*Error); ok {
		e.Detail += " (" + note + "; from runc's state files)"
		return nil, e
	}
	kind := ErrUnreachable
	if lastErr != nil && errorsIsPermission(lastErr) {
		kind = ErrPermission
	}
	return nil, newErr(ref, kind, note+"; and no daemonless source found the container (runc state under "+strings.Join(criRuncRoots(), ", ")+", /proc cgroups)")
}

func describeCRIErr(err error) string {
	var ge *grpcError
	if errors.As(err, &ge) {
		return ge.Message
	}
	return describeTransport(err)
}

// criFromAPI resolves through one CRI endpoint. Transport failures and
// Unimplemented come back as they are (not *Error).
func criFromAPI(ctx context.Context, c *grpcClient, ref string, r criRef) (*Found, error) {
	if !r.byName() {
		st, err := criContainerStatus(ctx, c, r.id)
		if err == nil {
			return criFound(ref, st, "")
		}
		switch grpcCode(err) {
		case grpcNotFound:
			if isUnimplemented(err) {
				return nil, err
			}
			return nil, newErr(ref, ErrNotFound, "no such container (asked the CRI runtime at "+c.socket+")")
		case grpcUnimplemented, -1:
			return nil, err
		}
		// Ambiguous prefixes come back as a plain error: list and compare.
		list, lerr := criListContainers(ctx, c, "")
		if lerr != nil {
			return nil, err
		}
		var cands []string
		var one *criContainer
		for i := range list {
			if strings.HasPrefix(list[i].ID, r.id) {
				cands = append(cands, "cri:"+shortID(list[i].ID)+" ("+list[i].Name+")")
				one = &list[i]
			}
		}
		switch len(cands) {
		case 0:
			return nil, newErr(ref, ErrNotFound, "no such container (asked the CRI runtime at "+c.socket+")")
		case 1:
			st, err := criContainerStatus(ctx, c, one.ID)
			if err != nil {
				return nil, newErr(ref, ErrUnreachable, "CRI ContainerStatus: "+describeCRIErr(err))
			}
			return criFound(ref, st, "")
		}
		sortStrings(cands)
		return nil, ambiguous(ref, "ID prefix "+r.id, cands)
	}

	pods, err := criListSandboxes(ctx, c)
	if err != nil {
		return nil, err
	}
	var matched []criSandbox
	for _, p := range pods {
		if p.Namespace == r.namespace && p.Name == r.pod {
			matched = append(matched, p)
		}
	}
	if len(matched) == 0 {
		return nil, newErr(ref, ErrNotFound, "no pod "+r.pod+" in namespace "+r.namespace+" (asked the CRI runtime at "+c.socket+")")
	}
	var sandboxIDs []string
	ready := false
	for _, p := range matched {
		sandboxIDs = append(sandboxIDs, p.ID)
		ready = ready || p.State == criSandboxReady
	}
	var ctrs []criContainer
	for _, sid := range sandboxIDs {
		l, err := criListContainers(ctx, c, sid)
		if err != nil {
			return nil, err
		}
		ctrs = append(ctrs, l...)
	}
	podRef := r.namespace + "/" + r.pod
	if r.ctr == "" {
		names := map[string]bool{}
		for _, ct := range ctrs {
			names[ct.Name] = true
		}
		switch len(names) {
		case 0:
			return nil, newErr(ref, ErrNotFound, "pod "+podRef+" has no containers")
		case 1:
		default:
			var cands []string
			for n := range names {
				cands = append(cands, "cri:"+podRef+"/"+n)
			}
			sortStrings(cands)
			return nil, ambiguous(ref, "pod "+podRef, cands)
		}
		for n := range names {
			r.ctr = n
		}
	}
	var best *criContainer
	for i := range ctrs {
		ct := &ctrs[i]
		if ct.Name != r.ctr {
			continue
		}
		if best == nil || criBetter(ct, best) {
			best = ct
		}
	}
	if best == nil {
		return nil, newErr(ref, ErrNotFound, "pod "+podRef+" has no container "+r.ctr+" (asked the CRI runtime at "+c.socket+")")
	}
	if best.State != criRunning && !ready {
		return nil, newErr(ref, ErrNotRunning, "pod "+podRef+" is not ready and its container "+r.ctr+" is "+criStateWord(best.State))
	}
	st, err := criContainerStatus(ctx, c, best.ID)
	if err != nil {
		if grpcCode(err) == grpcNotFound {
			return nil, newErr(ref, ErrNotRunning, "container "+r.ctr+" was removed while being resolved")
		}
		return nil, err
	}
	return criFound(ref, st, podRef+"/"+r.ctr)
}

// criBetter prefers a running container, then the latest attempt.
func criBetter(a, b *criContainer) bool {
	if (a.State == criRunning) != (b.State == criRunning) {
		return a.State == criRunning
	}
	if a.Attempt != b.Attempt {
		return a.Attempt > b.Attempt
	}
	return a.CreatedAt > b.CreatedAt
}

func criStateWord(s int) string {
	switch s {
	case criCreated:
		return "created but not running"
	case criRunning:
		return "running"
	case criExited:
		return "exited"
	}
	return "in an unknown state"
}

// criFound checks a verbose ContainerStatus and validates its PID.
func criFound(ref string, st *criStatus, name string) (*Found, error) {
	if st.State != criRunning {
		d := "container is " + criStateWord(st.State)
		if st.State == criExited {
			d = fmt.Sprintf("container has exited (exit code %d", st.ExitCode)
			if st.Reason != "" {
				d += ", " + st.Reason
			}
			d += ")"
		}
		return nil, newErr(ref, ErrNotRunning, d)
	}
	raw, ok := st.Info["info"]
	if !ok {
		return nil, newErr(ref, ErrUnreachable, "the CRI runtime's verbose ContainerStatus has no info (cannot learn the PID)")
	}
	info, err := parseCRIInfo(raw)
	if err != nil || info.PID <= 0 {
		return nil, newErr(ref, ErrUnreachable, "the CRI runtime's ContainerStatus info has no pid")
	}
	if name == "" {
		name = criNameFrom(st.Labels, info.RuntimeSpec.Annotations, st.Name)
	}
	start, err := validate(ref, info.PID, st.ID, 0, func() uint64 {
		p, s := ociStartTime(criRuncRoots(), st.ID)
		if p != info.PID {
			return 0
		}
		return s
	})
	if err != nil {
		return nil, err
	}
	return &Found{PID: info.PID, StartTime: start, Container: Container{Runtime: "cri", ID: st.ID, Name: name, Source: "CRI API"}}, nil
}

// criNameFrom builds NAMESPACE/POD/CONTAINER from kubelet's labels or the
// runtime's annotations; just the container name when neither has them.
func criNameFrom(labels, annotations map[string]string, ctr string) string {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v := labels[k]; v != "" {
				return v
			}
			if v := annotations[k]; v != "" {
				return v
			}
		}
		return ""
	}
	ns := get("io.kubernetes.pod.namespace", "io.kubernetes.cri.sandbox-namespace")
	pod := get("io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name")
	if c := get("io.kubernetes.container.name", "io.kubernetes.cri.container-name"); c != "" {
		ctr = c
	}
	if ns == "" || pod == "" || ctr == "" {
		return ctr
	}
	return ns + "/" + pod + "/" + ctr
}

func criContainerStatus(ctx context.Context, c *grpcClient, id string) (*criStatus, error) {
	var req []byte
	req = pbAppendString(req, 1, id)
	req = pbAppendBool(req, 2, true)
	reply, err := c.call(ctx, criService+"ContainerStatus", nil, req)
	if err != nil {
		return nil, err
	}
	return parseCRIStatus(reply)
}

func criListContainers(ctx context.Context, c *grpcClient, sandboxID string) ([]criContainer, error) {
	var req []byte
	if sandboxID != "" {
		req = pbAppendMessage(req, 1, pbAppendString(nil, 3, sandboxID))
	}
	reply, err := c.call(ctx, criService+"ListContainers", nil, req)
	if err != nil {
		return nil, err
	}
	return parseCRIContainers(reply)
}

func criListSandboxes(ctx context.Context, c *grpcClient) ([]criSandbox, error) {
	reply, err := c.call(ctx, criService+"ListPodSandbox", nil, nil)
	if err != nil {
		return nil, err
	}
	return parseCRISandboxes(reply)
}

// parseCRIMetadata decodes ContainerMetadata{name = 1, attempt = 2}.
func parseCRIMetadata(b []byte) (name string, attempt uint32, err error) {
	err = pbEach(b, func(f pbField) error {
		switch {
		case f.Num == 1 && f.Type == wireBytes:
			name = string(f.Bytes)
		case f.Num == 2 && f.Type == wireVarint:
			attempt = uint32(f.Varint)
		}
		return nil
	})
	return name, attempt, err
}

func pbAddMap(m *map[string]string, b []byte) error {
	k, v, err := pbMapEntry(b)
	if err != nil {
		return err
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
	return nil
}

// parseCRIContainers decodes ListContainersResponse{repeated Container
// containers = 1}; Container{id = 1, pod_sandbox_id = 2, metadata = 3,
// state = 6, created_at = 7, labels = 8}.
func parseCRIContainers(b []byte) ([]criContainer, error) {
	var out []criContainer
	err := pbEach(b, func(f pbField) error {
		if f.Num != 1 || f.Type != wireBytes {
			return nil
		}
		var c criContainer
		err := pbEach(f.Bytes, func(g pbField) error {
			var err error
			switch {
			case g.Num == 1 && g.Type == wireBytes:
				c.ID = string(g.Bytes)
			case g.Num == 2 && g.Type == wireBytes:
				c.SandboxID = string(g.Bytes)
			case g.Num == 3 && g.Type == wireBytes:
				c.Name, c.Attempt, err = parseCRIMetadata(g.Bytes)
			case g.Num == 6 && g.Type == wireVarint:
				c.State = int(g.Varint)
			case g.Num == 7 && g.Type == wireVarint:
				c.CreatedAt = pbInt64(g.Varint)
			case g.Num == 8 && g.Type == wireBytes:
				err = pbAddMap(&c.Labels, g.Bytes)
			}
			return err
		})
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// parseCRISandboxes decodes ListPodSandboxResponse{repeated PodSandbox
// items = 1}; PodSandbox{id = 1, metadata = 2, state = 3, created_at = 4};
// PodSandboxMetadata{name = 1, uid = 2, namespace = 3, attempt = 4}.
func parseCRISandboxes(b []byte) ([]criSandbox, error) {
	var out []criSandbox
	err := pbEach(b, func(f pbField) error {
		if f.Num != 1 || f.Type != wireBytes {
			return nil
		}
		var s criSandbox
		err := pbEach(f.Bytes, func(g pbField) error {
			switch {
			case g.Num == 1 && g.Type == wireBytes:
				s.ID = string(g.Bytes)
			case g.Num == 2 && g.Type == wireBytes:
				return pbEach(g.Bytes, func(h pbField) error {
					switch {
					case h.Num == 1 && h.Type == wireBytes:
						s.Name = string(h.Bytes)
					case h.Num == 2 && h.Type == wireBytes:
						s.UID = string(h.Bytes)
					case h.Num == 3 && h.Type == wireBytes:
						s.Namespace = string(h.Bytes)
					case h.Num == 4 && h.Type == wireVarint:
						s.Attempt = uint32(h.Varint)
					}
					return nil
				})
			case g.Num == 3 && g.Type == wireVarint:
				s.State = int(g.Varint)
			case g.Num == 4 && g.Type == wireVarint:
				s.CreatedAt = pbInt64(g.Varint)
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// parseCRIStatus decodes ContainerStatusResponse{status = 1, info = 2};
// ContainerStatus{id = 1, metadata = 2, state = 3, exit_code = 7,
// reason = 10, message = 11, labels = 12, annotations = 13}.
func parseCRIStatus(b []byte) (*criStatus, error) {
	st := &criStatus{}
	err := pbEach(b, func(f pbField) error {
		switch {
		case f.Num == 1 && f.Type == wireBytes:
			return pbEach(f.Bytes, func(g pbField) error {
				var err error
				switch {
				case g.Num == 1 && g.Type == wireBytes:
					st.ID = string(g.Bytes)
				case g.Num == 2 && g.Type == wireBytes:
					st.Name, _, err = parseCRIMetadata(g.Bytes)
				case g.Num == 3 && g.Type == wireVarint:
					st.State = int(g.Varint)
				case g.Num == 7 && g.Type == wireVarint:
					st.ExitCode = int32(g.Varint)
				case g.Num == 10 && g.Type == wireBytes:
					st.Reason = string(g.Bytes)
				case g.Num == 11 && g.Type == wireBytes:
					st.Message = string(g.Bytes)
				case g.Num == 12 && g.Type == wireBytes:
					err = pbAddMap(&st.Labels, g.Bytes)
				case g.Num == 13 && g.Type == wireBytes:
					err = pbAddMap(&st.Annotations, g.Bytes)
				}
				return err
			})
		case f.Num == 2 && f.Type == wireBytes:
			return pbAddMap(&st.Info, f.Bytes)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if st.ID == "" {
		return nil, errProto
	}
	return st, nil
}

// criFromFiles resolves from runc's state files, whose labels carry the
// CRI annotations: containerd's io.kubernetes.cri.* and CRI-O's
// io.kubernetes.pod.* / io.kubernetes.container.name. It returns nil, nil
// when nothing matches.
func criFromFiles(ref string, r criRef) (*Found, error) {
	roots := criRuncRoots()
	type hit struct {
		st   *runcState
		name string
	}
	var hits []hit
	for _, root := range roots {
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !r.byName() && !strings.HasPrefix(e.Name(), r.id) {
				continue
			}
			st, err := readRuncState(root, e.Name())
			if err != nil {
				continue
			}
			ns, pod, ctr, ok := criLabels(st)
			if !ok {
				continue
			}
			if r.byName() && (ns != r.namespace || pod != r.pod || (r.ctr != "" && ctr != r.ctr)) {
				continue
			}
			if _, err := procStatAlive(st.InitPID, st.InitStart); err != nil {
				continue // a leftover of an exited attempt
			}
			hits = append(hits, hit{st, ns + "/" + pod + "/" + ctr})
		}
	}
	switch len(hits) {
	case 0:
		return nil, nil
	case 1:
	default:
		var cands []string
		for _, h := range hits {
			cands = append(cands, "cri:"+h.name+" ("+shortID(h.st.ID)+")")
		}
		sortStrings(cands)
		return nil, ambiguous(ref, "reference", cands)
	}
	st := hits[0].st
	start, err := validate(ref, st.InitPID, st.ID, st.InitStart, nil)
	if err != nil {
		return nil, err
	}
	return &Found{PID: st.InitPID, StartTime: start, Container: Container{Runtime: "cri", ID: st.ID, Name: hits[0].name, Source: "runc state"}}, nil
}

// criLabels reads the Kubernetes names of an application container (not a
// sandbox) from its runc state labels.
func criLabels(st *runcState) (ns, pod, ctr string, ok bool) {
	if t := st.label("io.kubernetes.cri.container-type"); t != "" {
		if t != "container" {
			return "", "", "", false
		}
		return st.label("io.kubernetes.cri.sandbox-namespace"), st.label("io.kubernetes.cri.sandbox-name"), st.label("io.kubernetes.cri.container-name"), true
	}
	ctr = st.label("io.kubernetes.container.name")
	if ctr == "" || ctr == "POD" {
		return "", "", "", false
	}
	return st.label("io.kubernetes.pod.namespace"), st.label("io.kubernetes.pod.name"), ctr, true
}

// criRuncRoots are where runc keeps CRI containers' state: containerd's
// k8s.io namespace under every runc shim root, and CRI-O's runc.
func criRuncRoots() []string {
	return append(containerdRuncNamespaceRoots("k8s.io"), "/run/runc")
}

// criRuncRootsCheap is criRuncRoots without the running daemons' roots.
func criRuncRootsCheap() []string {
	return append(runcNamespaceRoots(fileContainerdDirs(), "k8s.io"), "/run/runc")
}
