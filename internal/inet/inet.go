// Package inet formats and parses the few Internet address forms nsx needs
// (interface addresses for inspect, a tcp:// engine endpoint, HTTP path
// escapes) without package net, net/netip or net/url.
//
// Why: every nsx command, `nsx enter -t PID` included, runs the package
// inits of everything linked into the binary, and net, net/netip (with
// unique and weak) and net/url cost start-up time and page faults in a
// command that opens no socket. The container transports dial with raw
// socket system calls (container/sysconn.go); what they and listing still
// took from those packages is here.
package inet

import (
	"errors"
	"strconv"
	"strings"
)

const hexDigits = "0123456789abcdef"

// FormatIP returns the text of a 4- or 16-byte address as net.IP's String
// writes it: dotted quad for IPv4 and IPv4-mapped IPv6, otherwise RFC 5952
// (lower-case hex, the longest run of two or more zero groups, the first
// of equals, as "::"). Any other length gives "?" and the hex bytes.
func FormatIP(ip []byte) string {
	if len(ip) == 16 && isV4Mapped(ip) {
		ip = ip[12:]
	}
	switch len(ip) {
	case 4:
		b := make([]byte, 0, 15)
		for i, v := range ip {
			if i > 0 {
				b = append(b, '.')
			}
			b = strconv.AppendUint(b, uint64(v), 10)
		}
		return string(b)
	case 16:
	default:
		if len(ip) == 0 {
			return "<nil>"
		}
		b := []byte{'?'}
		for _, v := range ip {
			b = append(b, hexDigits[v>>4], hexDigits[v&15])
		}
		return string(b)
	}
	// The longest run of zero groups (at least two).
	runStart, runLen := -1, 0
	for i := 0; i < 8; {
		if ip[2*i] != 0 || ip[2*i+1] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && ip[2*j] == 0 && ip[2*j+1] == 0 {
			j++
		}
		if j-i >= 2 && j-i > runLen {
			runStart, runLen = i, j-i
		}
		i = j
	}
	b := make([]byte, 0, 39)
	for i := 0; i < 8; i++ {
		if i == runStart {
			b = append(b, ':', ':')
			i += runLen - 1
			continue
		}
		if i > 0 && b[len(b)-1] != ':' {
			b = append(b, ':')
		}
		b = strconv.AppendUint(b, uint64(ip[2*i])<<8|uint64(ip[2*i+1]), 16)
	}
	return string(b)
}

func isV4Mapped(ip []byte) bool {
	for _, v := range ip[:10] {
		if v != 0 {
			return false
		}
	}
	return ip[10] == 0xff && ip[11] == 0xff
}

// FormatMAC returns a hardware address as net.HardwareAddr's String does:
// lower-case hex bytes joined by ':'.
func FormatMAC(a []byte) string {
	if len(a) == 0 {
		return ""
	}
	b := make([]byte, 0, 3*len(a)-1)
	for i, v := range a {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[v>>4], hexDigits[v&15])
	}
	return string(b)
}

// ParseIP parses a dotted-quad IPv4 address (4 bytes) or an IPv6 address
// in RFC 4291 text (16 bytes; an embedded dotted quad in the last 32 bits
// is accepted, a zone is not). ok is false for anything else.
func ParseIP(s string) (ip []byte, ok bool) {
	if v4, ok := parseV4(s); ok {
		return v4[:], true
	}
	return parseV6(s)
}

func parseV4(s string) (ip [4]byte, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return ip, false
	}
	for i, p := range parts {
		// Decimal only, no leading zeros (as net.ParseIP since Go 1.17).
		if p == "" || len(p) > 3 || len(p) > 1 && p[0] == '0' {
			return ip, false
		}
		n := 0
		for _, c := range []byte(p) {
			if c < '0' || c > '9' {
				return ip, false
			}
			n = n*10 + int(c-'0')
		}
		if n > 255 {
			return ip, false
		}
		ip[i] = byte(n)
	}
	return ip, true
}

func parseV6(s string) ([]byte, bool) {
	var groups []uint16
	ellipsis := -1 // index in groups where "::" stands
	if strings.HasPrefix(s, "::") {
		ellipsis = 0
		s = s[2:]
		if s == "" {
			return make([]byte, 16), true
		}
	}
	for s != "" {
		// A trailing dotted quad is the last two groups.
		if strings.IndexByte(s, ':') < 0 && strings.IndexByte(s, '.') >= 0 {
			v4, ok := parseV4(s)
			if !ok {
				return nil, false
			}
			groups = append(groups, uint16(v4[0])<<8|uint16(v4[1]), uint16(v4[2])<<8|uint16(v4[3]))
			s = ""
			break
		}
		end := strings.IndexByte(s, ':')
		field := s
		if end >= 0 {
			field = s[:end]
		}
		if field == "" || len(field) > 4 {
			return nil, false
		}
		n, err := strconv.ParseUint(field, 16, 16)
		if err != nil {
			return nil, false
		}
		groups = append(groups, uint16(n))
		if end < 0 {
			s = ""
			break
		}
		s = s[end+1:]
		if strings.HasPrefix(s, ":") {
			if ellipsis >= 0 {
				return nil, false
			}
			ellipsis = len(groups)
			s = s[1:]
		} else if s == "" {
			return nil, false // a trailing single ':'
		}
	}
	switch {
	case ellipsis < 0 && len(groups) != 8:
		return nil, false
	case ellipsis >= 0 && len(groups) > 7:
		return nil, false
	}
	ip := make([]byte, 16)
	fill := func(at int, g []uint16) {
		for i, v := range g {
			ip[2*(at+i)] = byte(v >> 8)
			ip[2*(at+i)+1] = byte(v)
		}
	}
	if ellipsis < 0 {
		fill(0, groups)
	} else {
		fill(0, groups[:ellipsis])
		tail := groups[ellipsis:]
		fill(8-len(tail), tail)
	}
	return ip, true
}

// SplitHostPort splits "host:port" or "[host]:port" into host and a port
// number (1–65535).
func SplitHostPort(hostport string) (host string, port int, err error) {
	var portText string
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 || !strings.HasPrefix(hostport[end+1:], ":") {
			return "", 0, errors.New("address " + hostport + ": missing port")
		}
		host, portText = hostport[1:end], hostport[end+2:]
	} else {
		i := strings.LastIndexByte(hostport, ':')
		if i < 0 {
			return "", 0, errors.New("address " + hostport + ": missing port")
		}
		host, portText = hostport[:i], hostport[i+1:]
		if strings.IndexByte(host, ':') >= 0 {
			return "", 0, errors.New("address " + hostport + ": too many colons")
		}
	}
	n, perr := strconv.ParseUint(portText, 10, 16)
	if perr != nil || n == 0 {
		return "", 0, errors.New("address " + hostport + ": bad port")
	}
	return host, int(n), nil
}

// PathEscape escapes s for use as one segment of a URL path, as
// net/url.PathEscape does: everything but the unreserved characters and
// "$&+:=@" becomes %XX (upper-case hex).
func PathEscape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if escapeInPath(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const upper = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if escapeInPath(c) {
			b = append(b, '%', upper[c>>4], upper[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func escapeInPath(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return false
	}
	return strings.IndexByte("-_.~$&+:=@", c) < 0
}

// PercentDecode undoes %XX escapes (as net/url.PathUnescape: '+' stays
// '+'); ok is false for a '%' not followed by two hex digits.
func PercentDecode(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Loopback6 returns ::1.
func Loopback6() []byte {
	ip := make([]byte, 16)
	ip[15] = 1
	return ip
}
