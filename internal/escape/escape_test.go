package escape

import "testing"

func TestTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                "plain",
		"a\x1b[31mb\nc\td\x7f": `a\x1b[31mb\x0ac\x09d\x7f`,
		"caf\xc3\xa9 \xff end": "caf\xc3\xa9 \\xff end",
		"c1\xc2\x85x":          `c1\xc2\x85x`,
		`back\slash`:           `back\slash`,
		"nul\x00":              `nul\x00`,
		"rtl\u202eoverride":    "rtl\u202eoverride", // util-linux keeps it
		"replacement\ufffd":    "replacement\ufffd",
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLossless(t *testing.T) {
	for in, want := range map[string]string{
		"sh -c 'exit 7'":        "sh -c 'exit 7'",
		"a\\b":                  `a\\b`,
		"line\nforged":          `line\x0aforged`,
		"\x1b]0;pwned\x07":      `\x1b]0;pwned\x07`,
		"caf\u00e9":             "caf\u00e9",
		"bad\xffutf8":           `bad\xffutf8`,
		"rtl\u202eoverride":     `rtl\xe2\x80\xaeoverride`,
		"tab\there":             `tab\x09here`,
		"del\x7f":               `del\x7f`,
		"quote\"and<angle>&amp": "quote\"and<angle>&amp",
	} {
		if got := Lossless(in); got != want {
			t.Errorf("Lossless(%q) = %q, want %q", in, got, want)
		}
	}
}
