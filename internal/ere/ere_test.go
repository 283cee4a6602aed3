package ere

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// Go's regexp in POSIX syntax is the reference for what both languages
// share; the cases after it are where glibc's ERE (the target) differs
// from Go's, and the error texts are glibc's.

// sharedSyntax reports whether pattern is in the part of the language
// where Go's POSIX syntax and ERE agree: no backslash (Go reads escapes
// inside brackets and \n as a newline), no nested repetition operators
// (Go refuses a** and a*{2}), no repetition of an anchor.
func sharedSyntax(pattern string) bool {
	if strings.ContainsAny(pattern, `\`) {
		return false
	}
	rep := func(c byte) bool { return c == '*' || c == '+' || c == '?' || c == '}' }
	for i := 1; i < len(pattern); i++ {
		c := pattern[i]
		if c == '*' || c == '+' || c == '?' || c == '{' {
			if rep(pattern[i-1]) || pattern[i-1] == '^' || pattern[i-1] == '$' {
				return false
			}
		}
	}
	return !strings.Contains(pattern, "[[:") && !strings.Contains(pattern, "[[.") && !strings.Contains(pattern, "[[=")
}

func TestAgainstGoPOSIX(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	atoms := []string{"a", "b", "c", ".", "^", "$", "(", ")", "|", "*", "+", "?", "[ab]", "[^a]", "[a-c]", "{2}", "{1,2}", "{0,}", "-", "]", "x", "ab", "(a|b)", "[]a]", "[a-]"}
	subjects := []string{"", "a", "b", "ab", "ba", "abc", "aab", "abab", "cab", "xyz", "a-b", "]", "aaaa", "bbbbb", "acbacb", "-x-", "{2}", "a{1,2}"}
	for i := 0; i < 3000; i++ {
		subjects = append(subjects, randomText(r, "abcx-]{}", 8))
	}
	agreedCompile, compared := 0, 0
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := r.Intn(7); n >= 0; n-- {
			b.WriteString(atoms[r.Intn(len(atoms))])
		}
		pattern := b.String()
		if !sharedSyntax(pattern) {
			continue
		}
		goRE, goErr := regexp.CompilePOSIX(pattern)
		re, err := Compile(pattern)
		if (goErr == nil) != (err == nil) {
			t.Errorf("Compile(%q): error %v, Go POSIX says %v", pattern, err, goErr)
			continue
		}
		agreedCompile++
		if err != nil {
			continue
		}
		for j := 0; j < 40; j++ {
			s := subjects[r.Intn(len(subjects))]
			if got, want := re.MatchString(s), goRE.MatchString(s); got != want {
				t.Fatalf("%q on %q: %v, Go POSIX says %v", pattern, s, got, want)
			}
			compared++
		}
	}
	if agreedCompile < 5000 || compared < 50000 {
		t.Fatalf("only %d patterns, %d matches compared", agreedCompile, compared)
	}
}

func randomText(r *rand.Rand, alphabet string, max int) string {
	b := make([]byte, r.Intn(max+1))
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

func TestERE(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		// What lsns filters look like.
		{"^m", "mnt", true}, {"^m", "net", false}, {"s$", "uts", true}, {"79$", "4026531879", true},
		{"/ns/(user|pid)$", "/proc/1/ns/pid", true}, {"/ns/(user|pid)$", "/proc/1/ns/net", false},
		{"^sleep", "sleep 600", true}, {"^(a|b)+$", "abba", true}, {"^(a|b)+$", "abca", false},
		// glibc without REG_NEWLINE: '.', [^...] and $ see a newline as any character.
		{"a.b", "a\nb", true}, {"a[^x]b", "a\nb", true}, {"^b", "a\nb", false}, {"a$", "a\nb", false},
		// A backslash makes any character literal; in brackets it is itself.
		{`a\.b`, "a.b", true}, {`a\.b`, "axb", false}, {`\n`, "n", true}, {`[\]`, `\`, true}, {`\(`, "(", true},
		// Classes, collating elements, equivalence classes.
		{"^[[:digit:]]+$", "4026531835", true}, {"^[[:digit:]]+$", "40a", false}, {"[[:space:]]", "a b", true},
		{"[[:upper:][:digit:]]", "abc", false}, {"[[.-.]]", "a-b", true}, {"[[=a=]]", "xa", true},
		{"[]]", "]", true}, {"[^]]", "]", false}, {"[a-]", "-", true},
		// Repetition.
		{"^a{2}$", "aa", true}, {"^a{2}$", "aaa", false}, {"^a{2,}$", "aaaa", true}, {"^a{1,2}$", "aaa", false},
		{"^a**$", "aaa", true}, {"^(a*)*$", "aaa", true}, {"^(a|)+$", "aaa", true}, {"^()*$", "", true},
		{"a{", "a{", true}, {"a{x}", "a{x}", true}, {"a{,2}", "a{,2}", true},
		{"", "anything", true}, {"()", "", true}, {"a||b", "b", true},
		// UTF-8: '.' is one character.
		{"^.$", "ü", true}, {"^..$", "ü", false}, {"^[ü]$", "ü", true},
	}
	for _, c := range cases {
		re, err := Compile(c.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.pattern, err)
			continue
		}
		if got := re.MatchString(c.s); got != c.want {
			t.Errorf("%q on %q: %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]string{
		"(":                       `Unmatched ( or \(`,
		"(a|b":                    `Unmatched ( or \(`,
		"a)":                      `Unmatched ) or \)`,
		"[a":                      "Unmatched [, [^, [:, [., or [=",
		"[[:alpha:]":              "Unmatched [, [^, [:, [., or [=",
		"*a":                      "Invalid preceding regular expression",
		"a|*":                     "Invalid preceding regular expression",
		"(+a)":                    "Invalid preceding regular expression",
		"{2}":                     "Invalid preceding regular expression",
		`a\`:                      "Trailing backslash",
		"a{3,2}":                  "Invalid content of \\{\\}",
		"a{1001}":                 "Invalid content of \\{\\}",
		"[z-a]":                   "Invalid range end",
		"[[:foo:]]":               "Invalid character class name",
		"[[.ab.]]":                "Invalid collation character",
		"((a{1000}){1000}){1000}": "Regular expression too big",
	}
	for pattern, want := range cases {
		_, err := Compile(pattern)
		if e, ok := err.(*Error); !ok || e.Msg != want {
			t.Errorf("Compile(%q) = %v, want %q", pattern, err, want)
		}
	}
}

// A pattern that makes a backtracking matcher take exponential time runs
// in time linear in the text here; the test would not end otherwise.
func TestNoBacktracking(t *testing.T) {
	re, err := Compile("^(a|a)*(a*)*b$")
	if err != nil {
		t.Fatal(err)
	}
	if re.MatchString(strings.Repeat("a", 5000)) {
		t.Fatal("matched without a b")
	}
}
