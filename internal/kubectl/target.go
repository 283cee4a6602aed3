package kubectl

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// defaultContainerAnnotation names a pod's default container, as kubectl
// exec and logs honour it.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// criSocketAnnotation is kubeadm's record of a node's CRI socket.
const criSocketAnnotation = "kubeadm.alpha.kubernetes.io/cri-socket"

// containerTarget is a running container found through the API server.
type containerTarget struct {
	pod       *corev1.Pod
	name      string // container name
	runtime   string // "containerd", "cri-o", "docker", … (the ID's scheme)
	id        string // the runtime's container ID
	node      string
	namespace string
}

// nsxRef is the target reference nsx understands on the node.
func (t *containerTarget) nsxRef() string {
	if t.runtime == "docker" {
		return "docker:" + t.id
	}
	return "cri:" + t.id
}

// findContainer looks the pod up and picks the container: -c, else the
// default-container annotation, else the first container.
func (s *session) findContainer(ctx context.Context, podName, want string) (*containerTarget, error) {
	pod, err := s.api.getPod(ctx, s.namespace, podName)
	if err != nil {
		switch {
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("pod %q not found in namespace %q", podName, s.namespace)
		case apierrors.IsForbidden(err):
			return nil, forbidden(err, "get", "pods", s.namespace)
		}
		return nil, fmt.Errorf("getting pod %q: %s", podName, oneLine(err))
	}
	var names []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	name := want
	if name == "" {
		name = pod.Annotations[defaultContainerAnnotation]
		if name == "" || !slices.Contains(names, name) {
			if len(names) == 0 {
				return nil, fmt.Errorf("pod %q has no containers", podName)
			}
			name = names[0]
		}
	}
	statuses := append(append(append([]corev1.ContainerStatus{}, pod.Status.ContainerStatuses...),
		pod.Status.InitContainerStatuses...), pod.Status.EphemeralContainerStatuses...)
	var st *corev1.ContainerStatus
	for i := range statuses {
		if statuses[i].Name == name {
			st = &statuses[i]
			break
		}
	}
	if st == nil {
		if want != "" && !inSpec(pod, want) {
			return nil, fmt.Errorf("container %q not found in pod %q (containers: %s)", want, podName, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("container %q in pod %q is not running (pod %s)", name, podName, phaseOf(pod))
	}
	if st.State.Running == nil || st.ContainerID == "" {
		return nil, fmt.Errorf("container %q in pod %q is not running (%s)", name, podName, stateOf(st.State))
	}
	runtime, id, ok := strings.Cut(st.ContainerID, "://")
	if !ok || id == "" {
		return nil, fmt.Errorf("container %q in pod %q has an unexpected container ID %q", name, podName, st.ContainerID)
	}
	if pod.Spec.NodeName == "" {
		return nil, fmt.Errorf("pod %q is not on a node yet", podName)
	}
	return &containerTarget{pod: pod, name: name, runtime: runtime, id: id, node: pod.Spec.NodeName, namespace: s.namespace}, nil
}

func inSpec(pod *corev1.Pod, name string) bool {
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range cs {
			if c.Name == name {
				return true
			}
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

func phaseOf(pod *corev1.Pod) string {
	if pod.Status.Reason != "" {
		return strings.ToLower(string(pod.Status.Phase)) + ": " + pod.Status.Reason
	}
	return strings.ToLower(string(pod.Status.Phase))
}

func stateOf(s corev1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		if s.Waiting.Reason != "" {
			return "waiting: " + s.Waiting.Reason
		}
		return "waiting"
	case s.Terminated != nil:
		r := s.Terminated.Reason
		if r == "" {
			r = "terminated"
		}
		return fmt.Sprintf("terminated: %s, exit code %d", r, s.Terminated.ExitCode)
	}
	return "no state reported"
}

// The CRI socket on the node is --runtime-endpoint, else the node's
// kubeadm annotation (nodeSocket), else the runtime's usual socket
// (defaultSocket). A user who may not read nodes gets the usual socket.

// nodeSocket is the node's annotated CRI socket, or "".
func (s *session) nodeSocket(ctx context.Context, node string) string {
	if n, err := s.api.getNode(ctx, node); err == nil {
		return n.Annotations[criSocketAnnotation]
	}
	return ""
}

// defaultSocket is the usual socket of a runtime, by the container ID's
// scheme.
func defaultSocket(runtime string) string {
	switch runtime {
	case "cri-o":
		return "unix:///run/crio/crio.sock"
	case "docker":
		return "unix:///var/run/docker.sock"
	}
	return "unix:///run/containerd/containerd.sock"
}

// socketDir is the directory of a unix:// endpoint (or socket path): the
// helper mounts it, so that a runtime restart's new socket is seen too.
func socketDir(endpoint string) string {
	p := strings.TrimPrefix(endpoint, "unix://")
	return path.Dir(path.Clean(p))
}

// forbidden turns an RBAC refusal into one line that says which permission
// is missing.
func forbidden(err error, verb, resource, namespace string) error {
	where := "in namespace " + namespace
	if namespace == "" {
		where = "cluster-wide"
	}
	reason := oneLine(err)
	if se, ok := err.(apierrors.APIStatus); ok && se.Status().Message != "" {
		reason = strings.Join(strings.Fields(se.Status().Message), " ")
	}
	return fmt.Errorf("not allowed: RBAC permission %q on %q %s is needed (%s)", verb, resource, where, reason)
}
