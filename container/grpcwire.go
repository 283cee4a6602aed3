package container

// Unary gRPC calls for containerd's native API and the CRI, over a minimal
// HTTP/2 client with prior knowledge (h2c on a unix socket).
//
// A unary call is one HTTP/2 stream: a HEADERS frame (POST /<service>/<method>,
// content-type application/grpc, te: trailers, metadata), a DATA frame with
// one length-prefixed message, and in reply HEADERS, DATA and trailing
// HEADERS whose grpc-status says how it went (or a single HEADERS frame
// holding grpc-status: a trailers-only reply). Header blocks are HPACK; the
// x/net hpack package codes them. nsx links neither gRPC nor net/http (see
// httpwire.go for why), and the calls here run one after another on one
// connection.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"
)

// gRPC status codes the resolver tells apart.
const (
	grpcOK               = 0
	grpcUnknown          = 2
	grpcInvalidArgument  = 3
	grpcNotFound         = 5
	grpcPermissionDenied = 7
	grpcUnimplemented    = 12
	grpcUnavailable      = 14
)

// maxGRPCMessage bounds a reply; a CRI ListContainers on a large node is a
// few megabytes.
const maxGRPCMessage = 64 << 20

// grpcError is a non-OK status returned by the server.
type grpcError struct {
	Code    int
	Message string
}

func (e *grpcError) Error() string {
	return fmt.Sprintf("rpc error: code %d: %s", e.Code, e.Message)
}

func grpcCode(err error) int {
	var ge *grpcError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return -1
}

// errH2 reports a peer that does not speak HTTP/2 as expected.
var errH2 = errors.New("HTTP/2 protocol error")

// HTTP/2 frame types and flags (RFC 9113 §6).
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2RSTStream    = 0x3
	h2Settings     = 0x4
	h2PushPromise  = 0x5
	h2Ping         = 0x6
	h2GoAway       = 0x7
	h2WindowUpdate = 0x8
	h2Continuation = 0x9

	h2FlagEndStream  = 0x1
	h2FlagAck        = 0x1
	h2FlagEndHeaders = 0x4
	h2FlagPadded     = 0x8
	h2FlagPriority   = 0x20
)

const (
	h2Preface      = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	h2MaxFrame     = 16384   // the default SETTINGS_MAX_FRAME_SIZE, which nsx keeps
	h2RecvWindow   = 1 << 30 // our stream and connection windows: no WINDOW_UPDATE needed
	h2DefaultWndow = 65535
)

// grpcClient makes unary calls to one server on a unix socket, over one
// connection opened at the first call. The connection's timeouts are those
// the first call's context leaves; every resolver call runs under one
// Timeout.
type grpcClient struct {
	socket string

	conn   wireConn
	br     *bufio.Reader
	enc    *hpack.Encoder
	encBuf bytes.Buffer
	dec    *hpack.Decoder
	nextID uint32
	broken error
}

func newGRPCClient(socket string) *grpcClient {
	return &grpcClient{socket: socket, nextID: 1}
}

func (c *grpcClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// connect dials the server and sends the connection preface.
func (c *grpcClient) connect(ctx context.Context) error {
	conn, err := dialUnix(ctx, c.socket)
	if err != nil {
		return err
	}
	c.conn = conn
	c.br = bufio.NewReaderSize(conn, 32<<10)
	c.enc = hpack.NewEncoder(&c.encBuf)
	c.dec = hpack.NewDecoder(4096, nil)
	c.dec.SetMaxStringLength(1 << 20)
	var b []byte
	b = append(b, h2Preface...)
	// SETTINGS: ENABLE_PUSH 0, INITIAL_WINDOW_SIZE h2RecvWindow.
	settings := []byte{0, 2, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(settings[8:], h2RecvWindow)
	b = appendFrame(b, h2Settings, 0, 0, settings)
	// Widen the connection window likewise.
	inc := make([]byte, 4)
	binary.BigEndian.PutUint32(inc, h2RecvWindow-h2DefaultWndow)
	b = appendFrame(b, h2WindowUpdate, 0, 0, inc)
	if _, err := conn.Write(b); err != nil {
		return err
	}
	return nil
}

func appendFrame(b []byte, typ, flags byte, stream uint32, payload []byte) []byte {
	n := len(payload)
	b = append(b, byte(n>>16), byte(n>>8), byte(n), typ, flags)
	b = binary.BigEndian.AppendUint32(b, stream&0x7fffffff)
	return append(b, payload...)
}

// call invokes method ("/pkg.Service/Method") with the encoded request and
// returns the encoded reply. md adds request metadata. Transport failures
// are returned as they come (*net.OpError, io errors, errH2), server
// statuses as *grpcError.
func (c *grpcClient) call(ctx context.Context, method string, md map[string]string, req []byte) ([]byte, error) {
	if c.broken != nil {
		return nil, c.broken
	}
	if c.conn == nil {
		if err := c.connect(ctx); err != nil {
			c.close()
			return nil, err
		}
	}
	reply, err := c.roundTrip(ctx, method, md, req)
	if err != nil {
		if _, ok := err.(*grpcError); !ok {
			err = ctxErr(ctx, err)
			c.broken = err
			c.close()
		}
		return nil, err
	}
	return reply, nil
}

func (c *grpcClient) roundTrip(ctx context.Context, method string, md map[string]string, req []byte) ([]byte, error) {
	id := c.nextID
	c.nextID += 2
	if len(req) > h2MaxFrame-5 || len(req) > h2DefaultWndow-5 {
		return nil, errors.New("gRPC request too large")
	}

	// Request headers.
	c.encBuf.Reset()
	field := func(k, v string) { c.enc.WriteField(hpack.HeaderField{Name: k, Value: v}) }
	field(":method", "POST")
	field(":scheme", "http")
	field(":path", method)
	field(":authority", "localhost")
	field("content-type", "application/grpc")
	field("te", "trailers")
	field("user-agent", "nsx")
	if d, ok := ctx.Deadline(); ok {
		ms := time.Until(d).Milliseconds()
		if ms < 1 {
			ms = 1
		}
		field("grpc-timeout", strconv.FormatInt(ms, 10)+"m")
	}
	for k, v := range md {
		field(strings.ToLower(k), v)
	}
	block := c.encBuf.Bytes()
	var out []byte
	for first := true; first || len(block) > 0; first = false {
		n := min(len(block), h2MaxFrame)
		typ, flags := byte(h2Continuation), byte(0)
		if first {
			typ = h2Headers
		}
		if n == len(block) {
			flags |= h2FlagEndHeaders
		}
		out = appendFrame(out, typ, flags, id, block[:n])
		block = block[n:]
	}
	msg := make([]byte, 5, 5+len(req))
	binary.BigEndian.PutUint32(msg[1:], uint32(len(req)))
	msg = append(msg, req...)
	out = appendFrame(out, h2Data, h2FlagEndStream, id, msg)
	if _, err := c.conn.Write(out); err != nil {
		return nil, err
	}

	// The reply.
	var headers, trailers map[string]string
	var body []byte
	var fragment []byte // a header block being assembled
	var fragEnd bool    // whether that block ends the stream
	for {
		typ, flags, stream, payload, err := c.readFrame()
		if err != nil {
			return nil, err
		}
		switch typ {
		case h2Settings:
			if flags&h2FlagAck == 0 {
				if len(payload)%6 != 0 {
					return nil, errH2
				}
				if _, err := c.conn.Write(appendFrame(nil, h2Settings, h2FlagAck, 0, nil)); err != nil {
					return nil, err
				}
			}
			continue
		case h2Ping:
			if flags&h2FlagAck == 0 {
				if _, err := c.conn.Write(appendFrame(nil, h2Ping, h2FlagAck, 0, payload)); err != nil {
					return nil, err
				}
			}
			continue
		case h2GoAway:
			if len(payload) < 8 {
				return nil, errH2
			}
			if binary.BigEndian.Uint32(payload)&0x7fffffff < id {
				return nil, &grpcError{Code: grpcUnavailable, Message: "server closed the connection (GOAWAY)"}
			}
			continue
		case h2WindowUpdate, 0x2: // PRIORITY
			continue
		case h2PushPromise:
			return nil, errH2 // we disabled push
		}
		if stream != id {
			if typ == h2Headers || typ == h2Continuation {
				return nil, errH2 // no other stream is open
			}
			continue
		}
		switch typ {
		case h2RSTStream:
			code := uint32(0)
			if len(payload) >= 4 {
				code = binary.BigEndian.Uint32(payload)
			}
			return nil, &grpcError{Code: grpcUnavailable, Message: "stream reset by the server (HTTP/2 error " + strconv.FormatUint(uint64(code), 10) + ")"}
		case h2Data:
			p, err := unpad(flags, payload)
			if err != nil {
				return nil, err
			}
			if len(body)+len(p) > maxGRPCMessage+5 {
				return nil, &grpcError{Code: grpcUnknown, Message: "reply too large"}
			}
			body = append(body, p...)
			if flags&h2FlagEndStream != 0 {
				return nil, &grpcError{Code: grpcUnknown, Message: "reply without trailers"}
			}
		case h2Headers, h2Continuation:
			if typ == h2Headers {
				if fragment != nil {
					return nil, errH2
				}
				p, err := unpad(flags, payload)
				if err != nil {
					return nil, err
				}
				if flags&h2FlagPriority != 0 {
					if len(p) < 5 {
						return nil, errH2
					}
					p = p[5:]
				}
				fragment = append([]byte{}, p...)
				fragEnd = flags&h2FlagEndStream != 0
			} else {
				if fragment == nil {
					return nil, errH2
				}
				fragment = append(fragment, payload...)
			}
			if flags&h2FlagEndHeaders == 0 {
				continue
			}
			fields, err := c.dec.DecodeFull(fragment)
			if err != nil {
				return nil, errH2
			}
			fragment = nil
			m := make(map[string]string, len(fields))
			for _, f := range fields {
				m[f.Name] = f.Value
			}
			if headers == nil {
				headers = m
				if st := m[":status"]; st != "200" {
					return nil, &grpcError{Code: grpcUnknown, Message: "HTTP status " + st}
				}
				if ct := m["content-type"]; !strings.HasPrefix(ct, "application/grpc") {
					return nil, &grpcError{Code: grpcUnknown, Message: "reply of content-type " + strconv.Quote(ct)}
				}
				if !fragEnd {
					continue
				}
				trailers = m // trailers-only reply
			} else {
				trailers = m
			}
			if err := grpcStatus(trailers["grpc-status"], trailers["grpc-message"]); err != nil {
				return nil, err
			}
			return grpcUnframe(body)
		}
	}
}

// readFrame reads one frame.
func (c *grpcClient) readFrame() (typ, flags byte, stream uint32, payload []byte, err error) {
	var h [9]byte
	if _, err = io.ReadFull(c.br, h[:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return
	}
	n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	if n > h2MaxFrame {
		// Larger than we allow: not an HTTP/2 peer, or one ignoring our
		// settings ("HTTP/1.1 400..." read as a frame header is 4.7 MB).
		err = errH2
		return
	}
	typ, flags = h[3], h[4]
	stream = binary.BigEndian.Uint32(h[5:]) & 0x7fffffff
	payload = make([]byte, n)
	if _, err = io.ReadFull(c.br, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	}
	return
}

// unpad strips the padding of a DATA or HEADERS frame.
func unpad(flags byte, p []byte) ([]byte, error) {
	if flags&h2FlagPadded == 0 {
		return p, nil
	}
	if len(p) < 1 || int(p[0]) > len(p)-1 {
		return nil, errH2
	}
	return p[1 : len(p)-int(p[0])], nil
}

// grpcStatus turns a grpc-status/grpc-message pair into an error, nil for OK.
func grpcStatus(code, msg string) error {
	if code == "" {
		return &grpcError{Code: grpcUnknown, Message: "reply without grpc-status"}
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		return &grpcError{Code: grpcUnknown, Message: "bad grpc-status " + strconv.Quote(code)}
	}
	if n == grpcOK {
		return nil
	}
	if m, err := url.PathUnescape(msg); err == nil {
		msg = m
	}
	return &grpcError{Code: n, Message: msg}
}

// grpcUnframe returns the single message of a unary reply body.
func grpcUnframe(raw []byte) ([]byte, error) {
	if len(raw) < 5 {
		return nil, &grpcError{Code: grpcUnknown, Message: "reply without a message"}
	}
	if raw[0] != 0 {
		return nil, &grpcError{Code: grpcUnknown, Message: "compressed reply"}
	}
	n := binary.BigEndian.Uint32(raw[1:5])
	if n > maxGRPCMessage || int(n) != len(raw)-5 {
		return nil, &grpcError{Code: grpcUnknown, Message: "reply of " + strconv.Itoa(len(raw)) + " bytes with a frame of " + strconv.FormatUint(uint64(n), 10)}
	}
	return raw[5:], nil
}

// isUnimplemented reports a server that does not offer the service (a
// containerd without its CRI plugin, a CRI-O asked for containerd's API).
func isUnimplemented(err error) bool {
	c := grpcCode(err)
	if c == grpcUnimplemented {
		return true
	}
	if c == grpcUnknown || c == grpcNotFound {
		var ge *grpcError
		errors.As(err, &ge)
		return strings.Contains(ge.Message, "unknown service")
	}
	return false
}
