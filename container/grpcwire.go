package container

// Unary gRPC calls for containerd's native API and the CRI, over a minimal
// HTTP/2 client with prior knowledge (h2c on a unix socket).
//
// A unary call is one HTTP/2 stream: a HEADERS frame (POST /<service>/<method>,
// content-type application/grpc, te: trailers, metadata), a DATA frame with
// one length-prefixed message, and in reply HEADERS, DATA and trailing
// HEADERS whose grpc-status says how it went (or a single HEADERS frame
// holding grpc-status: a trailers-only reply). Header blocks are HPACK,
// coded by hpackwire.go. nsx links neither gRPC nor net/http (see
// httpwire.go for why), and the calls here run one after another on one
// connection.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nsxproject/nsx/internal/inet"
)

// gRPC status codes (grpc/doc/statuscodes.md).
const (
	grpcOK                = 0
	grpcCanceled          = 1
	grpcUnknown           = 2
	grpcInvalidArgument   = 3
	grpcNotFound          = 5
	grpcPermissionDenied  = 7
	grpcResourceExhausted = 8
	grpcUnimplemented     = 12
	grpcInternal          = 13
	grpcUnavailable       = 14
	grpcUnauthenticated   = 16
)

// maxGRPCMessage bounds a reply; a CRI ListContainers on a large node is a
// few megabytes.
const maxGRPCMessage = 64 << 20

// grpcError is a non-OK status returned by the server, or the status the
// gRPC spec gives a reply that carries none (an HTTP error status, a reset
// stream).
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

// errRefused reports a stream the server did not process (above the last
// stream id of its GOAWAY, or reset with REFUSED_STREAM): the call may be
// made again on a new connection.
var errRefused = errors.New("stream refused by the server")

// HTTP/2 frame types and flags (RFC 9113 §6).
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2Priority     = 0x2
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

// SETTINGS parameters (RFC 9113 §6.5.2).
const (
	h2SettingHeaderTableSize   = 0x1
	h2SettingEnablePush        = 0x2
	h2SettingInitialWindowSize = 0x4
	h2SettingMaxFrameSize      = 0x5
	h2SettingMaxHeaderListSize = 0x6
)

// RST_STREAM and GOAWAY error codes (RFC 9113 §7) that map to a gRPC code
// other than INTERNAL.
const (
	h2ErrRefusedStream      = 0x7
	h2ErrCancel             = 0x8
	h2ErrEnhanceYourCalm    = 0xb
	h2ErrInadequateSecurity = 0xc
)

const (
	h2Preface       = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	h2DefaultFrame  = 16384     // SETTINGS_MAX_FRAME_SIZE until the peer says otherwise; also what we accept
	h2MaxFrameLimit = 1<<24 - 1 // the largest SETTINGS_MAX_FRAME_SIZE allowed
	h2MaxWindow     = 1<<31 - 1
	h2DefaultWindow = 65535
	h2RecvWindow    = 1 << 30 // our stream and connection windows
	h2TableSize     = 4096    // the HPACK table size both ends start with
)

// grpcClient makes unary calls to one server on a unix socket, one after
// another, over one connection opened at the first call. A connection the
// server retires (GOAWAY) or drops while idle is replaced by a new one, and
// a call the server did not process is made again there; every method nsx
// calls only reads, so a second attempt is safe. The connection's timeouts
// are those the first call's context leaves; every resolver call runs under
// one Timeout.
type grpcClient struct {
	socket string
	conn   *h2Conn
	// broken is the transport failure that ended the last connection in a
	// way no new one would mend; later calls fail fast with it.
	broken error
}

func newGRPCClient(socket string) *grpcClient {
	return &grpcClient{socket: socket}
}

func (c *grpcClient) close() {
	if c.conn != nil {
		c.conn.wire.Close()
		c.conn = nil
	}
}

// h2Conn is one HTTP/2 connection and what each end's SETTINGS and
// WINDOW_UPDATEs have made of it.
type h2Conn struct {
	wire   wireConn
	br     *bufio.Reader
	encBuf []byte        // the request header block being encoded
	dec    *hpackDecoder // the replies' header blocks
	// tableSizeZero: the server lowered its HPACK table size; the next
	// header block announces our (empty) table's size as 0.
	tableSizeZero bool
	nextID        uint32
	// served counts the calls completed: a failure on a connection that has
	// served one may just be the server closing an idle connection.
	served int

	// What the server's SETTINGS allow us to send.
	maxFrame      int   // SETTINGS_MAX_FRAME_SIZE
	initialWindow int64 // SETTINGS_INITIAL_WINDOW_SIZE, the send window of a new stream
	maxHeaderList int   // SETTINGS_MAX_HEADER_LIST_SIZE, 0 when unlimited
	sendWindow    int64 // the connection's send window

	// recvUnacked counts DATA bytes received since the connection's receive
	// window was last topped up.
	recvUnacked int64

	// goAway is set once the server sent GOAWAY: no new stream may start on
	// the connection; lastStream is the highest stream it may still answer.
	goAway     bool
	lastStream uint32
}

func newH2Conn(wire wireConn) *h2Conn {
	c := &h2Conn{
		wire:          wire,
		br:            bufio.NewReaderSize(wire, 32<<10),
		nextID:        1,
		maxFrame:      h2DefaultFrame,
		initialWindow: h2DefaultWindow,
		sendWindow:    h2DefaultWindow,
	}
	c.dec = newHPACKDecoder(h2TableSize)
	return c
}

// connect dials the server and sends the connection preface.
func (c *grpcClient) connect(ctx context.Context) error {
	wire, err := dialUnix(ctx, c.socket)
	if err != nil {
		return err
	}
	c.conn = newH2Conn(wire)
	var b []byte
	b = append(b, h2Preface...)
	// SETTINGS: ENABLE_PUSH 0, INITIAL_WINDOW_SIZE h2RecvWindow.
	settings := []byte{0, h2SettingEnablePush, 0, 0, 0, 0, 0, h2SettingInitialWindowSize, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(settings[8:], h2RecvWindow)
	b = appendFrame(b, h2Settings, 0, 0, settings)
	// Widen the connection window likewise.
	b = appendWindowUpdate(b, 0, h2RecvWindow-h2DefaultWindow)
	if _, err := wire.Write(b); err != nil {
		c.close()
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

func appendWindowUpdate(b []byte, stream uint32, inc int64) []byte {
	return appendFrame(b, h2WindowUpdate, 0, stream, binary.BigEndian.AppendUint32(nil, uint32(inc)))
}

// call invokes method ("/pkg.Service/Method") with the encoded request and
// returns the encoded reply. md adds request metadata. Transport failures
// are returned as they come (*dialError, io errors, errH2), server
// statuses and the statuses the gRPC spec maps HTTP failures to as
// *grpcError.
func (c *grpcClient) call(ctx context.Context, method string, md map[string]string, req []byte) ([]byte, error) {
	if c.broken != nil {
		return nil, c.broken
	}
	// A refused call is made again on a new connection; a server that
	// refuses every one is not retried forever.
	for attempt := 0; ; attempt++ {
		if c.conn == nil {
			if err := c.connect(ctx); err != nil {
				return nil, ctxErr(ctx, err)
			}
		}
		conn := c.conn
		reply, answered, err := conn.roundTrip(ctx, method, md, req)
		if err == nil {
			conn.served++
		}
		var ge *grpcError
		status := errors.As(err, &ge)
		if err != nil && !status && !errors.Is(err, errRefused) || conn.goAway {
			// Retired or failed: the next call needs a new connection.
			c.close()
		}
		if err == nil || status {
			return reply, err
		}
		// The server closing a connection that sat idle reads as a write
		// error or EOF before any reply: that call never reached it.
		idleDrop := conn.served > 0 && !answered && !errors.Is(err, errH2)
		if (errors.Is(err, errRefused) || idleDrop) && attempt < 2 && ctx.Err() == nil {
			continue
		}
		if errors.Is(err, errRefused) {
			return nil, &grpcError{Code: grpcUnavailable, Message: "the server refused the call (" + err.Error() + ")"}
		}
		err = ctxErr(ctx, err)
		c.broken = err
		return nil, err
	}
}

// h2Stream is the state of the one call in flight.
type h2Stream struct {
	id         uint32
	sendWindow int64
	answered   bool // a frame of this stream arrived

	headers  map[string]string
	body     []byte
	fragment []byte // a header block being assembled
	fragEnd  bool   // whether that block ends the stream
	done     bool
	reply    []byte
	err      error
}

// roundTrip makes one call on the connection. answered says whether the
// server sent anything for the call's stream.
func (c *h2Conn) roundTrip(ctx context.Context, method string, md map[string]string, req []byte) ([]byte, bool, error) {
	if c.goAway || c.nextID > h2MaxWindow {
		return nil, false, errRefused
	}
	if len(req) > maxGRPCMessage {
		return nil, false, &grpcError{Code: grpcResourceExhausted, Message: "gRPC request too large"}
	}
	st := &h2Stream{id: c.nextID, sendWindow: c.initialWindow}
	c.nextID += 2

	// Request headers.
	c.encBuf = c.encBuf[:0]
	if c.tableSizeZero {
		c.encBuf = appendHPACKTableSizeZero(c.encBuf)
	}
	size := 0
	field := func(k, v string) {
		c.encBuf = appendHPACKField(c.encBuf, k, v)
		size += len(k) + len(v) + 32 // RFC 9113 §6.5.2
	}
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
	if c.maxHeaderList > 0 && size > c.maxHeaderList {
		// Nothing was sent; the connection stays usable (the encoder
		// keeps no table the server could miss entries of).
		return nil, false, &grpcError{Code: grpcInternal, Message: "request metadata of " + strconv.Itoa(size) + " bytes is over the server's limit of " + strconv.Itoa(c.maxHeaderList)}
	}
	block := c.encBuf
	var out []byte
	for first := true; first || len(block) > 0; first = false {
		n := min(len(block), c.maxFrame)
		typ, flags := byte(h2Continuation), byte(0)
		if first {
			typ = h2Headers
		}
		if n == len(block) {
			flags |= h2FlagEndHeaders
		}
		out = appendFrame(out, typ, flags, st.id, block[:n])
		block = block[n:]
	}
	if _, err := c.wire.Write(out); err != nil {
		return nil, false, err
	}
	c.tableSizeZero = false // the block sent said it

	// The request message, as the flow-control windows let it go, while
	// the server's frames are read: WINDOW_UPDATEs open the windows, and
	// the server may answer before it has read everything.
	msg := make([]byte, 5, 5+len(req))
	binary.BigEndian.PutUint32(msg[1:], uint32(len(req)))
	msg = append(msg, req...)
	for len(msg) > 0 && !st.done {
		n := int(min(int64(len(msg)), int64(c.maxFrame), st.sendWindow, c.sendWindow))
		if n <= 0 {
			if err := c.readOne(st); err != nil {
				return nil, st.answered, err
			}
			continue
		}
		flags := byte(0)
		if n == len(msg) {
			flags = h2FlagEndStream
		}
		if _, err := c.wire.Write(appendFrame(nil, h2Data, flags, st.id, msg[:n])); err != nil {
			return nil, st.answered, err
		}
		msg = msg[n:]
		st.sendWindow -= int64(n)
		c.sendWindow -= int64(n)
	}

	// The reply.
	for !st.done {
		if err := c.readOne(st); err != nil {
			return nil, st.answered, err
		}
	}
	return st.reply, true, st.err
}

// readOne reads and handles one frame. Connection-level failures are
// returned; the call's own outcome is left in st.
func (c *h2Conn) readOne(st *h2Stream) error {
	typ, flags, stream, payload, err := c.readFrame()
	if err != nil {
		return err
	}
	switch typ {
	case h2Settings:
		if stream != 0 {
			return errH2
		}
		if flags&h2FlagAck != 0 {
			return nil
		}
		if err := c.applySettings(st, payload); err != nil {
			return err
		}
		_, err := c.wire.Write(appendFrame(nil, h2Settings, h2FlagAck, 0, nil))
		return err
	case h2Ping:
		if stream != 0 || len(payload) != 8 {
			return errH2
		}
		if flags&h2FlagAck == 0 {
			_, err := c.wire.Write(appendFrame(nil, h2Ping, h2FlagAck, 0, payload))
			return err
		}
		return nil
	case h2GoAway:
		if stream != 0 || len(payload) < 8 {
			return errH2
		}
		last := binary.BigEndian.Uint32(payload) & 0x7fffffff
		if c.goAway && last > c.lastStream {
			return errH2 // a later GOAWAY may only lower the last stream id
		}
		c.goAway, c.lastStream = true, last
		if st.id > last {
			return errRefused
		}
		return nil // the server still answers our stream
	case h2WindowUpdate:
		if len(payload) != 4 {
			return errH2
		}
		inc := int64(binary.BigEndian.Uint32(payload) & 0x7fffffff)
		switch {
		case inc == 0:
			return errH2
		case stream == 0:
			c.sendWindow += inc
			if c.sendWindow > h2MaxWindow {
				return errH2
			}
		case stream == st.id:
			st.sendWindow += inc
			if st.sendWindow > h2MaxWindow {
				return errH2
			}
		}
		return nil
	case h2PushPromise:
		return errH2 // we disabled push
	case h2Data:
		// Flow control counts every DATA byte, padding included, whatever
		// the stream.
		c.recvUnacked += int64(len(payload))
		if c.recvUnacked >= h2RecvWindow/2 {
			if _, err := c.wire.Write(appendWindowUpdate(nil, 0, c.recvUnacked)); err != nil {
				return err
			}
			c.recvUnacked = 0
		}
	}
	if stream == 0 {
		if typ == h2Data || typ == h2Headers || typ == h2Continuation || typ == h2RSTStream || typ == h2Priority {
			return errH2
		}
		return nil // an extension frame: ignored (RFC 9113 §5.5)
	}
	if stream != st.id {
		if typ == h2Headers || typ == h2Continuation {
			return errH2 // no other stream is open
		}
		return nil
	}
	if st.done {
		return nil
	}
	if st.fragment != nil && typ != h2Continuation {
		return errH2 // a header block is not interleaved (RFC 9113 §6.10)
	}
	switch typ {
	case h2RSTStream:
		if len(payload) != 4 {
			return errH2
		}
		st.answered = true
		code := binary.BigEndian.Uint32(payload)
		if code == h2ErrRefusedStream {
			return errRefused
		}
		st.done, st.err = true, rstStreamStatus(code)
	case h2Data:
		st.answered = true
		p, err := unpad(flags, payload)
		if err != nil {
			return err
		}
		if st.headers == nil {
			return errH2 // DATA before HEADERS
		}
		if len(st.body)+len(p) > maxGRPCMessage+5 {
			st.done, st.err = true, &grpcError{Code: grpcResourceExhausted, Message: "reply too large"}
			return nil
		}
		st.body = append(st.body, p...)
		if flags&h2FlagEndStream != 0 {
			st.done, st.err = true, &grpcError{Code: grpcInternal, Message: "reply without trailers"}
		}
	case h2Headers, h2Continuation:
		st.answered = true
		if typ == h2Headers {
			p, err := unpad(flags, payload)
			if err != nil {
				return err
			}
			if flags&h2FlagPriority != 0 {
				if len(p) < 5 {
					return errH2
				}
				p = p[5:]
			}
			st.fragment = append([]byte{}, p...)
			st.fragEnd = flags&h2FlagEndStream != 0
		} else {
			if st.fragment == nil {
				return errH2
			}
			st.fragment = append(st.fragment, payload...)
			if len(st.fragment) > maxGRPCMessage {
				return errH2
			}
		}
		if flags&h2FlagEndHeaders == 0 {
			return nil
		}
		// Decoded even when the call's outcome is known: the HPACK table
		// is the connection's.
		fields, err := c.dec.decode(st.fragment)
		if err != nil {
			return errH2
		}
		st.fragment = nil
		m := make(map[string]string, len(fields))
		for _, f := range fields {
			m[f.Name] = f.Value
		}
		c.headerBlock(st, m)
	}
	return nil
}

// headerBlock takes the reply's headers or trailers.
func (c *h2Conn) headerBlock(st *h2Stream, m map[string]string) {
	if st.headers == nil {
		if s := m[":status"]; len(s) == 3 && s[0] == '1' {
			return // an informational reply: the real one follows
		}
		st.headers = m
		if s := m[":status"]; s != "200" {
			// No gRPC server answered: what the HTTP status says, unless a
			// grpc-status came along.
			if _, ok := m["grpc-status"]; !ok || !st.fragEnd {
				st.done, st.err = true, httpStatusError(s)
				return
			}
		} else if ct := m["content-type"]; ct != "application/grpc" && !strings.HasPrefix(ct, "application/grpc+") && !strings.HasPrefix(ct, "application/grpc;") {
			st.done, st.err = true, &grpcError{Code: grpcUnknown, Message: "reply of content-type " + strconv.Quote(ct)}
			return
		}
		if !st.fragEnd {
			return
		}
		// A trailers-only reply.
	} else if !st.fragEnd {
		st.done, st.err = true, &grpcError{Code: grpcInternal, Message: "trailers that do not end the reply"}
		return
	}
	st.done = true
	if st.err = grpcStatus(m["grpc-status"], m["grpc-message"]); st.err == nil {
		st.reply, st.err = grpcUnframe(st.body)
	}
}

// applySettings takes a SETTINGS frame of the server's.
func (c *h2Conn) applySettings(st *h2Stream, p []byte) error {
	if len(p)%6 != 0 {
		return errH2
	}
	for ; len(p) > 0; p = p[6:] {
		v := binary.BigEndian.Uint32(p[2:6])
		switch binary.BigEndian.Uint16(p[:2]) {
		case h2SettingHeaderTableSize:
			// The server's decoder keeps no more than v bytes of our
			// entries; the next header block says we keep none.
			if v < h2TableSize {
				c.tableSizeZero = true
			}
		case h2SettingEnablePush:
			if v > 1 {
				return errH2
			}
		case h2SettingInitialWindowSize:
			if v > h2MaxWindow {
				return errH2
			}
			// Open streams' windows move by the difference (§6.9.2), and
			// may go below zero.
			st.sendWindow += int64(v) - c.initialWindow
			c.initialWindow = int64(v)
		case h2SettingMaxFrameSize:
			if v < h2DefaultFrame || v > h2MaxFrameLimit {
				return errH2
			}
			c.maxFrame = int(v)
		case h2SettingMaxHeaderListSize:
			c.maxHeaderList = int(min(v, 1<<30))
		}
	}
	return nil
}

// httpStatusError maps an HTTP status that came without grpc-status as
// grpc/doc/http-grpc-status-mapping.md says.
func httpStatusError(status string) *grpcError {
	code := grpcUnknown
	switch status {
	case "400":
		code = grpcInternal
	case "401":
		code = grpcUnauthenticated
	case "403":
		code = grpcPermissionDenied
	case "404":
		code = grpcUnimplemented
	case "429", "502", "503", "504":
		code = grpcUnavailable
	}
	return &grpcError{Code: code, Message: "HTTP status " + status}
}

// rstStreamStatus maps the error code of a RST_STREAM as gRPC's
// PROTOCOL-HTTP2.md says. REFUSED_STREAM does not get here: the call is
// retried.
func rstStreamStatus(code uint32) *grpcError {
	c := grpcInternal
	switch code {
	case h2ErrRefusedStream:
		c = grpcUnavailable
	case h2ErrCancel:
		c = grpcCanceled
	case h2ErrEnhanceYourCalm:
		c = grpcResourceExhausted
	case h2ErrInadequateSecurity:
		c = grpcPermissionDenied
	}
	return &grpcError{Code: c, Message: "stream reset by the server (HTTP/2 error " + strconv.FormatUint(uint64(code), 10) + ")"}
}

// readFrame reads one frame.
func (c *h2Conn) readFrame() (typ, flags byte, stream uint32, payload []byte, err error) {
	var h [9]byte
	if _, err = io.ReadFull(c.br, h[:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return
	}
	n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	if n > h2DefaultFrame {
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
	if m, ok := inet.PercentDecode(msg); ok {
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
