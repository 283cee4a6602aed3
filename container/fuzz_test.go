package container

// Fuzz tests for every parser that reads what a runtime or the kernel
// wrote. Seeds are the samples in testdata/. Run one with e.g.
//
//	go test -run '^$' -fuzz FuzzEngineInspect -fuzztime 30s ./container/

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"

	"github.com/nsxproject/nsx/procfs"
)

func seed(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, _ := filepath.Glob(filepath.Join("testdata", g))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
}

func FuzzEngineInspect(f *testing.F) {
	seed(f, "docker-inspect-*.json", "podman-*inspect.json")
	f.Add([]byte(`{"Id":"x","State":{"Status":"weird","Running":false,"Pid":-1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseEngineContainer(b)
		if err != nil {
			return
		}
		if c.ID == "" {
			t.Fatal("accepted without Id")
		}
		if err := engineStateError("docker:x", c, ""); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("multi-line error %q", err)
		}
		parseEngineList(b)
		engineMessage(b)
	})
}

func FuzzStateFiles(f *testing.F) {
	seed(f, "runc-state-*.json", "docker-config.v2.json", "podman-containers.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := parseRuncState(b); err == nil {
			if s.ID == "" || s.InitPID <= 0 {
				t.Fatalf("accepted %+v", s)
			}
			s.label("bundle")
			criLabels(s)
		}
		if c, err := parseDockerConfig(b); err == nil {
			switch c.status() {
			case "running", "paused", "restarting", "dead", "created", "exited":
			default:
				t.Fatalf("status %q", c.status())
			}
		}
		if es, err := parsePodmanContainers(b); err == nil {
			matchPodmanEntry("podman:a", "a", es)
		}
		parseCrunStatus(b)
		parseCRIInfo(string(b))
		parseStorageConf(string(b))
	})
}

func FuzzCgroupLines(f *testing.F) {
	seed(f, "cgroup-*.txt")
	f.Add([]byte("0::/kubepods-besteffort-pod12_34.slice:cri-containerd:3f2a9c1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := procfs.ParseCgroup(string(b))
		if err != nil {
			return
		}
		c, ok := FromCgroup(lines)
		if ok != (c.Runtime != "" && c.ID != "") {
			t.Fatalf("ok %v with %+v", ok, c)
		}
		if ok && c.Runtime != "containerd" && c.Runtime != "lxc" && !isHexID(c.ID) {
			t.Fatalf("%s ID %q is not a 64-hex ID", c.Runtime, c.ID)
		}
		if ok && !cgroupNames(string(b), c.ID) {
			t.Fatalf("FromCgroup found %s but cgroupNames disagrees", c.ID)
		}
		if !ok && c != (Container{}) {
			t.Fatalf("not ok but %+v", c)
		}
	})
}

func FuzzProtobufReplies(f *testing.F) {
	seed(f, "*.pb")
	f.Add(pbAppendMapEntry(nil, 2, "k", "v"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseCtrNamespaces(b)
		parseCtrTasks(b)
		parseCtrContainers(b)
		parseCRIContainers(b)
		parseCRISandboxes(b)
		if st, err := parseCRIStatus(b); err == nil && st.ID == "" {
			t.Fatal("status without ID accepted")
		}
		n := 0
		pbEach(b, func(fl pbField) error {
			if fl.Num <= 0 {
				t.Fatalf("field number %d", fl.Num)
			}
			if fl.Type == wireBytes && len(fl.Bytes) > len(b) {
				t.Fatal("field longer than the message")
			}
			n++
			return nil
		})
		grpcUnframe(b)
	})
}

// Encoding then decoding gives back what was encoded.
func FuzzPBRoundTrip(f *testing.F) {
	f.Add("id", uint64(7), true, "k", "v")
	f.Fuzz(func(t *testing.T, s string, u uint64, bo bool, k, v string) {
		var b []byte
		b = pbAppendString(b, 1, s)
		b = pbAppendUint(b, 2, u)
		b = pbAppendBool(b, 3, bo)
		b = pbAppendMapEntry(b, 4, k, v)
		var gs, gk, gv string
		var gu uint64
		var gb bool
		err := pbEach(b, func(fl pbField) error {
			switch fl.Num {
			case 1:
				gs = string(fl.Bytes)
			case 2:
				gu = fl.Varint
			case 3:
				gb = fl.Varint == 1
			case 4:
				var err error
				gk, gv, err = pbMapEntry(fl.Bytes)
				return err
			}
			return nil
		})
		if err != nil || gs != s || gu != u || gb != bo || gk != k || gv != v {
			t.Fatalf("round trip: %v %q %d %v %q %q", err, gs, gu, gb, gk, gv)
		}
	})
}

// HTTP/1.1 replies as a daemon (or anything on its socket) may send them.
func FuzzHTTPReply(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 500 x\r\n\r\nbody"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := readH1Reply(bufio.NewReader(bytes.NewReader(b)), 1<<16)
		if err != nil {
			return
		}
		if r.Status < 100 || r.Status > 999 || len(r.Body) > 1<<16 {
			t.Fatalf("status %d, body %d bytes", r.Status, len(r.Body))
		}
	})
}

// fakeWire replays a server's bytes and swallows what the client writes.
type fakeWire struct{ r *bytes.Reader }

func (f *fakeWire) Read(p []byte) (int, error)  { return f.r.Read(p) }
func (f *fakeWire) Write(p []byte) (int, error) { return len(p), nil }
func (f *fakeWire) Close() error                { return nil }

// h2Reply builds what a gRPC server sends for a unary call on stream 1.
func h2Reply(msg []byte, status string) []byte {
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "application/grpc"})
	headers := append([]byte{}, hb.Bytes()...)
	hb.Reset()
	enc.WriteField(hpack.HeaderField{Name: "grpc-status", Value: status})
	enc.WriteField(hpack.HeaderField{Name: "grpc-message", Value: "m%20x"})
	var b []byte
	b = appendFrame(b, h2Settings, 0, 0, []byte{0, 5, 0, 0, 0x40, 0})
	b = appendFrame(b, h2Headers, h2FlagEndHeaders, 1, headers)
	body := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
	b = appendFrame(b, h2Data, 0, 1, append(body, msg...))
	b = appendFrame(b, h2Ping, 0, 0, make([]byte, 8))
	return appendFrame(b, h2Headers, h2FlagEndHeaders|h2FlagEndStream, 1, hb.Bytes())
}

func fakeGRPC(server []byte) *grpcClient {
	c := newGRPCClient("fake")
	c.conn = newH2Conn(&fakeWire{bytes.NewReader(server)})
	return c
}

func TestH2ReplyParsing(t *testing.T) {
	msg := pbAppendString(nil, 1, "hello")
	got, err := fakeGRPC(h2Reply(msg, "0")).call(context.Background(), "/x.Y/Z", nil, nil)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("%q %v", got, err)
	}
	_, err = fakeGRPC(h2Reply(msg, "5")).call(context.Background(), "/x.Y/Z", nil, nil)
	if grpcCode(err) != grpcNotFound || !strings.Contains(err.Error(), "m x") {
		t.Fatalf("status 5: %v", err)
	}
	full := h2Reply(msg, "0")
	for n := 0; n < len(full); n++ {
		if _, err := fakeGRPC(full[:n]).call(context.Background(), "/x.Y/Z", nil, nil); err == nil {
			t.Fatalf("reply cut at %d bytes accepted", n)
		}
	}
}

func FuzzH2Reply(f *testing.F) {
	f.Add(h2Reply(pbAppendString(nil, 1, "hello"), "0"))
	f.Add(h2Reply(nil, "12"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := fakeGRPC(b)
		reply, err := c.call(context.Background(), "/x.Y/Z", map[string]string{"k": "v"}, []byte("req"))
		if err == nil && len(reply) > len(b) {
			t.Fatal("reply longer than what the server sent")
		}
	})
}
