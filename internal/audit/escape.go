package audit

import "github.com/nsxproject/nsx/internal/escape"

// Escape makes s safe to show on a terminal or in a log viewer without
// losing anything (escape.Lossless). The strings a record holds come from
// the caller's command line and from the target (a container's name, its
// working directory), so neither can put escape sequences in front of the
// person reading the trail, nor forge a record boundary with a newline.
func Escape(s string) string {
	return escape.Lossless(s)
}

func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Escape(s)
	}
	return out
}
