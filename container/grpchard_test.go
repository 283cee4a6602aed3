package container

// The HTTP/2 client against servers that use what HTTP/2 allows them to:
// grpc-go retiring connections (MaxConnectionAge) and holding the client
// to the default flow-control windows, and a server written on x/net's
// HTTP/2 framer that announces its own frame size, window and HPACK table
// size, resets streams and answers with plain HTTP errors. Requests and
// replies are coded with the published CRI module.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// countingListener counts the connections accepted.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// echoCRI answers ListContainers with one container per label of the
// request's selector, so that a large request shows whole in the reply.
type echoCRI struct {
	runtime.UnimplementedRuntimeServiceServer
	replyPadding int
}

func (e *echoCRI) ListContainers(ctx context.Context, r *runtime.ListContainersRequest) (*runtime.ListContainersResponse, error) {
	out := &runtime.ListContainersResponse{}
	for k, v := range r.GetFilter().GetLabelSelector() {
		out.Containers = append(out.Containers, &runtime.Container{Id: k, Labels: map[string]string{"v": v}})
	}
	if e.replyPadding > 0 {
		out.Containers = append(out.Containers, &runtime.Container{Id: "pad", Labels: map[string]string{"p": strings.Repeat("p", e.replyPadding)}})
	}
	return out, nil
}

// listCall makes a ListContainers call with the given label selector
// through the hand-written client and decodes the reply with the
// published module.
func listCall(ctx context.Context, c *grpcClient, labels map[string]string) (*runtime.ListContainersResponse, error) {
	req, err := proto.Marshal(&runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{LabelSelector: labels}})
	if err != nil {
		return nil, err
	}
	raw, err := c.call(ctx, criService+"ListContainers", nil, req)
	if err != nil {
		return nil, err
	}
	var out runtime.ListContainersResponse
	return &out, proto.Unmarshal(raw, &out)
}

func startGRPCGo(t *testing.T, svc runtime.RuntimeServiceServer, opts ...grpc.ServerOption) (*countingListener, string) {
	t.Helper()
	l, sock := listenUnix(t)
	cl := &countingListener{Listener: l}
	srv := grpc.NewServer(opts...)
	runtime.RegisterRuntimeServiceServer(srv, svc)
	go srv.Serve(cl)
	t.Cleanup(srv.Stop)
	return cl, sock
}

// A server that retires connections by age (GOAWAY, then a hard close
// after the grace period) costs the client nothing: every call succeeds,
// on as many connections as the server makes it use.
func TestGRPCGoAwayMaxConnectionAge(t *testing.T) {
	for _, grace := range []time.Duration{10 * time.Second, 20 * time.Millisecond} {
		t.Run(fmt.Sprint("grace=", grace), func(t *testing.T) {
			l, sock := startGRPCGo(t, &echoCRI{}, grpc.KeepaliveParams(keepalive.ServerParameters{
				MaxConnectionAge:      50 * time.Millisecond,
				MaxConnectionAgeGrace: grace,
			}))
			c := newGRPCClient(sock)
			defer c.close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for i := 0; l.n.Load() < 4; i++ {
				if ctx.Err() != nil {
					t.Fatalf("the server made %d connections in 30 s", l.n.Load())
				}
				key := fmt.Sprint("k", i)
				out, err := listCall(ctx, c, map[string]string{key: "v"})
				if err != nil {
					t.Fatalf("call %d on connection %d: %v", i, l.n.Load(), err)
				}
				if len(out.Containers) != 1 || out.Containers[0].Id != key {
					t.Fatalf("call %d: reply %v", i, out)
				}
				// Let the connection age past MaxConnectionAge.
				time.Sleep(30 * time.Millisecond)
			}
		})
	}
}

// Requests far over one frame and over the 64 KiB windows grpc-go starts
// with, replies of megabytes, on one connection.
func TestGRPCLargeRequestsAndReplies(t *testing.T) {
	l, sock := startGRPCGo(t, &echoCRI{replyPadding: 3 << 20},
		grpc.InitialWindowSize(65535), grpc.InitialConnWindowSize(65535), grpc.MaxRecvMsgSize(8<<20))
	c := newGRPCClient(sock)
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, size := range []int{16 << 10, 70 << 10, 1 << 20, 5 << 20} {
		labels := map[string]string{}
		for i := 0; i < 4; i++ {
			labels[fmt.Sprint("k", i)] = strings.Repeat(string(rune('a'+i)), size/4)
		}
		out, err := listCall(ctx, c, labels)
		if err != nil {
			t.Fatalf("request of %d bytes: %v", size, err)
		}
		got := map[string]string{}
		for _, ct := range out.Containers {
			got[ct.Id] = ct.Labels["v"]
		}
		for k, v := range labels {
			if got[k] != v {
				t.Fatalf("request of %d bytes: label %s came back with %d bytes", size, k, len(got[k]))
			}
		}
		if len(got["pad"]) != 0 || len(out.Containers) != 5 || len(out.Containers[4].Labels["p"]) != 3<<20 {
			t.Fatalf("request of %d bytes: reply %d containers", size, len(out.Containers))
		}
	}
	if l.n.Load() != 1 {
		t.Errorf("%d connections for sequential calls", l.n.Load())
	}
}

// h2Server is a server on x/net's HTTP/2 framer: it announces settings,
// enforces them on what it reads (frame size, flow-control windows, HPACK
// table size) and answers each call with respond.
type h2Server struct {
	settings []http2.Setting
	// respond writes the reply to a complete request. n counts the calls
	// on the connection, from 0.
	respond func(fr *http2.Framer, enc *hpack.Encoder, buf *bytes.Buffer, stream uint32, n int, path string, body []byte) error

	mu          sync.Mutex
	conns       int
	maxData     int // the largest DATA frame read
	windowUpds  int // WINDOW_UPDATEs sent
	violation   error
	lastHeaders []hpack.HeaderField
}

func (s *h2Server) fail(err error) {
	s.mu.Lock()
	if s.violation == nil {
		s.violation = err
	}
	s.mu.Unlock()
}

func (s *h2Server) start(t *testing.T) string {
	l, sock := listenUnix(t)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go func() {
				defer conn.Close()
				if err := s.serve(conn); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					s.fail(err)
				}
			}()
		}
	}()
	return sock
}

func (s *h2Server) setting(id http2.SettingID, def uint32) uint32 {
	for _, st := range s.settings {
		if st.ID == id {
			return st.Val
		}
	}
	return def
}

func (s *h2Server) serve(conn net.Conn) error {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(conn, preface); err != nil {
		return err
	}
	fr := http2.NewFramer(conn, conn)
	maxFrame := s.setting(http2.SettingMaxFrameSize, 16384)
	fr.SetMaxReadFrameSize(maxFrame)
	// A decoder that errs on references to entries beyond the announced
	// table size.
	fr.ReadMetaHeaders = hpack.NewDecoder(s.setting(http2.SettingHeaderTableSize, 4096), nil)
	if err := fr.WriteSettings(s.settings...); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	connWindow := int64(65535)
	streamWindow := map[uint32]int64{}
	initial := int64(s.setting(http2.SettingInitialWindowSize, 65535))
	bodies := map[uint32][]byte{}
	paths := map[uint32]string{}
	n := 0
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					return err
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.MetaHeadersFrame:
			s.mu.Lock()
			s.lastHeaders = f.Fields
			s.mu.Unlock()
			id := f.Header().StreamID
			streamWindow[id] = initial
			paths[id] = f.PseudoValue("path")
		case *http2.DataFrame:
			id := f.Header().StreamID
			size := int64(f.Header().Length)
			s.mu.Lock()
			s.maxData = max(s.maxData, int(size))
			s.mu.Unlock()
			connWindow -= size
			streamWindow[id] -= size
			if connWindow < 0 || streamWindow[id] < 0 {
				return fmt.Errorf("client overran the flow-control window: connection %d, stream %d", connWindow, streamWindow[id])
			}
			bodies[id] = append(bodies[id], f.Data()...)
			if !f.StreamEnded() {
				// Give back what was read, in small steps.
				fr.WriteWindowUpdate(0, uint32(size))
				fr.WriteWindowUpdate(id, uint32(size))
				connWindow += size
				streamWindow[id] += size
				s.mu.Lock()
				s.windowUpds++
				s.mu.Unlock()
				continue
			}
			if err := s.respond(fr, enc, &buf, id, n, paths[id], bodies[id]); err != nil {
				return err
			}
			n++
		}
	}
}

// writeHeaders encodes fields and writes them as one HEADERS frame.
func writeHeaders(fr *http2.Framer, enc *hpack.Encoder, buf *bytes.Buffer, stream uint32, end bool, kv ...string) error {
	buf.Reset()
	for i := 0; i < len(kv); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: buf.Bytes(), EndHeaders: true, EndStream: end})
}

// grpcOKReply writes a successful unary reply carrying msg.
func grpcOKReply(fr *http2.Framer, enc *hpack.Encoder, buf *bytes.Buffer, stream uint32, msg []byte) error {
	if err := writeHeaders(fr, enc, buf, stream, false, ":status", "200", "content-type", "application/grpc"); err != nil {
		return err
	}
	body := append(binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg))), msg...)
	for len(body) > 0 { // in frames of the client's (default) size
		n := min(len(body), 16384)
		if err := fr.WriteData(stream, false, body[:n]); err != nil {
			return err
		}
		body = body[n:]
	}
	return writeHeaders(fr, enc, buf, stream, true, "grpc-status", "0")
}

// The server's SETTINGS bind the client: frames up to its (larger) frame
// size, never past its (smaller) stream window, and no HPACK table when it
// allows none.
func TestGRPCHonoursServerSettings(t *testing.T) {
	srv := &h2Server{settings: []http2.Setting{
		{ID: http2.SettingMaxFrameSize, Val: 40000},
		{ID: http2.SettingInitialWindowSize, Val: 30000},
		{ID: http2.SettingHeaderTableSize, Val: 0},
	}}
	srv.respond = func(fr *http2.Framer, enc *hpack.Encoder, buf *bytes.Buffer, stream uint32, n int, path string, body []byte) error {
		// Echo the request's message.
		if len(body) < 5 {
			return errors.New("short request")
		}
		return grpcOKReply(fr, enc, buf, stream, body[5:])
	}
	sock := srv.start(t)
	c := newGRPCClient(sock)
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The client writes its first request before the server's SETTINGS
	// arrive; the later ones are sent under them.
	for i, size := range []int{10, 200 << 10, 100, 300 << 10} {
		req := bytes.Repeat([]byte{byte('a' + i)}, size)
		md := map[string]string{"x-same-every-time": strings.Repeat("m", 100)}
		reply, err := c.call(ctx, "/x.Y/Z", md, req)
		if err != nil {
			t.Fatalf("call %d (%d bytes): %v", i, size, err)
		}
		if !bytes.Equal(reply, req) {
			t.Fatalf("call %d: %d bytes back for %d", i, len(reply), size)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.violation != nil {
		t.Fatal(srv.violation)
	}
	if srv.maxData <= 16384 || srv.maxData > 30000 {
		t.Errorf("largest DATA frame %d bytes: want over 16384 (allowed: 40000) and at most the 30000-byte window", srv.maxData)
	}
	if srv.windowUpds == 0 || srv.conns != 1 {
		t.Errorf("%d window updates, %d connections", srv.windowUpds, srv.conns)
	}
}

// Replies without a gRPC status map as the gRPC spec says; a refused
// stream is made again.
func TestGRPCStatusMapping(t *testing.T) {
	type answer struct {
		status string // HTTP status; "" for a RST_STREAM
		rst    http2.ErrCode
	}
	var next answer
	var mu sync.Mutex
	calls := map[string]int{}
	srv := &h2Server{}
	srv.respond = func(fr *http2.Framer, enc *hpack.Encoder, buf *bytes.Buffer, stream uint32, _ int, path string, body []byte) error {
		mu.Lock()
		a := next
		n := calls[path]
		calls[path]++
		mu.Unlock()
		if path == "/refuse.once/Z" && n == 0 {
			return fr.WriteRSTStream(stream, http2.ErrCodeRefusedStream)
		}
		if path == "/goaway.once/Z" && n == 0 {
			// Processed nothing above stream 0: the client retries elsewhere.
			return fr.WriteGoAway(0, http2.ErrCodeNo, nil)
		}
		if a.status == "" {
			if path == "/refuse.once/Z" || path == "/goaway.once/Z" {
				return grpcOKReply(fr, enc, buf, stream, []byte("again"))
			}
			return fr.WriteRSTStream(stream, a.rst)
		}
		return writeHeaders(fr, enc, buf, stream, true, ":status", a.status, "content-type", "text/plain")
	}
	sock := srv.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		a    answer
		code int
	}{
		{answer{status: "400"}, grpcInternal},
		{answer{status: "401"}, grpcUnauthenticated},
		{answer{status: "403"}, grpcPermissionDenied},
		{answer{status: "404"}, grpcUnimplemented},
		{answer{status: "429"}, grpcUnavailable},
		{answer{status: "502"}, grpcUnavailable},
		{answer{status: "503"}, grpcUnavailable},
		{answer{status: "504"}, grpcUnavailable},
		{answer{status: "500"}, grpcUnknown},
		{answer{rst: http2.ErrCodeNo}, grpcInternal},
		{answer{rst: http2.ErrCodeProtocol}, grpcInternal},
		{answer{rst: http2.ErrCodeCancel}, grpcCanceled},
		{answer{rst: http2.ErrCodeEnhanceYourCalm}, grpcResourceExhausted},
		{answer{rst: http2.ErrCodeInadequateSecurity}, grpcPermissionDenied},
	} {
		mu.Lock()
		next = tc.a
		mu.Unlock()
		c := newGRPCClient(sock)
		_, err := c.call(ctx, "/x.Y/Z", nil, nil)
		c.close()
		if grpcCode(err) != tc.code {
			t.Errorf("%+v: %v, want code %d", tc.a, err, tc.code)
		}
	}
	if !isUnimplemented(httpStatusError("404")) {
		t.Error("404 is not Unimplemented")
	}
	srv.mu.Lock()
	before := srv.conns
	srv.mu.Unlock()
	for _, path := range []string{"/refuse.once/Z", "/goaway.once/Z"} {
		c := newGRPCClient(sock)
		reply, err := c.call(ctx, path, nil, nil)
		c.close()
		if err != nil || string(reply) != "again" {
			t.Errorf("%s: %q %v", path, reply, err)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	// The refused stream is retried on the same connection's successor
	// only when GOAWAY retired it.
	if got := srv.conns - before; got != 3 {
		t.Errorf("%d connections for a refused stream and a GOAWAY, want 3", got)
	}
	if srv.violation != nil {
		t.Fatal(srv.violation)
	}
}
