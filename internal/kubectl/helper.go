package kubectl

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// Labels every object the plugin creates carries, so that a crashed run's
// leftovers can be found (kubectl nsx --cleanup) and helpers reused.
const (
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "kubectl-nsx"
	labelComponent = "app.kubernetes.io/component"
	componentHelp  = "helper"
	componentAgent = "agent"
	// labelKept marks a helper that stays for reuse ("true") rather than one
	// deleted when its command ends ("false").
	labelKept = "kubectl-nsx/kept"
)

// nsxPath is where the image holds nsx, and helperContainer the helper pod's
// only container.
const (
	nsxPath         = "/nsx"
	helperContainer = "nsx"
)

// oneShotIdle bounds the life of a helper the plugin means to delete: if
// the plugin dies before it can, the helper exits by itself.
const oneShotIdle = time.Minute

// helper is a pod on the target's node that runs nsx.
type helper struct {
	name, namespace string
	// created is true when this run created the pod; reused helpers may
	// have exited since they were seen.
	created bool
	// remove is true when the pod must be deleted when the command ends.
	remove bool
	// endpoint is the runtime socket nsx is to ask, as the node sees it;
	// "" in a helper without it mounted, where nsx finds the container
	// through /proc.
	endpoint string
	// agent is true for the agent DaemonSet's pod.
	agent bool
}

// annotationEndpoint records on a kept helper the runtime socket its
// mounts were made for, so that a later call can use it without reading
// the node.
const annotationEndpoint = "kubectl-nsx/runtime-endpoint"

// hostMounts are the host directories a helper mounts at the same paths:
// /run (where runtimes keep their sockets), and the socket's directory
// when it is elsewhere.
func hostMounts(sockDir string) []string {
	if sockDir == "/var/run" || strings.HasPrefix(sockDir, "/var/run/") {
		sockDir = "/run" + strings.TrimPrefix(sockDir, "/var/run")
	}
	if sockDir == "/run" || strings.HasPrefix(sockDir, "/run/") {
		return []string{"/run"}
	}
	return []string{"/run", sockDir}
}

// hostRootMount is where a debug helper sees the node's root: nsx debug's
// toolbox (the helper's own root holds only nsx).
const hostRootMount = "/host"

// inHelperMount is where the helper mounts a host directory: at the same
// path, except the node's root.
func inHelperMount(hostPath string) string {
	if hostPath == "/" {
		return hostRootMount
	}
	return hostPath
}

// inHelperPath maps a host socket path to the helper's view: /var/run is a
// symbolic link to /run on the node, and the image has no /var.
func inHelperPath(endpoint string) string {
	p := strings.TrimPrefix(endpoint, "unix://")
	if rest, ok := strings.CutPrefix(p, "/var/run/"); ok {
		p = "/run/" + rest
	}
	return "unix://" + p
}

// helperPodSpec is what every helper and agent pod runs: nsx idling as the
// container's main process, privileged, in the host's PID namespace, with
// the runtime socket mounted and nothing else from the cluster (no
// service-account token, no service links), tolerating every taint.
func helperPodSpec(image string, idle time.Duration, mounts []string) corev1.PodSpec {
	privileged := true
	automount := false
	links := false
	grace := int64(1)
	args := []string{"helper-idle"}
	if idle > 0 {
		args = append(args, "--idle="+idle.String())
	}
	spec := corev1.PodSpec{
		HostPID:                       true,
		HostNetwork:                   true,
		RestartPolicy:                 corev1.RestartPolicyNever,
		AutomountServiceAccountToken:  &automount,
		EnableServiceLinks:            &links,
		TerminationGracePeriodSeconds: &grace,
		Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		Containers: []corev1.Container{{
			Name:            helperContainer,
			Image:           image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Command:         []string{nsxPath},
			Args:            args,
			SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
		}},
	}
	hostPathDir := corev1.HostPathDirectory
	for i, m := range mounts {
		name := fmt.Sprintf("host-%d", i)
		spec.Volumes = append(spec.Volumes, corev1.Volume{
			Name:         name,
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: m, Type: &hostPathDir}},
		})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: name, MountPath: inHelperMount(m)})
	}
	return spec
}

func helperLabels(component string, kept bool) map[string]string {
	l := map[string]string{labelManagedBy: managedBy, labelComponent: component}
	if component == componentHelp {
		l[labelKept] = fmt.Sprint(kept)
	}
	return l
}

// usable reports whether pod is a running helper with the wanted image and
// at least the wanted host mounts. (Every reuse passes nsx the runtime
// endpoint it is to ask, so more mounts than needed do no harm.)
func usable(pod *corev1.Pod, image string, mounts []string) bool {
	if !running(pod) || pod.Spec.Containers[0].Image != image {
		return false
	}
	have := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if v.HostPath != nil {
			have[v.HostPath.Path] = true
		}
	}
	for _, m := range mounts {
		if !have[m] {
			return false
		}
	}
	return true
}

// running reports whether pod is a helper whose container runs.
func running(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning || len(pod.Spec.Containers) != 1 {
		return false
	}
	for _, st := range pod.Status.ContainerStatuses {
		if st.Name == helperContainer && st.State.Running != nil {
			return true
		}
	}
	return false
}

// Label selectors of the plugin's pods.
const (
	agentSelector  = labelManagedBy + "=" + managedBy + "," + labelComponent + "=" + componentAgent
	helperSelector = labelManagedBy + "=" + managedBy + "," + labelComponent + "=" + componentHelp
	keptSelector   = helperSelector + "," + labelKept + "=true"
)

// podLookup is a pod list asked for in the background, so that the
// lookups of one call overlap instead of adding up their round trips.
type podLookup struct {
	done chan struct{}
	pods []corev1.Pod
}

// lookupPods lists pods in the background; a failed list is an empty one
// (the caller then creates a helper, and that call reports what is wrong).
func (s *session) lookupPods(ctx context.Context, namespace string, opts metav1.ListOptions) *podLookup {
	l := &podLookup{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		if list, err := s.api.listPods(ctx, namespace, opts); err == nil {
			l.pods = list.Items
		}
	}()
	return l
}

// wait returns the pods; a nil lookup has none.
func (l *podLookup) wait() []corev1.Pod {
	if l == nil {
		return nil
	}
	<-l.done
	return l.pods
}

// lookupKept lists the kept helpers of the session's namespace, all nodes:
// there are few (one per node recently used), so the list can be asked for
// at the same time as the target pod, before its node is known. nil with
// --keep=0, which never reuses one.
func (s *session) lookupKept(ctx context.Context) *podLookup {
	if s.req.keep == 0 {
		return nil
	}
	return s.lookupPods(ctx, s.namespace, metav1.ListOptions{LabelSelector: keptSelector})
}

// lookupAgent lists the agent's pods on node (one per node, so never the
// whole DaemonSet's).
func (s *session) lookupAgent(ctx context.Context, node string) *podLookup {
	return s.lookupPods(ctx, s.req.agentNamespace, metav1.ListOptions{
		LabelSelector: agentSelector,
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String(),
	})
}

// endpointLookup is a node's annotated runtime socket, read in the
// background.
type endpointLookup struct {
	done     chan struct{}
	endpoint string
}

func (s *session) lookupEndpoint(ctx context.Context, node string) *endpointLookup {
	l := &endpointLookup{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.endpoint = s.nodeSocket(ctx, node)
	}()
	return l
}

func (l *endpointLookup) wait() string {
	<-l.done
	return l.endpoint
}

// prefetch are the agent and node lookups started, on a cached hint (see
// nodecache.go), before the target's node is known.
type prefetch struct {
	node     string
	agent    *podLookup
	endpoint *endpointLookup
}

// prefetchAgent starts them when the last call for pod was served by the
// agent.
func (s *session) prefetchAgent(ctx context.Context, pod string) *prefetch {
	h, ok := s.loadHint(pod)
	if !ok || !h.agent {
		return nil
	}
	p := &prefetch{node: h.node, agent: s.lookupAgent(ctx, h.node)}
	if s.req.endpoint == "" {
		p.endpoint = s.lookupEndpoint(ctx, h.node)
	}
	return p
}

// helperMounts are the host directories a helper needs for endpoint (none
// for ""), and the node's root for nsx debug's toolbox.
func (s *session) helperMounts(endpoint string) []string {
	var m []string
	if endpoint != "" {
		m = hostMounts(socketDir(endpoint))
	}
	if s.req.mode == modeDebug {
		m = append(m, "/")
	}
	return m
}

// acquireHelper finds or makes a helper on node: a kept helper of the
// namespace (kept, the lookup started with the target's), else the agent's
// pod, else (or when fresh) a new pod.
//
// Reused helpers have the runtime's socket mounted, and nsx asks the
// runtime for the container (about 10 ms of CPU). A new pod is different:
// one with a volume waits for the kubelet's volume manager, which polls
// every 300 ms before it makes the sandbox. So a call that finds no helper
// creates a one-shot helper with no volume, in which nsx, in the host's PID
// namespace, finds the container by its ID through /proc (slower per call
// than the runtime's API, much faster than the wait), and, with --keep,
// also creates in the background the kept helper with the socket mounted
// that later calls will use. nsx debug and --runtime-endpoint need mounts
// anyway and get them on the first call.
func (s *session) acquireHelper(ctx context.Context, node string, tgt *containerTarget, fresh bool, kept *podLookup, pre *prefetch) (*helper, error) {
	image := s.req.image
	keptOnNode := false
	if !fresh {
		var found *helper
		for _, p := range kept.wait() {
			if p.Spec.NodeName != node {
				continue
			}
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				// A kept helper that idled out: its record is all that is left.
				s.deletePod(p.Namespace, p.Name)
				continue
			}
			if p.Status.Phase == corev1.PodPending && time.Since(p.CreationTimestamp.Time) > s.req.timeout {
				// A kept helper that never started (created in the
				// background, nobody waited for it): make room for another.
				s.deletePod(p.Namespace, p.Name)
				continue
			}
			keptOnNode = true
			ep := s.req.endpoint
			if ep == "" && tgt != nil {
				ep = p.Annotations[annotationEndpoint]
				if ep == "" {
					continue
				}
			}
			if found == nil && usable(&p, image, s.helperMounts(ep)) {
				found = &helper{name: p.Name, namespace: p.Namespace, endpoint: ep}
			}
		}
		if found != nil {
			return found, nil
		}
	}
	// No kept helper: the agent's pod on the node, and the node's runtime
	// socket, both asked for at once.
	if pre == nil || pre.node != node || fresh {
		pre = &prefetch{node: node}
		if !fresh {
			pre.agent = s.lookupAgent(ctx, node)
		}
		if tgt != nil && s.req.endpoint == "" {
			pre.endpoint = s.lookupEndpoint(ctx, node)
		}
	}
	ep := s.req.endpoint
	if tgt != nil && ep == "" {
		if ep = pre.endpoint.wait(); ep == "" {
			ep = defaultSocket(tgt.runtime)
		}
	}
	for _, p := range pre.agent.wait() {
		if usable(&p, image, s.helperMounts(ep)) {
			return &helper{name: p.Name, namespace: p.Namespace, endpoint: ep, agent: true}, nil
		}
	}
	if tgt == nil || s.req.endpoint != "" || s.req.mode == modeDebug {
		// node/NAME needs no mounts; the others cannot do without them.
		return s.createHelper(ctx, node, s.req.keep, s.helperMounts(ep), ep)
	}
	h, err := s.createHelper(ctx, node, 0, nil, "")
	if err != nil {
		return nil, err
	}
	if s.req.keep > 0 && !keptOnNode {
		s.createSpare(node, ep)
	}
	return h, nil
}

// createSpare creates, in the background, the kept helper (socket
// mounted) that later calls on node will use; it does not wait for it to
// start. A failure only means that the next call makes a helper again.
func (s *session) createSpare(node, endpoint string) {
	s.spares.Add(1)
	go func() {
		defer s.spares.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pod := s.helperPod(node, s.req.keep, s.helperMounts(endpoint), endpoint)
		created, err := s.api.createPod(ctx, pod)
		if err != nil {
			tracef("creating the kept helper: %s", oneLine(err))
			return
		}
		tracef("kept helper %s created", created.Name)
	}()
}

// helperPod is a helper pod for node: kept for reuse when keep > 0 (idle
// that long), else meant to be deleted after one command.
func (s *session) helperPod(node string, keep time.Duration, mounts []string, endpoint string) *corev1.Pod {
	idle := keep
	if keep == 0 {
		idle = oneShotIdle
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "nsx-helper-",
			Namespace:    s.namespace,
			Labels:       helperLabels(componentHelp, keep > 0),
		},
		Spec: helperPodSpec(s.req.image, idle, mounts),
	}
	if endpoint != "" {
		pod.Annotations = map[string]string{annotationEndpoint: endpoint}
	}
	pod.Spec.NodeName = node
	return pod
}

// createHelper creates a helper and waits until it runs.
func (s *session) createHelper(ctx context.Context, node string, keep time.Duration, mounts []string, endpoint string) (*helper, error) {
	created, err := s.api.createPod(ctx, s.helperPod(node, keep, mounts, endpoint))
	if err != nil {
		if apierrors.IsForbidden(err) {
			return nil, forbidden(err, "create", "pods", s.namespace)
		}
		return nil, fmt.Errorf("creating the helper pod: %s", oneLine(err))
	}
	h := &helper{name: created.Name, namespace: s.namespace, created: true, remove: keep == 0, endpoint: endpoint}
	if err := s.waitRunning(ctx, created); err != nil {
		// Not started: never leave it behind, kept or not.
		s.deletePod(h.namespace, h.name)
		return nil, err
	}
	return h, nil
}

// waitRunning waits until the helper's container runs, it fails for good,
// or --timeout passes; then it says why, from the pod and its events.
func (s *session) waitRunning(ctx context.Context, pod *corev1.Pod) error {
	wctx, cancel := context.WithTimeout(ctx, s.req.timeout)
	defer cancel()
	last := pod
	rv := pod.ResourceVersion
	for {
		w, err := s.api.watchPods(wctx, pod.Namespace, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", pod.Name).String(),
			ResourceVersion: rv,
		})
		if err != nil {
			if wctx.Err() != nil {
				break
			}
			return fmt.Errorf("watching the helper pod: %s", oneLine(err))
		}
		done, err := func() (bool, error) {
			defer w.Stop()
			for ev := range w.ResultChan() {
				p, ok := ev.Object.(*corev1.Pod)
				if !ok {
					// An expired resource version: list again below.
					return false, nil
				}
				last, rv = p, p.ResourceVersion
				tracef("watch: %s %s %s", ev.Type, p.Status.Phase, watchState(p))
				if ev.Type == watch.Deleted {
					return true, fmt.Errorf("helper pod %s was deleted while starting", p.Name)
				}
				if running(p) {
					return true, nil
				}
				if err := startFailure(p); err != nil {
					return true, err
				}
			}
			return false, nil
		}()
		if done {
			return err
		}
		if wctx.Err() != nil {
			break
		}
		// The watch ended early: start again from the current state.
		p, err := s.api.getPod(wctx, pod.Namespace, pod.Name)
		if err != nil {
			if wctx.Err() != nil {
				break
			}
			return fmt.Errorf("helper pod %s: %s", pod.Name, oneLine(err))
		}
		last, rv = p, p.ResourceVersion
		if running(p) {
			return nil
		}
		if err := startFailure(p); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("helper pod %s not running on node %s after %s: %s",
		pod.Name, pod.Spec.NodeName, s.req.timeout, s.whyPending(last))
}

// startFailure is the error of a helper that will not start however long
// one waits.
func startFailure(p *corev1.Pod) error {
	if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
		why := p.Status.Message
		if why == "" {
			why = phaseOf(p)
		}
		for _, st := range p.Status.ContainerStatuses {
			if t := st.State.Terminated; t != nil {
				why = stateOf(st.State)
				if t.Message != "" {
					why += ": " + t.Message
				}
			}
		}
		return fmt.Errorf("helper pod %s on node %s failed: %s", p.Name, p.Spec.NodeName, oneLineString(why))
	}
	for _, st := range p.Status.ContainerStatuses {
		if w := st.State.Waiting; w != nil {
			switch w.Reason {
			case "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError":
				return fmt.Errorf("helper pod %s on node %s cannot start: %s: %s", p.Name, p.Spec.NodeName, w.Reason, oneLineString(w.Message))
			}
		}
	}
	return nil
}

// whyPending explains a helper that did not start in time: the container's
// waiting reason, else the pod's latest warning event, else its conditions.
func (s *session) whyPending(p *corev1.Pod) string {
	for _, st := range p.Status.ContainerStatuses {
		if w := st.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" {
			return w.Reason + ": " + oneLineString(w.Message)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := s.api.listEvents(ctx, p.Namespace, metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.name": p.Name, "involvedObject.kind": "Pod"}.String(),
	})
	if err == nil && len(evs.Items) > 0 {
		items := evs.Items
		when := func(e *corev1.Event) time.Time {
			switch {
			case !e.LastTimestamp.IsZero():
				return e.LastTimestamp.Time
			case !e.EventTime.IsZero():
				return e.EventTime.Time
			}
			return e.CreationTimestamp.Time
		}
		sort.SliceStable(items, func(i, j int) bool { return when(&items[i]).Before(when(&items[j])) })
		pick := &items[len(items)-1]
		for i := len(items) - 1; i >= 0; i-- {
			if items[i].Type == corev1.EventTypeWarning {
				pick = &items[i]
				break
			}
		}
		return pick.Reason + ": " + oneLineString(pick.Message)
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			return string(c.Type) + ": " + oneLineString(c.Message)
		}
	}
	return fmt.Sprintf("no events (is node %s up?)", p.Spec.NodeName)
}

func oneLineString(s string) string { return strings.Join(strings.Fields(s), " ") }

// deletePod deletes a pod at once (grace period 0), with its own deadline:
// it runs on the way out, also after the caller's context is cancelled.
func (s *session) deletePod(namespace, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zero := int64(0)
	err := s.api.deletePod(ctx, namespace, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// cleanup deletes the plugin's helper pods, kept ones and those a crashed
// run left: in the namespace of -n when it is given, else in every
// namespace the user can list pods in. It names each pod it deletes.
func (s *session) cleanup(ctx context.Context, stdio Stdio) error {
	var namespaces []string
	switch {
	case s.req.namespace != "":
		namespaces = []string{s.req.namespace}
	default:
		// One list for the whole cluster when allowed; else namespace by
		// namespace, as far as the user may list them.
		list, err := s.api.listPods(ctx, "", metav1.ListOptions{LabelSelector: helperSelector})
		if err == nil {
			return s.deleteHelpers(stdio, list.Items, "in all namespaces")
		}
		if !apierrors.IsForbidden(err) {
			return fmt.Errorf("listing helper pods: %s", oneLine(err))
		}
		nss, nerr := s.api.listNamespaces(ctx)
		if nerr != nil {
			// Neither: the context's namespace is all one may see.
			namespaces = []string{s.namespace}
			break
		}
		for _, n := range nss.Items {
			namespaces = append(namespaces, n.Name)
		}
	}
	var pods []corev1.Pod
	listed := 0
	for _, ns := range namespaces {
		list, err := s.api.listPods(ctx, ns, metav1.ListOptions{LabelSelector: helperSelector})
		if err != nil {
			if apierrors.IsForbidden(err) && len(namespaces) > 1 {
				continue
			}
			if apierrors.IsForbidden(err) {
				return forbidden(err, "list", "pods", ns)
			}
			return fmt.Errorf("listing helper pods in namespace %s: %s", ns, oneLine(err))
		}
		listed++
		pods = append(pods, list.Items...)
	}
	where := fmt.Sprintf("in %d namespace(s)", listed)
	if len(namespaces) == 1 {
		where = "in namespace " + namespaces[0]
	}
	return s.deleteHelpers(stdio, pods, where)
}

// deleteHelpers deletes pods, one line each, and says how many.
func (s *session) deleteHelpers(stdio Stdio, pods []corev1.Pod, where string) error {
	n := 0
	for _, p := range pods {
		if err := s.deletePod(p.Namespace, p.Name); err != nil {
			if apierrors.IsForbidden(err) {
				return forbidden(err, "delete", "pods", p.Namespace)
			}
			return fmt.Errorf("deleting helper pod %s/%s: %s", p.Namespace, p.Name, oneLine(err))
		}
		fmt.Fprintf(stdio.Out, "deleted helper pod %s/%s (node %s, %s)\n", p.Namespace, p.Name, p.Spec.NodeName, strings.ToLower(string(p.Status.Phase)))
		n++
	}
	fmt.Fprintf(stdio.Out, "deleted %d helper pod(s) %s\n", n, where)
	return nil
}

// watchState is a pod's conditions and container states, for the trace.
func watchState(p *corev1.Pod) string {
	var b strings.Builder
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(&b, "%s=%s ", c.Type, c.Status)
	}
	for _, st := range p.Status.ContainerStatuses {
		if st.State.Running != nil {
			b.WriteString("running")
			continue
		}
		b.WriteString(stateOf(st.State))
	}
	return b.String()
}
