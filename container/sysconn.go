package container

// Blocking unix-socket connections made with raw system calls. A resolver
// run makes one or a few request/reply exchanges on one socket; Go's network
// poller (package net) costs about 1 ms at its first use in a process
// (epoll set-up, a poller thread and the wake-ups between them, measured:
// 3.1 ms against 2.1 ms for the same Docker API exchange in a fresh
// process). Timeouts come from SO_RCVTIMEO/SO_SNDTIMEO; cancellation shuts
// the socket down, which wakes a blocked read.

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nsxproject/nsx/internal/inet"
	"golang.org/x/sys/unix"
)

// wireConn is what the HTTP/1.1 and HTTP/2 clients need of a connection.
type wireConn interface {
	io.ReadWriteCloser
}

// sysConn is a connected, blocking AF_UNIX stream socket.
type sysConn struct {
	mu     sync.Mutex
	fd     int
	closed bool
	stop   func() bool
}

// dialUnix connects to the socket at path, with the timeouts ctx's deadline
// leaves.
func dialUnix(ctx context.Context, path string) (*sysConn, error) {
	return dialSocket(ctx, "unix", unix.AF_UNIX, &unix.SockaddrUnix{Name: path})
}

// dialError is a failed connect; its text is net.OpError's ("dial unix:
// connect: ..."), which the messages of this package were written for.
type dialError struct {
	network string
	err     error
}

func (e *dialError) Error() string { return "dial " + e.network + ": " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// dialSocket connects a blocking stream socket of family to sa. Connect on
// a blocking socket honours SO_SNDTIMEO, so the deadline covers it too.
func dialSocket(ctx context.Context, network string, family int, sa unix.Sockaddr) (*sysConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	c := &sysConn{fd: fd}
	if dl, ok := ctx.Deadline(); ok {
		d := time.Until(dl)
		if d <= 0 {
			unix.Close(fd)
			return nil, context.DeadlineExceeded
		}
		tv := unix.NsecToTimeval(d.Nanoseconds())
		if tv.Sec == 0 && tv.Usec == 0 {
			tv.Usec = 1
		}
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	}
	for {
		err = unix.Connect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		if err == unix.EAGAIN || err == unix.EINPROGRESS {
			return nil, &dialError{network, os.ErrDeadlineExceeded}
		}
		return nil, &dialError{network, os.NewSyscallError("connect", err)}
	}
	c.stop = context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.closed {
			unix.Shutdown(c.fd, unix.SHUT_RDWR)
		}
	})
	return c, nil
}

func (c *sysConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Read(c.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, os.ErrDeadlineExceeded
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (c *sysConn) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(c.fd, p[done:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return done, os.ErrDeadlineExceeded
		case err != nil:
			return done, os.NewSyscallError("write", err)
		}
		done += n
	}
	return done, nil
}

func (c *sysConn) Close() error {
	if c.stop != nil {
		c.stop()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("already closed")
	}
	c.closed = true
	return unix.Close(c.fd)
}

// dialWire connects to network/addr ("unix" with a path, or "tcp" with
// host:port).
func dialWire(ctx context.Context, network, addr string) (wireConn, error) {
	if network == "unix" {
		return dialUnix(ctx, addr)
	}
	host, port, err := inet.SplitHostPort(addr)
	if err != nil {
		return nil, &dialError{"tcp", err}
	}
	ips, err := resolveHost(host)
	if err != nil {
		return nil, &dialError{"tcp", err}
	}
	// Each address in turn, as net.Dialer does (without its parallel
	// IPv4/IPv6 race: a local daemon answers or refuses at once).
	var first error
	for _, ip := range ips {
		var c *sysConn
		if len(ip) == 4 {
			sa := &unix.SockaddrInet4{Port: port}
			copy(sa.Addr[:], ip)
			c, err = dialSocket(ctx, "tcp", unix.AF_INET, sa)
		} else {
			sa := &unix.SockaddrInet6{Port: port}
			copy(sa.Addr[:], ip)
			c, err = dialSocket(ctx, "tcp", unix.AF_INET6, sa)
		}
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// resolveHost returns the addresses of an IP literal, "localhost" or a name
// in /etc/hosts. There is no DNS: an engine's PIDs are only this host's when
// the engine runs here, and a name of this host is in /etc/hosts.
func resolveHost(host string) ([][]byte, error) {
	if ip, ok := inet.ParseIP(host); ok {
		return [][]byte{ip}, nil
	}
	var ips [][]byte
	if b, err := os.ReadFile("/etc/hosts"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			for _, name := range f[1:] {
				if strings.EqualFold(name, host) {
					if ip, ok := inet.ParseIP(f[0]); ok {
						ips = append(ips, ip)
					}
					break
				}
			}
		}
	}
	if len(ips) == 0 && strings.EqualFold(host, "localhost") {
		ips = [][]byte{{127, 0, 0, 1}, inet.Loopback6()}
	}
	if len(ips) == 0 {
		return nil, errors.New("lookup " + host + ": not an address nor a name in /etc/hosts (nsx does not query DNS)")
	}
	return ips, nil
}
