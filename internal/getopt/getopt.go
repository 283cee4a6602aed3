// Package getopt parses argv the way glibc's getopt_long does, message for
// message, so that nsx invoked as nsenter, lsns or unshare accepts and rejects
// exactly what util-linux accepts and rejects.
//
// util-linux programs report parse errors through glibc, whose wording and
// quirks (clusters, attached optional arguments, unique prefixes of long
// options, "--", stopping at the first non-option or permuting) users and
// scripts depend on. The standard library's flag package follows none of them.
package getopt

// ArgKind says whether an option takes an argument.
type ArgKind int

const (
	// NoArg options take no argument; "--all=x" is an error.
	NoArg ArgKind = iota
	// RequiredArg options take the rest of the cluster or the next word.
	RequiredArg
	// OptionalArg options take an argument only when attached: "-nFILE",
	// "--net=FILE". A separate word is never their argument.
	OptionalArg
)

// Option describes one option. Short is 0 for a long-only option and Long is
// "" for a short-only one.
type Option struct {
	Short rune
	Long  string
	Arg   ArgKind
}

// Result is one option found in argv, in argv order.
type Result struct {
	// Option is the matched entry of the parser's table (a copy).
	Option Option
	// Value is the argument, if HasValue.
	Value    string
	HasValue bool
}

// Error is a parse error. Msg is glibc's wording without the program prefix,
// e.g. "invalid option -- 'x'" or "option '--w=/x' is ambiguous;
// possibilities: '--wd' '--wdns'".
type Error struct {
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Parser holds an option table.
type Parser struct {
	Options []Option
	// Permute, when true, lets options follow non-options (glibc's default,
	// used by lsns); non-options are collected into the returned operands.
	// When false, parsing stops at the first non-option (optstring "+…",
	// used by nsenter and unshare).
	Permute bool
}

// Parse parses args (argv without argv[0]). It returns the options found in
// order and the operands: the words after the options (and, when permuting,
// the non-options met on the way, in order, followed by everything after
// "--"). If a parse error occurs, results holds every option before the bad
// one and err is an *Error; operands is then nil.
func (p *Parser) Parse(args []string) (results []Result, operands []string, err error) {
	return p.parse(args)
}
