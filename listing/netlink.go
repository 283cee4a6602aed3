package listing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/nsxproject/nsx/internal/inet"
	"golang.org/x/sys/unix"
)

// A minimal rtnetlink client: enough to ask for a peer namespace's NSID and
// to dump links and addresses of the calling thread's network namespace.

var nlSeq atomic.Uint32

type nlConn struct {
	fd  int
	buf []byte // the receive buffer
}

func dialRoute() (*nlConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return &nlConn{fd: fd}, nil
}

func (c *nlConn) Close() { unix.Close(c.fd) }

type nlMsg struct {
	typ  uint16
	data []byte // after the header
}

func align4(n int) int { return (n + 3) &^ 3 }

// attr appends one rtattr.
func attr(b []byte, typ uint16, val []byte) []byte {
	l := 4 + len(val)
	var h [4]byte
	binary.NativeEndian.PutUint16(h[0:], uint16(l))
	binary.NativeEndian.PutUint16(h[2:], typ)
	b = append(b, h[:]...)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// nlDumpAttempts bounds how often a dump the kernel keeps interrupting is
// started again.
const nlDumpAttempts = 10

// nlDumpRetries counts the dumps started again because a concurrent change
// interrupted them (NLM_F_DUMP_INTR); the tests read it.
var nlDumpRetries atomic.Uint64

// errDumpInterrupted reports a dump whose parts the kernel marked
// NLM_F_DUMP_INTR: links or addresses changed while it ran, so the parts
// may miss or repeat entries.
var errDumpInterrupted = errors.New("netlink: dump interrupted by concurrent changes")

// nlRecvBuf is the receive buffer a connection starts with; a larger
// datagram grows it.
var nlRecvBuf = 32 << 10

// request sends one message and collects the replies until the kernel is
// done (a single reply, or NLMSG_DONE for a dump). A dump that a
// concurrent change interrupted is made again, whole, so that what it
// returns is one consistent view.
func (c *nlConn) request(typ uint16, flags uint16, payload []byte) ([]nlMsg, error) {
	for attempt := 1; ; attempt++ {
		out, err := c.exchange(typ, flags, payload)
		if err != errDumpInterrupted || attempt == nlDumpAttempts {
			return out, err
		}
		nlDumpRetries.Add(1)
	}
}

func (c *nlConn) exchange(typ uint16, flags uint16, payload []byte) ([]nlMsg, error) {
	seq := nlSeq.Add(1)
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(payload))
	msg = append(msg, payload...)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	r := nlReply{seq: seq, dump: flags&unix.NLM_F_DUMP != 0}
	if len(c.buf) == 0 {
		c.buf = make([]byte, nlRecvBuf)
	}
	for {
		b, from, err := c.recv()
		if err != nil {
			return nil, err
		}
		if from != 0 {
			continue // not from the kernel
		}
		if done, err := r.add(b); done || err != nil {
			return r.out, err
		}
	}
}

// nlReply collects the reply to one request.
type nlReply struct {
	seq         uint32
	dump        bool
	out         []nlMsg
	interrupted bool
}

// add takes one datagram; done says the reply is complete.
func (r *nlReply) add(b []byte) (done bool, err error) {
	for len(b) > 0 {
		if len(b) < unix.NLMSG_HDRLEN {
			return true, errTruncated
		}
		l := int(binary.NativeEndian.Uint32(b[0:]))
		mt := binary.NativeEndian.Uint16(b[4:])
		mf := binary.NativeEndian.Uint16(b[6:])
		ms := binary.NativeEndian.Uint32(b[8:])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return true, errTruncated
		}
		data := b[unix.NLMSG_HDRLEN:l]
		if ms == r.seq {
			if mf&unix.NLM_F_DUMP_INTR != 0 {
				r.interrupted = true
			}
			switch mt {
			case unix.NLMSG_DONE:
				// DONE carries the dump's error.
				if len(data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(data)); e < 0 {
						return true, unix.Errno(-e)
					}
				}
				if r.interrupted {
					return true, errDumpInterrupted
				}
				return true, nil
			case unix.NLMSG_ERROR:
				if len(data) < 4 {
					return true, errTruncated
				}
				if e := int32(binary.NativeEndian.Uint32(data)); e != 0 {
					return true, unix.Errno(-e)
				}
				return true, nil
			case unix.NLMSG_NOOP, unix.NLMSG_OVERRUN:
			default:
				r.out = append(r.out, nlMsg{typ: mt, data: append([]byte(nil), data...)})
				if !r.dump {
					return true, nil
				}
			}
		}
		if adv := align4(l); adv < len(b) {
			b = b[adv:]
		} else {
			b = nil
		}
	}
	return false, nil
}

// errTruncated reports a message cut short: a datagram or a message whose
// length runs past what was received.
var errTruncated = errors.New("netlink: truncated message")

// recv reads one datagram whole, growing the buffer when it is larger (a
// link with many VFs or a long alias), and returns it with the sender's
// port id (0: the kernel).
func (c *nlConn) recv() ([]byte, uint32, error) {
	for {
		// MSG_PEEK|MSG_TRUNC gives the datagram's full size without
		// consuming it.
		n, _, err := unix.Recvfrom(c.fd, c.buf, unix.MSG_PEEK|unix.MSG_TRUNC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if n > len(c.buf) {
			c.buf = make([]byte, align4(n))
		}
		n, sa, err := unix.Recvfrom(c.fd, c.buf, unix.MSG_TRUNC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if n > len(c.buf) {
			return nil, 0, errTruncated
		}
		var from uint32
		if nl, ok := sa.(*unix.SockaddrNetlink); ok {
			from = nl.Pid
		}
		return c.buf[:n], from, nil
	}
}

// parseAttrs splits rtattrs into a map of type to value (last one wins).
func parseAttrs(b []byte) map[uint16][]byte {
	m := map[uint16][]byte{}
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		t := binary.NativeEndian.Uint16(b[2:]) & 0x3fff
		if l < 4 || l > len(b) {
			break
		}
		m[t] = b[4:l]
		if align4(l) >= len(b) {
			break
		}
		b = b[align4(l):]
	}
	return m
}

func (c *nlConn) nsid(fd int) (int, error) {
	payload := make([]byte, 4) // struct rtgenmsg, padded
	var v [4]byte
	binary.NativeEndian.PutUint32(v[:], uint32(fd))
	payload = attr(payload, unix.NETNSA_FD, v[:])
	msgs, err := c.request(unix.RTM_GETNSID, 0, payload)
	if err != nil {
		return -1, err
	}
	for _, m := range msgs {
		if m.typ != unix.RTM_NEWNSID || len(m.data) < 4 {
			continue
		}
		a := parseAttrs(m.data[4:])
		if v, ok := a[unix.NETNSA_NSID]; ok && len(v) >= 4 {
			return int(int32(binary.NativeEndian.Uint32(v))), nil
		}
	}
	return -1, nil
}

// Interface is a network interface seen from inside a network namespace.
type Interface struct {
	Index int      `json:"index"`
	Name  string   `json:"name"`
	MAC   string   `json:"mac,omitempty"`
	MTU   int      `json:"mtu"`
	Up    bool     `json:"up"`
	State string   `json:"state"`
	Addrs []string `json:"addresses"`
	// LinkNetNSID is the NSID of the namespace holding the peer of a
	// veth-like link, -1 when the peer is local or there is none.
	LinkNetNSID int `json:"link_netnsid"`
}

var operStates = []string{"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"}

// Interfaces dumps the links and addresses of the calling thread's network
// namespace.
func Interfaces() ([]Interface, error) {
	c, err := dialRoute()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ifi := make([]byte, unix.SizeofIfInfomsg)
	msgs, err := c.request(unix.RTM_GETLINK, unix.NLM_F_DUMP, ifi)
	if err != nil {
		return nil, fmt.Errorf("netlink RTM_GETLINK: %w", err)
	}
	var out []Interface
	byIndex := map[int]int{}
	for _, m := range msgs {
		if m.typ != unix.RTM_NEWLINK || len(m.data) < unix.SizeofIfInfomsg {
			continue
		}
		idx := int(int32(binary.NativeEndian.Uint32(m.data[4:])))
		flags := binary.NativeEndian.Uint32(m.data[8:])
		a := parseAttrs(m.data[unix.SizeofIfInfomsg:])
		it := Interface{Index: idx, Up: flags&unix.IFF_UP != 0, LinkNetNSID: -1, Addrs: []string{}}
		if v, ok := a[unix.IFLA_IFNAME]; ok {
			it.Name = cString(v)
		}
		if v, ok := a[unix.IFLA_ADDRESS]; ok && len(v) == 6 {
			it.MAC = inet.FormatMAC(v)
		}
		if v, ok := a[unix.IFLA_MTU]; ok && len(v) >= 4 {
			it.MTU = int(binary.NativeEndian.Uint32(v))
		}
		if v, ok := a[unix.IFLA_OPERSTATE]; ok && len(v) >= 1 && int(v[0]) < len(operStates) {
			it.State = operStates[v[0]]
		}
		if v, ok := a[unix.IFLA_LINK_NETNSID]; ok && len(v) >= 4 {
			it.LinkNetNSID = int(int32(binary.NativeEndian.Uint32(v)))
		}
		byIndex[idx] = len(out)
		out = append(out, it)
	}
	ifa := make([]byte, unix.SizeofIfAddrmsg)
	msgs, err = c.request(unix.RTM_GETADDR, unix.NLM_F_DUMP, ifa)
	if err != nil {
		return out, fmt.Errorf("netlink RTM_GETADDR: %w", err)
	}
	for _, m := range msgs {
		if m.typ != unix.RTM_NEWADDR || len(m.data) < unix.SizeofIfAddrmsg {
			continue
		}
		plen := int(m.data[1])
		idx := int(binary.NativeEndian.Uint32(m.data[4:]))
		a := parseAttrs(m.data[unix.SizeofIfAddrmsg:])
		v, ok := a[unix.IFA_LOCAL]
		if !ok {
			v, ok = a[unix.IFA_ADDRESS]
		}
		if !ok || (len(v) != 4 && len(v) != 16) {
			continue
		}
		s := inet.FormatIP(v) + "/" + strconv.Itoa(plen)
		if i, ok := byIndex[idx]; ok {
			out[i].Addrs = append(out[i].Addrs, s)
		}
	}
	return out, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
