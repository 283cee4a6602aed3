package getopt

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

func (p *Parser) parse(args []string) ([]Result, []string, error) {
	var results []Result
	var operands []string
	for i := 0; i < len(args); i++ {
		word := args[i]
		switch {
		case word == "--":
			return results, append(operands, args[i+1:]...), nil
		case len(word) < 2 || word[0] != '-':
			// A lone "-" is an operand: it conventionally names stdin.
			if !p.Permute {
				return results, append(operands, args[i:]...), nil
			}
			operands = append(operands, word)
		case word[1] == '-':
			r, next, err := p.long(args, i)
			if err != nil {
				return results, nil, err
			}
			results, i = append(results, r), next
		default:
			rs, next, err := p.cluster(args, i)
			results, i = append(results, rs...), next
			if err != nil {
				return results, nil, err
			}
		}
	}
	return results, operands, nil
}

// long parses the "--name[=value]" word args[i]. It returns the index of the
// last word it consumed, which is i+1 when a required value is the next word.
func (p *Parser) long(args []string, i int) (Result, int, error) {
	word := args[i]
	name, value, hasValue := strings.Cut(word[2:], "=")
	opt, err := p.lookupLong(word, name)
	if err != nil {
		return Result{}, i, err
	}
	switch opt.Arg {
	case NoArg:
		if hasValue {
			return Result{}, i, errorf("option '--%s' doesn't allow an argument", opt.Long)
		}
	case RequiredArg:
		if !hasValue {
			if i+1 == len(args) {
				return Result{}, i, errorf("option '--%s' requires an argument", opt.Long)
			}
			// glibc takes the next word whatever it looks like, even "--".
			i++
			value, hasValue = args[i], true
		}
	}
	return Result{Option: opt, Value: value, HasValue: hasValue}, i, nil
}

// lookupLong finds the option that name (the word without "--" and "=value")
// designates: an exact match, else the only option it is a prefix of.
func (p *Parser) lookupLong(word, name string) (Option, error) {
	for _, o := range p.Options {
		if o.Long != "" && o.Long == name {
			return o, nil
		}
	}
	found := -1
	var ambiguous []bool
	for i, o := range p.Options {
		if o.Long == "" || !strings.HasPrefix(o.Long, name) {
			continue
		}
		switch {
		case found < 0:
			found = i
		case !sameEffect(p.Options[found], o):
			// Like glibc, every candidate is compared with the first one
			// only, so a later alias of the first is never listed.
			if ambiguous == nil {
				ambiguous = make([]bool, len(p.Options))
				ambiguous[found] = true
			}
			ambiguous[i] = true
		}
	}
	if ambiguous != nil {
		var b strings.Builder
		b.WriteString("option '" + word + "' is ambiguous; possibilities:")
		for i, amb := range ambiguous {
			if amb {
				b.WriteString(" '--" + p.Options[i].Long + "'")
			}
		}
		return Option{}, &Error{Msg: b.String()}
	}
	if found < 0 {
		return Option{}, errorf("unrecognized option '%s'", word)
	}
	return p.Options[found], nil
}

// sameEffect reports whether glibc would see a and b as aliases: it forgives
// a prefix matching several long options when they have the same argument
// kind and return value. util-linux gives long-only options distinct values,
// so two options without a short letter are never aliases.
func sameEffect(a, b Option) bool {
	return a.Short != 0 && a.Short == b.Short && a.Arg == b.Arg
}

// cluster parses the short-option word args[i] ("-abc", "-tVALUE"). On error
// it still returns the options that preceded the bad letter.
func (p *Parser) cluster(args []string, i int) ([]Result, int, error) {
	word := args[i]
	var results []Result
	for j := 1; j < len(word); {
		r, size := utf8.DecodeRuneInString(word[j:])
		// glibc works on bytes and prints the offending byte; for valid
		// UTF-8 we print the whole character instead, and for an invalid
		// byte the byte itself, which is what glibc prints.
		letter := word[j : j+size]
		j += size
		opt, ok := p.lookupShort(r, size)
		if !ok {
			return results, i, errorf("invalid option -- '%s'", letter)
		}
		res := Result{Option: opt}
		switch opt.Arg {
		case OptionalArg:
			if j < len(word) {
				res.Value, res.HasValue = word[j:], true
			}
			return append(results, res), i, nil
		case RequiredArg:
			switch {
			case j < len(word):
				res.Value = word[j:]
			case i+1 < len(args):
				i++
				res.Value = args[i]
			default:
				return results, i, errorf("option requires an argument -- '%s'", letter)
			}
			res.HasValue = true
			return append(results, res), i, nil
		}
		results = append(results, res)
	}
	return results, i, nil
}

func (p *Parser) lookupShort(r rune, size int) (Option, bool) {
	if r == 0 || (r == utf8.RuneError && size == 1) {
		return Option{}, false
	}
	for _, o := range p.Options {
		if o.Short == r {
			return o, true
		}
	}
	return Option{}, false
}

func errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}
