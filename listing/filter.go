package listing

// The -Q/--filter expressions of lsns 2.41 (libsmartcols's filter language),
// reimplemented from its manual and from what util-linux 2.41.5 prints:
//
//	expr := expr (&& | || | and | or) expr      one level, left to right
//	      | expr (== != < <= > >= =~ !~ eq ne lt le gt ge) expr   tighter
//	      | (! | not) expr                        tightest
//	      | ( expr ) | COLUMN | NUMBER | FLOAT | "string" | 'string' | true | false
//
// Column names are case-insensitive; a bare value is true when it is
// non-zero or non-empty. Syntax errors use bison's wording, as lsns does.

import (
	"errors"
	"strconv"
	"strings"
	"syscall"

	"github.com/nsxproject/nsx/internal/ere"
)

// FilterSyntaxError is an expression lsns refuses to parse; its text is what
// follows `failed to parse "EXPR": `.
type FilterSyntaxError struct{ Msg string }

func (e *FilterSyntaxError) Error() string { return e.Msg }

// FilterColumnError lists the column names of an expression that name no
// column; lsns prints one "unknown column: X" line for each, then "failed to
// initialize filter".
type FilterColumnError struct{ Names []string }

func (e *FilterColumnError) Error() string {
	return "unknown column: " + strings.Join(e.Names, ", ")
}

// ErrFilterApply is a comparison that cannot be made, such as a text column
// compared with a number. It wraps syscall.EINVAL, whose text lsns prints
// ("failed to apply filter: Invalid argument").
//
// It is a static value, not fmt.Errorf's: every nsx command runs this
// package's init, and a formatted error there costs `nsx enter` fmt's cold
// start-up.
var ErrFilterApply error = &wrappedErrno{"listing: filter cannot be applied: invalid argument", syscall.EINVAL}

// wrappedErrno is an error with its own text that wraps an errno.
type wrappedErrno struct {
	msg string
	err syscall.Errno
}

func (e *wrappedErrno) Error() string { return e.msg }
func (e *wrappedErrno) Unwrap() error { return e.err }

// Filter is a parsed -Q expression.
type Filter struct {
	root *fnode
	// Stray holds characters the expression's scanner did not recognise;
	// lsns's scanner echoes them to standard output.
	Stray []byte
	names []string // column names as written, one per occurrence
}

type tokKind int

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tQuote
	tAnd
	tOr
	tNeg
	tEQ
	tNE
	tLE
	tLT
	tGE
	tGT
	tREG
	tNREG
	tTrue
	tFalse
	tFloat
	tNumber
	tString
	tHolder
)

// tokName is bison's name for each token in "unexpected X".
var tokName = [...]string{
	tEOF: "end of file", tLParen: "'('", tRParen: "')'", tQuote: "invalid token",
	tAnd: "AND", tOr: "OR", tNeg: "NEG", tEQ: "EQ", tNE: "NE", tLE: "LE",
	tLT: "LT", tGE: "GE", tGT: "GT", tREG: "REG", tNREG: "NREG",
	tTrue: "TRUE", tFalse: "FALSE", tFloat: "FLOAT", tNumber: "NUMBER",
	tString: "STRING", tHolder: "HOLDER",
}

type token struct {
	kind tokKind
	text string
}

// filterWord returns the token of a keyword of the filter language. A
// switch, not a map: a package-level map is built by the init every nsx
// command runs.
func filterWord(w string) (tokKind, bool) {
	switch w {
	case "and", "AND":
		return tAnd, true
	case "or", "OR":
		return tOr, true
	case "not", "NOT":
		return tNeg, true
	case "eq", "EQ":
		return tEQ, true
	case "ne", "NE":
		return tNE, true
	case "le", "LE":
		return tLE, true
	case "lt", "LT":
		return tLT, true
	case "ge", "GE":
		return tGE, true
	case "gt", "GT":
		return tGT, true
	case "true", "TRUE":
		return tTrue, true
	case "false", "FALSE":
		return tFalse, true
	}
	return 0, false
}

var filterOps = []struct {
	text string
	kind tokKind
}{
	// Longest first.
	{"&&", tAnd}, {"||", tOr}, {"==", tEQ}, {"!=", tNE}, {"<=", tLE},
	{">=", tGE}, {"=~", tREG}, {"!~", tNREG}, {"!", tNeg}, {"<", tLT},
	{">", tGT}, {"(", tLParen}, {")", tRParen},
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIDChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || strings.IndexByte("_.%:/-", c) >= 0
}

// scan splits s into tokens; unknown characters go to stray.
func scanFilter(s string) (toks []token, stray []byte) {
	i := 0
next:
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
			continue
		case isAlpha(c):
			j := i + 1
			for j < len(s) && isIDChar(s[j]) {
				j++
			}
			w := s[i:j]
			if k, ok := filterWord(w); ok {
				toks = append(toks, token{k, w})
			} else {
				toks = append(toks, token{tHolder, w})
			}
			i = j
			continue
		case isDigit(c):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
				j++
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				toks = append(toks, token{tFloat, s[i:j]})
			} else {
				toks = append(toks, token{tNumber, s[i:j]})
			}
			i = j
			continue
		case c == '"' || c == '\'':
			if end := strings.IndexAny(s[i+1:], string(c)+"\n"); end >= 0 && s[i+1+end] == c {
				toks = append(toks, token{tString, s[i+1 : i+1+end]})
				i += end + 2
				continue
			}
			if c == '\'' {
				toks = append(toks, token{tQuote, "'"})
				i++
				continue
			}
		}
		for _, op := range filterOps {
			if strings.HasPrefix(s[i:], op.text) {
				toks = append(toks, token{op.kind, op.text})
				i += len(op.text)
				continue next
			}
		}
		stray = append(stray, c)
		i++
	}
	return append(toks, token{kind: tEOF}), stray
}

type fnodeKind int

const (
	nParam fnodeKind = iota
	nNot
	nAnd
	nOr
	nCmp
)

type fnode struct {
	kind        fnodeKind
	op          tokKind // comparison operator of nCmp
	left, right *fnode
	val         fval        // literal of nParam when holder < 0
	holder      int         // index into Filter.names, or -1
	re          *ere.Regexp // compiled right side of =~ and !~
}

type valType int

// Ranks: a comparison converts both sides to the higher one.
const (
	vString valType = iota
	vNumber
	vFloat
	vBool
)

type fval struct {
	typ  valType
	null bool // an empty cell
	s    string
	n    uint64
	f    float64
	b    bool
	// cell marks a column's value: a failed conversion of a cell is an
	// error, of a literal only a mismatch.
	cell bool
}

type filterParser struct {
	toks  []token
	pos   int
	depth int
	f     *Filter
}

// ParseFilter parses a -Q expression. With an error it still returns the
// Filter, whose Stray the caller may print as lsns does.
func ParseFilter(expr string) (*Filter, error) {
	toks, stray := scanFilter(expr)
	f := &Filter{Stray: stray}
	p := &filterParser{toks: toks, f: f}
	if expr == "" {
		// lsns takes an empty -Q as no filter; blanks alone are an error.
		f.root = &fnode{kind: nParam, holder: -1, val: fval{typ: vBool, b: true}}
		return f, nil
	}
	// On errors f is returned too, for its Stray.
	root, err := p.expr()
	if err != nil {
		return f, err
	}
	if t := p.peek(); t.kind != tEOF {
		return f, p.unexpected(t, true)
	}
	f.root = root
	return f, nil
}

func (p *filterParser) peek() token { return p.toks[p.pos] }
func (p *filterParser) take() token { t := p.toks[p.pos]; p.pos++; return t }

func (p *filterParser) unexpected(t token, complete bool) error {
	msg := "syntax error, unexpected " + tokName[t.kind]
	if complete && p.depth == 0 && t.kind != tEOF {
		msg += ", expecting end of file"
	}
	return &FilterSyntaxError{msg}
}

func isCmp(k tokKind) bool { return k >= tEQ && k <= tNREG }

func (p *filterParser) expr() (*fnode, error) {
	left, err := p.comparison()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tAnd && t.kind != tOr {
			return left, nil
		}
		p.take()
		right, err := p.comparison()
		if err != nil {
			return nil, err
		}
		k := nAnd
		if t.kind == tOr {
			k = nOr
		}
		left = &fnode{kind: k, left: left, right: right}
	}
}

func (p *filterParser) comparison() (*fnode, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for isCmp(p.peek().kind) {
		op := p.take().kind
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		n := &fnode{kind: nCmp, op: op, left: left, right: right}
		if op == tREG || op == tNREG {
			if right.kind != nParam || right.holder >= 0 || right.val.typ != vString {
				// libsmartcols compiles only a string literal; it reports
				// anything else with a null message.
				return nil, &FilterSyntaxError{"(null)"}
			}
			re, err := compileERE(right.val.s)
			if err != nil {
				return nil, err
			}
			n.re = re
		}
		left = n
	}
	return left, nil
}

func (p *filterParser) unary() (*fnode, error) {
	t := p.take()
	switch t.kind {
	case tNeg:
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &fnode{kind: nNot, left: x}, nil
	case tLParen:
		p.depth++
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c := p.take(); c.kind != tRParen {
			return nil, p.unexpected(c, true)
		}
		p.depth--
		return x, nil
	case tHolder:
		// Each occurrence is bound (and reported) on its own, as lsns does.
		p.f.names = append(p.f.names, t.text)
		return &fnode{kind: nParam, holder: len(p.f.names) - 1}, nil
	case tNumber:
		n, err := strconv.ParseUint(t.text, 10, 64)
		if err != nil {
			n = ^uint64(0)
		}
		return &fnode{kind: nParam, holder: -1, val: fval{typ: vNumber, n: n}}, nil
	case tFloat:
		x, _ := strconv.ParseFloat(t.text, 64)
		return &fnode{kind: nParam, holder: -1, val: fval{typ: vFloat, f: x}}, nil
	case tString:
		return &fnode{kind: nParam, holder: -1, val: fval{typ: vString, s: t.text}}, nil
	case tTrue, tFalse:
		return &fnode{kind: nParam, holder: -1, val: fval{typ: vBool, b: t.kind == tTrue}}, nil
	}
	return nil, p.unexpected(t, false)
}

// compileERE compiles a POSIX extended regular expression; errors carry
// glibc's messages. internal/ere, not package regexp: regexp's inits (and
// the unicode tables they reference) would run at every nsx start.
func compileERE(s string) (*ere.Regexp, error) {
	re, err := ere.Compile(s)
	if err != nil {
		msg := "Invalid regular expression"
		var ee *ere.Error
		if errors.As(err, &ee) {
			msg = ee.Msg
		}
		return nil, &FilterSyntaxError{msg}
	}
	return re, nil
}

// Bind resolves the filter's column names with lookup, which returns the
// column's index or -1.
func (f *Filter) Bind(lookup func(name string) int) ([]int, error) {
	idx := make([]int, len(f.names))
	var bad []string
	for i, n := range f.names {
		idx[i] = lookup(n)
		if idx[i] < 0 {
			bad = append(bad, n)
		}
	}
	if bad != nil {
		return nil, &FilterColumnError{bad}
	}
	return idx, nil
}

// Match evaluates the filter on one row; cell(i) is the value of the
// filter's i-th name (in Names order) and whether that column is a number.
func (f *Filter) Match(cell func(i int) (string, bool)) (bool, error) {
	v, err := f.eval(f.root, cell)
	if err != nil {
		return false, err
	}
	return truth(v), nil
}

func truth(v fval) bool {
	if v.null {
		return false
	}
	switch v.typ {
	case vNumber:
		return v.n != 0
	case vFloat:
		return v.f != 0
	case vBool:
		return v.b
	}
	return v.s != ""
}

func (f *Filter) eval(n *fnode, cell func(int) (string, bool)) (fval, error) {
	switch n.kind {
	case nParam:
		if n.holder < 0 {
			return n.val, nil
		}
		s, num := cell(n.holder)
		v := fval{typ: vString, s: s, null: s == "", cell: true}
		if num && s != "" {
			x, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return v, ErrFilterApply
			}
			v = fval{typ: vNumber, n: x, cell: true}
		} else if num {
			v.typ = vNumber
		}
		return v, nil
	case nNot:
		x, err := f.eval(n.left, cell)
		return fval{typ: vBool, b: !truth(x)}, err
	case nAnd, nOr:
		l, err := f.eval(n.left, cell)
		if err != nil {
			return l, err
		}
		r, err := f.eval(n.right, cell)
		if err != nil {
			return r, err
		}
		if n.kind == nAnd {
			return fval{typ: vBool, b: truth(l) && truth(r)}, nil
		}
		return fval{typ: vBool, b: truth(l) || truth(r)}, nil
	}
	l, err := f.eval(n.left, cell)
	if err != nil {
		return l, err
	}
	if n.re != nil {
		m := n.re.MatchString(asString(l))
		return fval{typ: vBool, b: m == (n.op == tREG)}, nil
	}
	r, err := f.eval(n.right, cell)
	if err != nil {
		return r, err
	}
	b, err := compare(n.op, l, r)
	return fval{typ: vBool, b: b}, err
}

func asString(v fval) string {
	if v.null {
		return ""
	}
	switch v.typ {
	case vNumber:
		return strconv.FormatUint(v.n, 10)
	case vFloat:
		return strconv.FormatFloat(v.f, 'f', -1, 64)
	case vBool:
		if v.b {
			return "true"
		}
		return "false"
	}
	return v.s
}

// convert returns v as type t; ok is false when a literal does not convert,
// err set when a cell does not.
func convert(v fval, t valType) (fval, bool, error) {
	if v.typ == t {
		return v, true, nil
	}
	out := fval{typ: t, null: v.null, cell: v.cell}
	switch t {
	case vNumber, vFloat:
		if v.null {
			return out, true, nil
		}
		var x float64
		var n uint64
		switch v.typ {
		case vString:
			s := strings.TrimLeft(v.s, " \t\n")
			var err error
			if t == vNumber {
				n, err = strconv.ParseUint(s, 10, 64)
				x = float64(n)
			} else {
				x, err = strconv.ParseFloat(s, 64)
			}
			if err != nil {
				if v.cell {
					return out, false, ErrFilterApply
				}
				return out, false, nil
			}
		case vNumber:
			n, x = v.n, float64(v.n)
		}
		out.n, out.f = n, x
		return out, true, nil
	case vBool:
		if v.null {
			// An empty number cell is false; empty text is neither.
			out.null = false
			return out, v.typ != vString, nil
		}
		switch v.typ {
		case vNumber:
			out.b = v.n != 0
		case vFloat:
			out.b = v.f != 0
		case vString:
			switch v.s {
			case "true", "1":
				out.b = true
			case "false", "0":
			default:
				return out, false, nil
			}
		}
		return out, true, nil
	}
	return out, false, nil
}

func compare(op tokKind, l, r fval) (bool, error) {
	t := l.typ
	if r.typ > t {
		t = r.typ
	}
	if t == vNumber || t == vFloat {
		if (l.typ == vString && l.cell && !l.null) || (r.typ == vString && r.cell && !r.null) {
			// A text column compared with a number.
			return false, ErrFilterApply
		}
	}
	lc, lok, err := convert(l, t)
	if err != nil {
		return false, err
	}
	rc, rok, err := convert(r, t)
	if err != nil {
		return false, err
	}
	if !lok || !rok {
		if t == vBool {
			return false, nil
		}
		// A literal that is no number: compare as text.
		return cmpResult(op, strings.Compare(asString(l), asString(r)), l.null, r.null), nil
	}
	if t == vNumber || t == vFloat {
		if lc.null || rc.null {
			return false, nil
		}
	}
	var c int
	switch t {
	case vNumber:
		c = cmp3(lc.n < rc.n, lc.n > rc.n)
	case vFloat:
		c = cmp3(lc.f < rc.f, lc.f > rc.f)
	case vBool:
		c = cmp3(!lc.b && rc.b, lc.b && !rc.b)
	default:
		return cmpResult(op, strings.Compare(lc.s, rc.s), lc.null, rc.null), nil
	}
	return cmpResult(op, c, false, false), nil
}

func cmp3(less, more bool) int {
	switch {
	case less:
		return -1
	case more:
		return 1
	}
	return 0
}

// cmpResult applies op to a three-way comparison; an empty text cell sorts
// before every string and equals only another empty cell.
func cmpResult(op tokKind, c int, lnull, rnull bool) bool {
	if lnull || rnull {
		switch {
		case lnull && rnull:
			c = 0
		case lnull:
			c = -1
		default:
			c = 1
		}
	}
	switch op {
	case tEQ:
		return c == 0
	case tNE:
		return c != 0
	case tLT:
		return c < 0
	case tLE:
		return c <= 0
	case tGT:
		return c > 0
	case tGE:
		return c >= 0
	}
	return false
}
