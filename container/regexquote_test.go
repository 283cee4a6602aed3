package container

import (
	"regexp"
	"testing"
	"unicode/utf8"
)

func TestQuoteRegexpAsQuoteMeta(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, s := range []string{"", "abc123", "k8s.io", "a+b*c?", `x\y`, "(a|b)[c]{2}^$", "ütf-8", string(all)} {
		got, want := quoteRegexp(s), regexp.QuoteMeta(s)
		if got != want {
			t.Errorf("quoteRegexp(%q) = %q, regexp says %q", s, got, want)
		}
		if !utf8.ValidString(s) {
			continue // not a pattern regexp compiles
		}
		if re := regexp.MustCompile("^" + got + "$"); !re.MatchString(s) {
			t.Errorf("%q does not match its quoted form", s)
		}
	}
}
