package container

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The transports dial with raw sockets, not package net: a tcp:// endpoint
// by IP literal or a name of /etc/hosts reaches a real listener, and a
// failed dial keeps the text and error chain the messages rely on.
func TestDialWireTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	for _, addr := range []string{"127.0.0.1:" + port, "localhost:" + port} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := dialWire(ctx, "tcp", addr)
		if err != nil {
			cancel()
			t.Fatalf("dial %s: %v", addr, err)
		}
		b, err := io.ReadAll(c)
		c.Close()
		cancel()
		if err != nil || string(b) != "hello" {
			t.Errorf("read from %s: %q %v", addr, b, err)
		}
	}
	ctx := context.Background()
	if _, err := dialWire(ctx, "tcp", "nsx-engine-no-such-host.invalid:1"); err == nil || !strings.Contains(err.Error(), "does not query DNS") {
		t.Errorf("dial by DNS name: %v", err)
	}
	// A closed port: refused, as net says it.
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l2.Addr().String()
	l2.Close()
	if _, err := dialWire(ctx, "tcp", closed); err == nil || err.Error() != "dial tcp: connect: connection refused" {
		t.Errorf("dial a closed port: %v", err)
	}
}

func TestDialUnixErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nsx-engine-absent.sock")
	_, err := dialWire(context.Background(), "unix", path)
	if err == nil || err.Error() != "dial unix: connect: no such file or directory" || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dial an absent socket: %v", err)
	}
	if got := describeTransport(err); got != "no socket" {
		t.Errorf("reason %q", got)
	}
}
