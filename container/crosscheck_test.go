package container

// The hand-written CRI codec against the published k8s.io/cri-api module:
// what that module encodes, the resolver decodes, and the requests the
// resolver encodes, that module decodes to the intended values.

import (
	"testing"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestCRICodecMatchesPublishedAPI(t *testing.T) {
	list := &runtime.ListContainersResponse{Containers: []*runtime.Container{
		{
			Id: "abc", PodSandboxId: "sb1", State: runtime.ContainerState_CONTAINER_RUNNING, CreatedAt: 1234567890123,
			Metadata: &runtime.ContainerMetadata{Name: "app", Attempt: 3},
			Image:    &runtime.ImageSpec{Image: "img"}, ImageRef: "sha256:x",
			Labels:      map[string]string{"io.kubernetes.container.name": "app", "k": "v"},
			Annotations: map[string]string{"a": "b"},
		},
		{Id: "def", State: runtime.ContainerState_CONTAINER_EXITED, Metadata: &runtime.ContainerMetadata{Name: "side"}},
	}}
	b, err := proto.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := parseCRIContainers(b)
	if err != nil || len(cs) != 2 {
		t.Fatalf("%+v %v", cs, err)
	}
	if c := cs[0]; c.ID != "abc" || c.SandboxID != "sb1" || c.Name != "app" || c.Attempt != 3 || c.State != criRunning ||
		c.CreatedAt != 1234567890123 || c.Labels["k"] != "v" || len(c.Labels) != 2 {
		t.Errorf("%+v", c)
	}
	if cs[1].State != criExited || cs[1].Name != "side" {
		t.Errorf("%+v", cs[1])
	}

	pods := &runtime.ListPodSandboxResponse{Items: []*runtime.PodSandbox{{
		Id: "sb1", State: runtime.PodSandboxState_SANDBOX_NOTREADY, CreatedAt: -5,
		Metadata: &runtime.PodSandboxMetadata{Name: "web", Uid: "u1", Namespace: "prod", Attempt: 2},
	}}}
	b, _ = proto.Marshal(pods)
	ps, err := parseCRISandboxes(b)
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	if p := ps[0]; p.ID != "sb1" || p.Name != "web" || p.UID != "u1" || p.Namespace != "prod" || p.Attempt != 2 || p.State != criSandboxNotReady || p.CreatedAt != -5 {
		t.Errorf("%+v", p)
	}

	status := &runtime.ContainerStatusResponse{
		Status: &runtime.ContainerStatus{
			Id: "abc", Metadata: &runtime.ContainerMetadata{Name: "app"}, State: runtime.ContainerState_CONTAINER_EXITED,
			ExitCode: -1, Reason: "OOMKilled", Message: "m",
			Labels: map[string]string{"l": "1"}, Annotations: map[string]string{"a": "2"},
			Mounts: []*runtime.Mount{{ContainerPath: "/x"}},
		},
		Info: map[string]string{"info": `{"pid":42}`},
	}
	b, _ = proto.Marshal(status)
	st, err := parseCRIStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "abc" || st.Name != "app" || st.State != criExited || st.ExitCode != -1 || st.Reason != "OOMKilled" ||
		st.Message != "m" || st.Labels["l"] != "1" || st.Annotations["a"] != "2" || st.Info["info"] != `{"pid":42}` {
		t.Errorf("%+v", st)
	}

	// Requests.
	var sreq runtime.ContainerStatusRequest
	if err := proto.Unmarshal(pbAppendBool(pbAppendString(nil, 1, "abc"), 2, true), &sreq); err != nil || sreq.ContainerId != "abc" || !sreq.Verbose {
		t.Errorf("ContainerStatusRequest %v %v", &sreq, err)
	}
	var lreq runtime.ListContainersRequest
	if err := proto.Unmarshal(pbAppendMessage(nil, 1, pbAppendString(nil, 3, "sb1")), &lreq); err != nil || lreq.Filter.GetPodSandboxId() != "sb1" {
		t.Errorf("ListContainersRequest %v %v", &lreq, err)
	}
	var kv runtime.PodSandboxFilter
	if err := proto.Unmarshal(pbAppendMapEntry(nil, 3, "k", "v"), &kv); err != nil || kv.LabelSelector["k"] != "v" {
		t.Errorf("map entry %v %v", &kv, err)
	}
}
