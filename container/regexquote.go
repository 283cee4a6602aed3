package container

import "strings"

// quoteRegexp escapes the metacharacters of RE2 syntax (containerd's
// "~=" filters are Go regular expressions) so that s matches itself.
// It is regexp.QuoteMeta's contract, written out so that looking a
// container up does not link package regexp for one call.
func quoteRegexp(s string) string {
	const meta = `\.+*?()|[]{}^$`
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(meta, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
