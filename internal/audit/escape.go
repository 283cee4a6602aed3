package audit

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes s safe to show on a terminal or in a log viewer without
// losing anything: printable characters stay as they are, a backslash
// becomes `\\`, and every other byte (control characters, invalid UTF-8,
// non-printing runes such as bidirectional overrides) becomes `\xHH`. The
// strings a record holds come from the caller's command line and from the
// target (a container's name, its working directory), so neither can put
// escape sequences in front of the person reading the trail, nor forge a
// record boundary with a newline.
func Escape(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == utf8.RuneError && n <= 1, !unicode.IsPrint(r):
			for j := i; j < i+n; j++ {
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[s[j]>>4])
				b.WriteByte(hexDigits[s[j]&15])
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

// isPlain reports whether s is printable ASCII without backslashes, the
// common case, which needs no copy.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '\\' {
			return false
		}
	}
	return true
}

func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Escape(s)
	}
	return out
}
