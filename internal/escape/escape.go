// Package escape makes strings a target controls (command lines, container
// names, hostnames, paths) safe to put in front of a person: on a terminal,
// in a table, in a log viewer. A hostile string must not be able to move
// the cursor, retitle the terminal or forge a line; it is shown as \xHH
// escapes instead. The listing tables and the audit trail need slightly
// different rules, kept here side by side so that they cannot drift apart
// in what they consider dangerous.
package escape

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal returns s as util-linux's tables and procps show strings:
// control characters (C0, DEL, C1) and bytes that are not UTF-8 become
// \xHH, everything else, backslashes included, is kept.
func Terminal(s string) string {
	return escape(s, false)
}

// Lossless returns s so that the original can be told from the result: a
// backslash becomes `\\`, and every byte of a rune that does not print
// (controls, bidirectional overrides and other format characters) or that
// is not UTF-8 becomes \xHH. Printable text is kept as it is.
func Lossless(s string) string {
	return escape(s, true)
}

const hexDigits = "0123456789abcdef"

func escape(s string, lossless bool) string {
	if isPlain(s, lossless) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		if c := s[i]; c >= ' ' && c <= '~' {
			if c == '\\' && lossless {
				b.WriteString(`\\`)
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		hidden := unicode.IsControl(r)
		if lossless {
			hidden = !unicode.IsPrint(r)
		}
		if r == utf8.RuneError && n <= 1 || hidden {
			for j := i; j < i+n; j++ {
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[s[j]>>4])
				b.WriteByte(hexDigits[s[j]&15])
			}
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII (without backslashes when
// lossless), the common case, which needs no copy.
func isPlain(s string, lossless bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '\\' && lossless {
			return false
		}
	}
	return true
}
