package listing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/testutil"
)

// inPrivateNetns runs fn on a thread in a new network namespace, which
// dies with the goroutine (the thread is never unlocked). Other threads
// join it through the returned fd.
func inPrivateNetns(t *testing.T, fn func(netnsFD int)) {
	t.Helper()
	testutil.RequireRoot(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare: %v", err)
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Errorf("open netns: %v", err)
			return
		}
		defer unix.Close(fd)
		fn(fd)
	}()
	<-done
}

// linkRequest creates (RTM_NEWLINK) or deletes (RTM_DELLINK) a link: a bridge, the
// simplest kind this kernel builds in (it has no dummy driver).
func linkRequest(c *nlConn, typ uint16, name, alias string) error {
	b := make([]byte, unix.SizeofIfInfomsg)
	b = attr(b, unix.IFLA_IFNAME, append([]byte(name), 0))
	flags := uint16(unix.NLM_F_ACK)
	if typ == unix.RTM_NEWLINK {
		flags |= unix.NLM_F_CREATE | unix.NLM_F_EXCL
		info := attr(nil, unix.IFLA_INFO_KIND, []byte("bridge"))
		b = attr(b, unix.IFLA_LINKINFO, info)
		if alias != "" {
			b = attr(b, unix.IFLA_IFALIAS, []byte(alias))
		}
	}
	_, err := c.request(typ, flags, b)
	return err
}

// addAddr gives link index idx the IPv4 address 10.a.b.c/8.
func addAddr(c *nlConn, idx int, ip [4]byte) error {
	b := make([]byte, unix.SizeofIfAddrmsg)
	b[0] = unix.AF_INET
	b[1] = 8
	binary.NativeEndian.PutUint32(b[4:], uint32(idx))
	b = attr(b, unix.IFA_LOCAL, ip[:])
	b = attr(b, unix.IFA_ADDRESS, ip[:])
	_, err := c.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK, b)
	return err
}

// staticLinks makes n links with one address each.
func staticLinks(t *testing.T, c *nlConn, n int, alias string) {
	t.Helper()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("nsxrt%d", i)
		if err := linkRequest(c, unix.RTM_NEWLINK, name, alias); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	ifs, err := Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range ifs {
		var i int
		if _, err := fmt.Sscanf(it.Name, "nsxrt%d", &i); err == nil {
			if err := addAddr(c, it.Index, [4]byte{10, 0, byte(i >> 8), byte(i)}); err != nil {
				t.Fatalf("address on %s: %v", it.Name, err)
			}
		}
	}
}

// checkStatic says what is wrong with a dump that should hold n static
// links, each once and with its address.
func checkStatic(ifs []Interface, n int) string {
	seen := map[string]int{}
	for _, it := range ifs {
		var i int
		if _, err := fmt.Sscanf(it.Name, "nsxrt%d", &i); err != nil || !strings.HasPrefix(it.Name, "nsxrt") {
			continue
		}
		seen[it.Name]++
		want := fmt.Sprintf("10.0.%d.%d/8", byte(i>>8), byte(i))
		if len(it.Addrs) != 1 || it.Addrs[0] != want {
			return fmt.Sprintf("%s has addresses %v, want %s", it.Name, it.Addrs, want)
		}
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("nsxrt%d", i)
		if seen[name] != 1 {
			return fmt.Sprintf("%s seen %d times", name, seen[name])
		}
	}
	return ""
}

// A dump that links coming and going interrupt is made again: every result
// is one consistent view, and the retries happened.
func TestNetlinkDumpInterrupted(t *testing.T) {
	const static = 150
	inPrivateNetns(t, func(netnsFD int) {
		c, err := dialRoute()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		staticLinks(t, c, static, "")

		// Churn: another thread in the namespace adds and deletes links.
		var stop atomic.Bool
		var wg sync.WaitGroup
		var churnErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // dies in the test's namespace
			if err := unix.Setns(netnsFD, unix.CLONE_NEWNET); err != nil {
				churnErr = err
				return
			}
			cc, err := dialRoute()
			if err != nil {
				churnErr = err
				return
			}
			defer cc.Close()
			for i := 0; !stop.Load(); i++ {
				name := fmt.Sprintf("nsxchurn%d", i%4)
				if err := linkRequest(cc, unix.RTM_NEWLINK, name, ""); err != nil {
					churnErr = err
					return
				}
				if err := linkRequest(cc, unix.RTM_DELLINK, name, ""); err != nil {
					churnErr = err
					return
				}
			}
		}()
		before := nlDumpRetries.Load()
		deadline := time.Now().Add(20 * time.Second)
		dumps := 0
		for nlDumpRetries.Load() == before || dumps < 50 {
			if time.Now().After(deadline) {
				break
			}
			ifs, err := Interfaces()
			dumps++
			if errors.Is(err, errDumpInterrupted) {
				continue // ten interruptions in a row: reported, not returned as data
			}
			if err != nil {
				t.Errorf("dump %d: %v", dumps, err)
				break
			}
			if msg := checkStatic(ifs, static); msg != "" {
				t.Errorf("dump %d: %s", dumps, msg)
				break
			}
		}
		stop.Store(true)
		wg.Wait()
		if churnErr != nil {
			t.Fatalf("churn: %v", churnErr)
		}
		if nlDumpRetries.Load() == before {
			t.Fatalf("%d dumps beside a churning link table, none interrupted", dumps)
		}
		t.Logf("%d dumps, %d retried", dumps, nlDumpRetries.Load()-before)
	})
}

// Datagrams larger than the receive buffer are read whole; a message that
// runs past its datagram is an error, not data.
func TestNetlinkLargeAndTruncated(t *testing.T) {
	inPrivateNetns(t, func(int) {
		c, err := dialRoute()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Long aliases make every link message larger than the buffer.
		staticLinks(t, c, 20, strings.Repeat("a", 200))
		old := nlRecvBuf
		nlRecvBuf = 256
		defer func() { nlRecvBuf = old }()
		ifs, err := Interfaces()
		if err != nil {
			t.Fatal(err)
		}
		if msg := checkStatic(ifs, 20); msg != "" {
			t.Fatal(msg)
		}
	})

	// Replies cut short.
	seq := uint32(77)
	msg := make([]byte, unix.NLMSG_HDRLEN+unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], unix.RTM_NEWLINK)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	whole := append(append([]byte{}, msg...), msg...)
	r := nlReply{seq: seq, dump: true}
	if done, err := r.add(whole); done || err != nil || len(r.out) != 2 {
		t.Fatalf("two whole messages: %v %v %d", done, err, len(r.out))
	}
	for cut := 1; cut < len(msg); cut++ {
		r := nlReply{seq: seq, dump: true}
		if _, err := r.add(whole[:len(msg)+cut]); !errors.Is(err, errTruncated) {
			t.Fatalf("message cut at %d bytes: %v", cut, err)
		}
	}
	long := append([]byte{}, msg...)
	binary.NativeEndian.PutUint32(long[0:], uint32(len(msg)+40)) // claims more than follows
	if _, err := (&nlReply{seq: seq, dump: true}).add(long); !errors.Is(err, errTruncated) {
		t.Fatalf("message longer than its datagram: %v", err)
	}
}
