package getopt

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fuzzOptions mixes nsenter's table with aliases, long-only options and
// names that prefix each other.
var fuzzOptions = append(append([]Option{}, nsenterOptions...), aliasOptions...)

// FuzzParse takes argv as NUL-separated words.
func FuzzParse(f *testing.F) {
	seeds := [][]string{
		{"-aFZ", "-t1", "--net=/x", "sh"},
		{"-nt", "123"},
		{"--w=/x"},
		{"--wd", "--wdn=1", "--za", "--z"},
		{"x", "-a", "--", "-F"},
		{"-", "--target"},
		{"-aS"},
		{"--=", "--all=1"},
		{"-é\xff", "--fo", "--du"},
		{"-W", "--", "--quiet", "--qu"},
	}
	for _, s := range seeds {
		f.Add(strings.Join(s, "\x00"), false)
		f.Add(strings.Join(s, "\x00"), true)
	}
	f.Fuzz(func(t *testing.T, argv string, permute bool) {
		var args []string
		if argv != "" {
			args = strings.Split(argv, "\x00")
		}
		p := &Parser{Options: fuzzOptions, Permute: permute}
		results, operands, err := p.Parse(args)

		for _, r := range results {
			if !inTable(r.Option) {
				t.Fatalf("result %+v is not in the table", r.Option)
			}
			if r.HasValue && !isSuffixOfSome(r.Value, args) {
				t.Fatalf("value %q is not from argv %q", r.Value, args)
			}
			if !r.HasValue && r.Value != "" {
				t.Fatalf("value %q without HasValue", r.Value)
			}
		}
		if !isSubsequence(operands, args) {
			t.Fatalf("operands %q are not a subsequence of argv %q", operands, args)
		}

		if !permute {
			// Permuting only changes what happens after an operand, and a
			// stop-mode error or success without operands meets none.
			pr, po, perr := (&Parser{Options: fuzzOptions, Permute: true}).Parse(args)
			if (err != nil || len(operands) == 0) && !sameOutcome(results, operands, err, pr, po, perr) {
				t.Fatalf("%q: stop mode gives %q %q %v, permute mode %q %q %v",
					args, show(results), operands, err, show(pr), po, perr)
			}
		}

		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %#v is not an *Error", err)
		}
		if operands != nil {
			t.Fatalf("operands %q with error", operands)
		}
		if !knownMessage(e.Msg) {
			t.Fatalf("unexpected message %q", e.Msg)
		}

		// The bad word is the last of the shortest argv prefix that fails
		// the same way; no later word matters.
		bad := 0
		for ; bad < len(args); bad++ {
			r, o, err2 := p.Parse(args[:bad+1])
			if sameOutcome(results, operands, err, r, o, err2) {
				break
			}
		}
		if bad == len(args) {
			t.Fatalf("%q: no argv prefix fails with %v", args, err)
		}
		// Everything before the bad word parses, and the error keeps those
		// results, plus any options clustered before a bad letter.
		before, _, err2 := p.Parse(args[:bad])
		if err2 != nil {
			t.Fatalf("%q: %q fails (%v) although %q is the bad word", args, args[:bad], err2, args[bad])
		}
		if len(before) > len(results) || !reflect.DeepEqual(show(before), show(results[:len(before)])) {
			t.Fatalf("%q: results %q do not start with %q", args, show(results), show(before))
		}
		// A missing argument is the only error that a further word can fix.
		if !strings.Contains(e.Msg, "requires an argument") {
			r, o, err3 := p.Parse(append(args[:len(args):len(args)], "-a"))
			if !sameOutcome(results, operands, err, r, o, err3) {
				t.Fatalf("%q: appending a word changed the error %v to %v", args, err, err3)
			}
		}
	})
}

func inTable(o Option) bool {
	for _, t := range fuzzOptions {
		if o == t {
			return true
		}
	}
	return false
}

func isSuffixOfSome(s string, words []string) bool {
	for _, w := range words {
		if strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}

func isSubsequence(sub, of []string) bool {
	i := 0
	for _, w := range of {
		if i < len(sub) && sub[i] == w {
			i++
		}
	}
	return i == len(sub)
}

func sameOutcome(r1 []Result, o1 []string, e1 error, r2 []Result, o2 []string, e2 error) bool {
	return reflect.DeepEqual(show(r1), show(r2)) &&
		reflect.DeepEqual(orEmpty(o1), orEmpty(o2)) &&
		(e1 == nil) == (e2 == nil) &&
		(e1 == nil || e1.Error() == e2.Error())
}

func knownMessage(msg string) bool {
	for _, prefix := range []string{
		"invalid option -- '",
		"option requires an argument -- '",
		"unrecognized option '--",
		"option '--",
	} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
