package container

// A minimal HTTP/1.1 client for the Docker Engine API: one GET per
// connection, Connection: close, Content-Length or chunked bodies. nsx does
// not link net/http: with crypto/tls, which it drags in, its package
// initialisers cost about 0.5 ms at every start of every nsx command, and
// its transport another 0.4 ms per request (measured on the docker: path).

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
)

// h1Reply is an HTTP response: status, headers (keys in lower case) and
// body.
type h1Reply struct {
	Status int
	Header map[string]string
	Body   []byte
}

var errHTTP = errors.New("malformed HTTP reply")

// h1Get performs GET path on a new connection to network/addr.
func h1Get(ctx context.Context, network, addr, host, path string, limit int) (*h1Reply, error) {
	c, err := dialWire(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: nsx\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return nil, ctxErr(ctx, err)
	}
	r, err := readH1Reply(bufio.NewReaderSize(c, 16<<10), limit)
	return r, ctxErr(ctx, err)
}

// ctxErr prefers the context's error to the I/O error it caused.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", errHTTP
	}
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return "", io.ErrUnexpectedEOF
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// readH1Reply parses a response with a body of at most limit bytes.
func readH1Reply(br *bufio.Reader, limit int) (*h1Reply, error) {
	line, err := readLine(br)
	if err != nil {
		return nil, err
	}
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") {
		return nil, errHTTP
	}
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if err != nil || status < 100 || status > 999 {
		return nil, errHTTP
	}
	r := &h1Reply{Status: status, Header: map[string]string{}}
	for n := 0; ; n++ {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		if n > 200 {
			return nil, errHTTP
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, errHTTP
		}
		r.Header[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if status/100 == 1 || status == 204 || status == 304 {
		return r, nil
	}
	switch {
	case strings.EqualFold(r.Header["transfer-encoding"], "chunked"):
		r.Body, err = readChunked(br, limit)
	case r.Header["content-length"] != "":
		n, perr := strconv.Atoi(r.Header["content-length"])
		if perr != nil || n < 0 {
			return nil, errHTTP
		}
		if n > limit {
			return nil, errors.New("HTTP reply too large")
		}
		r.Body = make([]byte, n)
		_, err = io.ReadFull(br, r.Body)
	default:
		r.Body, err = io.ReadAll(io.LimitReader(br, int64(limit)+1))
		if err == nil && len(r.Body) > limit {
			err = errors.New("HTTP reply too large")
		}
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return r, nil
}

func readChunked(br *bufio.Reader, limit int) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseUint(strings.TrimSpace(size), 16, 31)
		if err != nil {
			return nil, errHTTP
		}
		if n == 0 {
			for { // trailer section
				l, err := readLine(br)
				if err != nil {
					return nil, err
				}
				if l == "" {
					return body, nil
				}
			}
		}
		if len(body)+int(n) > limit {
			return nil, errors.New("HTTP reply too large")
		}
		start := len(body)
		body = append(body, make([]byte, n)...)
		if _, err := io.ReadFull(br, body[start:]); err != nil {
			return nil, err
		}
		if l, err := readLine(br); err != nil || l != "" {
			return nil, errHTTP
		}
	}
}
