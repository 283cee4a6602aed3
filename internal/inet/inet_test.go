package inet

import (
	"math/rand"
	"net"
	"net/url"
	"testing"
)

// The reference for every function is the package it replaces: what
// inspect printed and what the transports accepted before must not change.

func TestFormatIPAsNet(t *testing.T) {
	cases := [][]byte{
		{127, 0, 0, 1}, {0, 0, 0, 0}, {255, 255, 255, 255}, {10, 1, 20, 200},
		net.ParseIP("::1"), net.ParseIP("::"), net.ParseIP("fe80::1"),
		net.ParseIP("2001:db8::8:800:200c:417a"), net.ParseIP("2001:db8:0:0:1:0:0:1"),
		net.ParseIP("2001:0:0:1:0:0:0:1"), net.ParseIP("1:0:1:0:1:0:1:0"),
		net.ParseIP("::ffff:192.0.2.1"), net.ParseIP("::192.0.2.1"), net.ParseIP("1::"),
		net.ParseIP("0:0:1::"), net.ParseIP("abcd:ef01:2345:6789:abcd:ef01:2345:6789"),
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		ip := make([]byte, 16)
		for j := range ip {
			// Mostly zeros, to exercise the "::" choice.
			if r.Intn(3) == 0 {
				ip[j] = byte(r.Intn(256))
			}
		}
		if r.Intn(10) == 0 {
			copy(ip, net.ParseIP("::ffff:0.0.0.0")[:12])
		}
		cases = append(cases, ip)
	}
	for _, ip := range cases {
		if got, want := FormatIP(ip), net.IP(ip).String(); got != want {
			t.Fatalf("FormatIP(%v) = %q, net says %q", []byte(ip), got, want)
		}
	}
}

func TestFormatMACAsNet(t *testing.T) {
	for _, a := range [][]byte{{0, 0x1a, 0xff, 0x0b, 0xc0, 0x01}, {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3}} {
		if got, want := FormatMAC(a), net.HardwareAddr(a).String(); got != want {
			t.Errorf("FormatMAC(%x) = %q, net says %q", a, got, want)
		}
	}
}

func TestParseIPAsNet(t *testing.T) {
	for _, s := range []string{
		"127.0.0.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.5",
		"01.2.3.4", "1.2.3.a", "", "::", "::1", "1::", "fe80::1", "1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3", ":1::2", "1::2:", "::ffff:1.2.3.4",
		"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "12345::1", "g::1", "::1.2.3",
		"localhost", "fe80::1%eth0", "[::1]", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
	} {
		want := net.ParseIP(s)
		got, ok := ParseIP(s)
		if ok != (want != nil) {
			t.Errorf("ParseIP(%q) ok = %v, net says %v", s, ok, want)
			continue
		}
		if ok && !net.IP(got).Equal(want) {
			t.Errorf("ParseIP(%q) = %v, net says %v", s, net.IP(got), want)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	for _, s := range []string{"127.0.0.1:2375", "[::1]:2375", "docker:2376", "localhost:1"} {
		h, p, err := SplitHostPort(s)
		wh, wp, werr := net.SplitHostPort(s)
		if err != nil || werr != nil || h != wh || p == 0 || wp == "" {
			t.Errorf("SplitHostPort(%q) = %q %d %v; net: %q %q %v", s, h, p, err, wh, wp, werr)
		}
	}
	for _, bad := range []string{"127.0.0.1", "::1:80", "[::1]", "[::1]80", "h:0", "h:65536", "h:x", "h:"} {
		if _, _, err := SplitHostPort(bad); err == nil {
			t.Errorf("SplitHostPort(%q) accepted", bad)
		}
	}
}

func TestPathEscapeAsURL(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, s := range []string{"", "nsx-busybox", "a/b", "k8s_POD_x;1", "name with space", "ü?#%", string(all)} {
		if got, want := PathEscape(s), url.PathEscape(s); got != want {
			t.Errorf("PathEscape(%q) = %q, net/url says %q", s, got, want)
		}
	}
}

func TestPercentDecodeAsURL(t *testing.T) {
	for _, s := range []string{"", "plain", "a%20b", "%41%42", "%zz", "%4", "%", "100%25", "a+b", "%e2%9c%93", "%E2%9C%93x"} {
		got, ok := PercentDecode(s)
		want, err := url.PathUnescape(s)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("PercentDecode(%q) = %q %v; net/url: %q %v", s, got, ok, want, err)
		}
	}
}
