package kubectl

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// The plugin talks to two API groups, core/v1 and apps/v1, through REST
// clients of its own rather than client-go's clientset: the clientset's
// scheme registers every API group's types at start-up (about 10 ms of
// package init and a binary twice the size), and its discovery and REST
// mapping would cost round trips. Both clients share one http.Client, so
// that every call but the exec stream goes over one HTTP/2 connection,
// in protobuf.
var (
	apiScheme  = runtime.NewScheme()
	apiCodecs  = serializer.NewCodecFactory(apiScheme)
	paramCodec = runtime.NewParameterCodec(apiScheme)
)

func init() {
	utilruntime.Must(corev1.AddToScheme(apiScheme))
	utilruntime.Must(appsv1.AddToScheme(apiScheme))
	metav1.AddToGroupVersion(apiScheme, schema.GroupVersion{Version: "v1"})
}

// apiClients are the REST clients of one session.
type apiClients struct {
	core, apps *rest.RESTClient
}

func newAPIClients(cfg *rest.Config) (*apiClients, error) {
	base := rest.CopyConfig(cfg)
	base.ContentType = runtime.ContentTypeProtobuf
	base.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	base.NegotiatedSerializer = apiCodecs.WithoutConversion()
	if base.UserAgent == "" {
		base.UserAgent = "kubectl-nsx/" + Version
	}
	httpClient, err := rest.HTTPClientFor(base)
	if err != nil {
		return nil, err
	}
	client := func(apiPath string, gv schema.GroupVersion) (*rest.RESTClient, error) {
		c := rest.CopyConfig(base)
		c.APIPath, c.GroupVersion = apiPath, &gv
		return rest.RESTClientForConfigAndClient(c, httpClient)
	}
	core, err := client("/api", corev1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	apps, err := client("/apis", appsv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	return &apiClients{core: core, apps: apps}, nil
}

func (c *apiClients) getPod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	err := c.core.Get().Namespace(namespace).Resource("pods").Name(name).Do(ctx).Into(pod)
	return pod, err
}

// listPods lists the pods of a namespace, or of all namespaces for "".
func (c *apiClients) listPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	list := &corev1.PodList{}
	err := c.core.Get().Namespace(namespace).Resource("pods").VersionedParams(&opts, paramCodec).Do(ctx).Into(list)
	return list, err
}

func (c *apiClients) watchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.core.Get().Namespace(namespace).Resource("pods").VersionedParams(&opts, paramCodec).Watch(ctx)
}

func (c *apiClients) createPod(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	out := &corev1.Pod{}
	err := c.core.Post().Namespace(pod.Namespace).Resource("pods").Body(pod).Do(ctx).Into(out)
	return out, err
}

func (c *apiClients) deletePod(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) error {
	return c.core.Delete().Namespace(namespace).Resource("pods").Name(name).Body(&opts).Do(ctx).Error()
}

func (c *apiClients) getNode(ctx context.Context, name string) (*corev1.Node, error) {
	node := &corev1.Node{}
	err := c.core.Get().Resource("nodes").Name(name).Do(ctx).Into(node)
	return node, err
}

func (c *apiClients) listNamespaces(ctx context.Context) (*corev1.NamespaceList, error) {
	list := &corev1.NamespaceList{}
	err := c.core.Get().Resource("namespaces").Do(ctx).Into(list)
	return list, err
}

func (c *apiClients) listEvents(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.EventList, error) {
	list := &corev1.EventList{}
	err := c.core.Get().Namespace(namespace).Resource("events").VersionedParams(&opts, paramCodec).Do(ctx).Into(list)
	return list, err
}

func (c *apiClients) createDaemonSet(ctx context.Context, ds *appsv1.DaemonSet) error {
	return c.apps.Post().Namespace(ds.Namespace).Resource("daemonsets").Body(ds).Do(ctx).Error()
}

func (c *apiClients) getDaemonSet(ctx context.Context, namespace, name string) (*appsv1.DaemonSet, error) {
	ds := &appsv1.DaemonSet{}
	err := c.apps.Get().Namespace(namespace).Resource("daemonsets").Name(name).Do(ctx).Into(ds)
	return ds, err
}

func (c *apiClients) updateDaemonSet(ctx context.Context, ds *appsv1.DaemonSet) error {
	return c.apps.Put().Namespace(ds.Namespace).Resource("daemonsets").Name(ds.Name).Body(ds).Do(ctx).Error()
}

func (c *apiClients) deleteDaemonSet(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) error {
	return c.apps.Delete().Namespace(namespace).Resource("daemonsets").Name(name).Body(&opts).Do(ctx).Error()
}
