package kubectl

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// agentName is the agent DaemonSet's name in --agent-namespace.
const agentName = "nsx-agent"

// agentInstall deploys the agent: a DaemonSet whose pods idle on every node
// (the helper image, nothing listening) for the plugin to exec into, which
// saves creating a pod per call. Its pods mount the host's /run, where
// runtimes keep their sockets; nsx debug, which needs the node's root too,
// gets a helper of its own.
func (s *session) agentInstall(ctx context.Context, stdio Stdio) error {
	ns := s.req.agentNamespace
	labels := helperLabels(componentAgent, false)
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: agentName, Namespace: ns, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       helperPodSpec(s.req.image, 0, hostMounts("/run")),
			},
		},
	}
	// A DaemonSet's pods must restart, unlike a helper's.
	ds.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	err := s.api.createDaemonSet(ctx, ds)
	if apierrors.IsAlreadyExists(err) {
		var cur *appsv1.DaemonSet
		if cur, err = s.api.getDaemonSet(ctx, ns, agentName); err == nil {
			cur.Spec.Template = ds.Spec.Template
			err = s.api.updateDaemonSet(ctx, cur)
		}
	}
	if err != nil {
		if apierrors.IsForbidden(err) {
			return forbidden(err, "create", "daemonsets.apps", ns)
		}
		return fmt.Errorf("installing the agent: %s", oneLine(err))
	}
	fmt.Fprintf(stdio.Out, "daemonset %s/%s installed (image %s)\n", ns, agentName, s.req.image)
	return nil
}

// agentRemove deletes the DaemonSet and its pods at once, without waiting
// for the garbage collector.
func (s *session) agentRemove(ctx context.Context, stdio Stdio) error {
	ns := s.req.agentNamespace
	bg := metav1.DeletePropagationBackground
	err := s.api.deleteDaemonSet(ctx, ns, agentName, metav1.DeleteOptions{PropagationPolicy: &bg})
	switch {
	case apierrors.IsForbidden(err):
		return forbidden(err, "delete", "daemonsets.apps", ns)
	case apierrors.IsNotFound(err):
		err = nil
	case err != nil:
		return fmt.Errorf("removing the agent: %s", oneLine(err))
	}
	list, err := s.api.listPods(ctx, ns, metav1.ListOptions{LabelSelector: agentSelector})
	if err != nil {
		return fmt.Errorf("listing agent pods: %s", oneLine(err))
	}
	for _, p := range list.Items {
		if err := s.deletePod(p.Namespace, p.Name); err != nil {
			return fmt.Errorf("deleting agent pod %s: %s", p.Name, oneLine(err))
		}
	}
	fmt.Fprintf(stdio.Out, "daemonset %s/%s removed\n", ns, agentName)
	return nil
}
