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
}

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
// mounts.
func usable(pod *corev1.Pod, image string, mounts []string) bool {
	if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning || len(pod.Spec.Containers) != 1 {
		return false
	}
	c := pod.Spec.Containers[0]
	if c.Image != image {
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
	for _, st := range pod.Status.ContainerStatuses {
		if st.Name == helperContainer && st.State.Running != nil {
			return true
		}
	}
	return false
}

// acquireHelper finds or makes a helper on node: the agent's pod, else a
// kept helper in the namespace, else (or when fresh) a new pod.
func (s *session) acquireHelper(ctx context.Context, stdio Stdio, node string, mounts []string, fresh bool) (*helper, error) {
	if fresh {
		return s.createHelper(ctx, stdio, node, mounts)
	}
	onNode := fields.OneTermEqualSelector("spec.nodeName", node).String()
	image := s.req.image
	if list, err := s.client.CoreV1().Pods(s.req.agentNamespace).List(ctx, metav1.ListOptions{
		LabelSelector: labelManagedBy + "=" + managedBy + "," + labelComponent + "=" + componentAgent,
		FieldSelector: onNode,
	}); err == nil {
		for i := range list.Items {
			if usable(&list.Items[i], image, mounts) {
				return &helper{name: list.Items[i].Name, namespace: s.req.agentNamespace}, nil
			}
		}
	}
	if s.req.keep > 0 {
		if list, err := s.client.CoreV1().Pods(s.namespace).List(ctx, metav1.ListOptions{
			LabelSelector: labelManagedBy + "=" + managedBy + "," + labelComponent + "=" + componentHelp + "," + labelKept + "=true",
			FieldSelector: onNode,
		}); err == nil {
			var found *helper
			for i := range list.Items {
				p := &list.Items[i]
				switch {
				case found == nil && usable(p, image, mounts):
					found = &helper{name: p.Name, namespace: s.namespace}
				case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
					// A kept helper that idled out: its record is all that is left.
					s.deletePod(p.Namespace, p.Name)
				}
			}
			if found != nil {
				return found, nil
			}
		}
	}
	return s.createHelper(ctx, stdio, node, mounts)
}

func (s *session) createHelper(ctx context.Context, stdio Stdio, node string, mounts []string) (*helper, error) {
	kept := s.req.keep > 0
	idle := s.req.keep
	if !kept {
		idle = oneShotIdle
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "nsx-helper-",
			Namespace:    s.namespace,
			Labels:       helperLabels(componentHelp, kept),
		},
		Spec: helperPodSpec(s.req.image, idle, mounts),
	}
	pod.Spec.NodeName = node
	created, err := s.client.CoreV1().Pods(s.namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.IsForbidden(err) {
			return nil, forbidden(err, "create", "pods", s.namespace)
		}
		return nil, fmt.Errorf("creating the helper pod: %s", oneLine(err))
	}
	h := &helper{name: created.Name, namespace: s.namespace, created: true, remove: !kept}
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
	pods := s.client.CoreV1().Pods(pod.Namespace)
	last := pod
	rv := pod.ResourceVersion
	for {
		w, err := pods.Watch(wctx, metav1.ListOptions{
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
				if usable(p, p.Spec.Containers[0].Image, nil) {
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
		p, err := pods.Get(wctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			if wctx.Err() != nil {
				break
			}
			return fmt.Errorf("helper pod %s: %s", pod.Name, oneLine(err))
		}
		last, rv = p, p.ResourceVersion
		if usable(p, p.Spec.Containers[0].Image, nil) {
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
	evs, err := s.client.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{
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
	err := s.client.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// cleanup deletes every helper pod of the namespace: kept ones and those a
// crashed run left.
func (s *session) cleanup(ctx context.Context, stdio Stdio) error {
	list, err := s.client.CoreV1().Pods(s.namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labelManagedBy + "=" + managedBy + "," + labelComponent + "=" + componentHelp,
	})
	if err != nil {
		if apierrors.IsForbidden(err) {
			return forbidden(err, "list", "pods", s.namespace)
		}
		return fmt.Errorf("listing helper pods: %s", oneLine(err))
	}
	n := 0
	for _, p := range list.Items {
		if err := s.deletePod(p.Namespace, p.Name); err != nil {
			if apierrors.IsForbidden(err) {
				return forbidden(err, "delete", "pods", s.namespace)
			}
			return fmt.Errorf("deleting helper pod %s: %s", p.Name, oneLine(err))
		}
		n++
	}
	fmt.Fprintf(stdio.Out, "deleted %d helper pod(s) in namespace %s\n", n, s.namespace)
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
