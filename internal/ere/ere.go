// Package ere matches POSIX extended regular expressions (the `=~` and
// `!~` of lsns -Q filters): whether a pattern matches somewhere in a
// string, nothing more (regexec with REG_NOSUB).
//
// Why not package regexp: every nsx command runs the package inits of
// everything linked into the binary, and regexp/syntax with the unicode
// tables it references cost `nsx enter` tens of microseconds and page
// faults at each start, for a feature only `nsx ls -Q` uses. This package
// has no init and no tables.
//
// The language is glibc's ERE without REG_NEWLINE: literals, '.', bracket
// expressions with ranges, [:class:] (ASCII), [.c.] and [=c=] of one
// character, '^' and '$' anchors at the ends of the text, grouping, '|',
// and the repetitions '*', '+', '?', {n}, {n,} and {n,m}. '\' makes the
// next character literal (also outside ERE's metacharacters); inside a
// bracket expression it is an ordinary character. Matching walks a
// Thompson automaton over the runes of the text: time linear in the text,
// whatever the pattern.
package ere

import (
	"strings"
	"unicode/utf8"
)

// Error is a pattern that does not compile; Msg is glibc's regerror text.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// The messages of glibc's regerror for the mistakes this parser detects.
const (
	msgParen      = `Unmatched ( or \(`
	msgCloseParen = `Unmatched ) or \)`
	msgBracket    = "Unmatched [, [^, [:, [., or [="
	msgRepeat     = "Invalid preceding regular expression"
	msgBackslash  = "Trailing backslash"
	msgInterval   = "Invalid content of \\{\\}"
	msgRange      = "Invalid range end"
	msgClass      = "Invalid character class name"
	msgCollate    = "Invalid collation character"
	msgTooBig     = "Regular expression too big"
)

// maxRepeat bounds a {n,m} count and maxProgram the compiled automaton, so
// that a pattern cannot make nsx allocate without bound.
const (
	maxRepeat  = 1000
	maxProgram = 100000
)

// Regexp is a compiled pattern. It is safe for concurrent use.
type Regexp struct {
	prog []inst
}

type opcode uint8

const (
	opRune  opcode = iota // one rune in class (or any, for '.')
	opSplit               // continue at x and at y
	opJmp                 // continue at x
	opBOL                 // assert the start of the text
	opEOL                 // assert the end of the text
	opMatch
)

type inst struct {
	op   opcode
	x, y int
	cls  *charClass // opRune; nil matches any rune
}

// charClass is a set of runes: sorted, non-overlapping ranges, possibly
// negated.
type charClass struct {
	ranges  []runeRange
	negated bool
}

type runeRange struct{ lo, hi rune }

func (c *charClass) has(r rune) bool {
	in := false
	for _, rr := range c.ranges {
		if rr.lo <= r && r <= rr.hi {
			in = true
			break
		}
	}
	return in != c.negated
}

// Compile parses an ERE.
func Compile(pattern string) (*Regexp, error) {
	p := &parser{s: pattern}
	n, err := p.alternation()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.s) {
		// alternation stops only at the end or at a ')' it did not open.
		return nil, &Error{msgCloseParen}
	}
	c := &compiler{}
	c.emit(n)
	if c.tooBig {
		return nil, &Error{msgTooBig}
	}
	c.prog = append(c.prog, inst{op: opMatch})
	return &Regexp{prog: c.prog}, nil
}

// MatchString reports whether the pattern matches anywhere in s.
func (re *Regexp) MatchString(s string) bool {
	m := newMachine(len(re.prog))
	pos := 0
	for {
		// A new thread starts at every position: the search is unanchored.
		m.add(re.prog, 0, pos, len(s))
		if m.matched {
			return true
		}
		if pos >= len(s) {
			return false
		}
		r, w := utf8.DecodeRuneInString(s[pos:])
		m.step(re.prog, r)
		pos += w
		// Threads that consumed r continue at pos; follow their empty moves.
		m.closure(re.prog, pos, len(s))
		if m.matched {
			return true
		}
		if len(m.cur) == 0 && re.anchoredStart() {
			return false
		}
	}
}

// anchoredStart reports whether every match must begin at the start of the
// text (the program begins with '^'), so that a search may stop early.
func (re *Regexp) anchoredStart() bool { return re.prog[0].op == opBOL }

// machine holds the thread lists of the simulation: cur are the opRune
// instructions waiting for the next rune.
type machine struct {
	cur     []int
	mark    []uint32 // generation in which an instruction was added
	gen     uint32
	matched bool
	pending []int // instructions reached by consuming, to close over
	stack   []int
}

func newMachine(n int) *machine {
	return &machine{mark: make([]uint32, n), gen: 1}
}

// add starts a thread at pc at text position pos, merging it into cur.
func (m *machine) add(prog []inst, pc, pos, end int) {
	m.follow(prog, pc, pos, end, &m.cur)
}

// step moves every thread of cur over r into pending.
func (m *machine) step(prog []inst, r rune) {
	m.pending = m.pending[:0]
	for _, pc := range m.cur {
		in := &prog[pc]
		if in.cls == nil || in.cls.has(r) {
			m.pending = append(m.pending, pc+1)
		}
	}
	m.cur = m.cur[:0]
	m.gen++
}

// closure follows the empty moves of the threads in pending into cur.
func (m *machine) closure(prog []inst, pos, end int) {
	for _, pc := range m.pending {
		m.follow(prog, pc, pos, end, &m.cur)
	}
}

// follow adds pc and everything reachable from it without consuming a rune;
// opRune instructions go to list, opMatch sets matched.
func (m *machine) follow(prog []inst, pc, pos, end int, list *[]int) {
	m.stack = append(m.stack[:0], pc)
	for len(m.stack) > 0 {
		pc := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		if m.mark[pc] == m.gen {
			continue
		}
		m.mark[pc] = m.gen
		in := &prog[pc]
		switch in.op {
		case opRune:
			*list = append(*list, pc)
		case opMatch:
			m.matched = true
			return
		case opJmp:
			m.stack = append(m.stack, in.x)
		case opSplit:
			m.stack = append(m.stack, in.y, in.x)
		case opBOL:
			if pos == 0 {
				m.stack = append(m.stack, pc+1)
			}
		case opEOL:
			if pos == end {
				m.stack = append(m.stack, pc+1)
			}
		}
	}
}

// The syntax tree.
type nodeKind uint8

const (
	nEmpty nodeKind = iota
	nRune           // cls (nil: any rune)
	nBOL
	nEOL
	nConcat
	nAlt
	nRepeat // sub[0]{min,max}; max < 0 is unbounded
)

type node struct {
	kind     nodeKind
	cls      *charClass
	sub      []*node
	min, max int
}

type parser struct {
	s     string
	pos   int
	depth int
}

func (p *parser) alternation() (*node, error) {
	var alts []*node
	for {
		n, err := p.concatenation()
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
		if p.pos < len(p.s) && p.s[p.pos] == '|' {
			p.pos++
			continue
		}
		break
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &node{kind: nAlt, sub: alts}, nil
}

func (p *parser) concatenation() (*node, error) {
	var seq []*node
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '|' {
			break
		}
		if c == ')' {
			if p.depth == 0 {
				return nil, &Error{msgCloseParen}
			}
			break
		}
		atom, err := p.atom()
		if err != nil {
			return nil, err
		}
		for {
			min, max, ok, err := p.repetition()
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			atom = &node{kind: nRepeat, sub: []*node{atom}, min: min, max: max}
		}
		seq = append(seq, atom)
	}
	switch len(seq) {
	case 0:
		return &node{kind: nEmpty}, nil
	case 1:
		return seq[0], nil
	}
	return &node{kind: nConcat, sub: seq}, nil
}

// repetition parses a repetition operator at pos, if there is one.
func (p *parser) repetition() (min, max int, ok bool, err error) {
	if p.pos >= len(p.s) {
		return 0, 0, false, nil
	}
	switch p.s[p.pos] {
	case '*':
		p.pos++
		return 0, -1, true, nil
	case '+':
		p.pos++
		return 1, -1, true, nil
	case '?':
		p.pos++
		return 0, 1, true, nil
	case '{':
		min, max, n, valid := parseInterval(p.s[p.pos:])
		if n == 0 {
			// Not an interval: a literal '{', as Go's POSIX syntax reads it.
			return 0, 0, false, nil
		}
		if !valid {
			return 0, 0, false, &Error{msgInterval}
		}
		p.pos += n
		return min, max, true, nil
	}
	return 0, 0, false, nil
}

// parseInterval reads "{n}", "{n,}" or "{n,m}" at the start of s. n is the
// length read, 0 when s does not start with an interval; valid is false for
// one with bad bounds (m < n, or above maxRepeat).
func parseInterval(s string) (min, max, n int, valid bool) {
	i := 1
	num := func() (int, bool) {
		start, v := i, 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if v <= maxRepeat {
				v = v*10 + int(s[i]-'0')
			}
			i++
		}
		return v, i > start
	}
	min, ok := num()
	if !ok {
		return 0, 0, 0, false
	}
	max = min
	if i < len(s) && s[i] == ',' {
		i++
		var has bool
		if max, has = num(); !has {
			max = -1
		}
	}
	if i >= len(s) || s[i] != '}' {
		return 0, 0, 0, false
	}
	i++
	valid = min <= maxRepeat && max <= maxRepeat && (max < 0 || min <= max)
	return min, max, i, valid
}

func (p *parser) atom() (*node, error) {
	c := p.s[p.pos]
	switch c {
	case '(':
		p.pos++
		p.depth++
		n, err := p.alternation()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return nil, &Error{msgParen}
		}
		p.pos++
		p.depth--
		return n, nil
	case '[':
		p.pos++
		cls, err := p.bracket()
		if err != nil {
			return nil, err
		}
		return &node{kind: nRune, cls: cls}, nil
	case '.':
		p.pos++
		return &node{kind: nRune}, nil
	case '^':
		p.pos++
		return &node{kind: nBOL}, nil
	case '$':
		p.pos++
		return &node{kind: nEOL}, nil
	case '*', '+', '?':
		return nil, &Error{msgRepeat}
	case '{':
		if _, _, n, _ := parseInterval(p.s[p.pos:]); n > 0 {
			return nil, &Error{msgRepeat}
		}
		p.pos++
		return literal('{'), nil
	case '\\':
		if p.pos+1 >= len(p.s) {
			return nil, &Error{msgBackslash}
		}
		p.pos++
	}
	r, w := utf8.DecodeRuneInString(p.s[p.pos:])
	p.pos += w
	return literal(r), nil
}

func literal(r rune) *node {
	return &node{kind: nRune, cls: &charClass{ranges: []runeRange{{r, r}}}}
}

// bracket parses a bracket expression after its '['.
func (p *parser) bracket() (*charClass, error) {
	cls := &charClass{}
	if p.pos < len(p.s) && p.s[p.pos] == '^' {
		cls.negated = true
		p.pos++
	}
	first := true
	for {
		if p.pos >= len(p.s) {
			return nil, &Error{msgBracket}
		}
		if p.s[p.pos] == ']' && !first {
			p.pos++
			return cls, nil
		}
		first = false
		if strings.HasPrefix(p.s[p.pos:], "[:") {
			end := strings.Index(p.s[p.pos+2:], ":]")
			if end < 0 {
				return nil, &Error{msgBracket}
			}
			ranges, ok := namedClass(p.s[p.pos+2 : p.pos+2+end])
			if !ok {
				return nil, &Error{msgClass}
			}
			cls.ranges = append(cls.ranges, ranges...)
			p.pos += 2 + end + 2
			continue
		}
		lo, err := p.bracketChar()
		if err != nil {
			return nil, err
		}
		hi := lo
		// A '-' between two characters is a range; first or last it is
		// itself.
		if p.pos+1 < len(p.s) && p.s[p.pos] == '-' && p.s[p.pos+1] != ']' {
			p.pos++
			if hi, err = p.bracketChar(); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, &Error{msgRange}
			}
		}
		cls.ranges = append(cls.ranges, runeRange{lo, hi})
	}
}

// bracketChar reads one character of a bracket expression: a rune, or
// [.c.] / [=c=] naming one.
func (p *parser) bracketChar() (rune, error) {
	if strings.HasPrefix(p.s[p.pos:], "[.") || strings.HasPrefix(p.s[p.pos:], "[=") {
		delim := string(p.s[p.pos+1]) + "]"
		end := strings.Index(p.s[p.pos+2:], delim)
		if end < 0 {
			return 0, &Error{msgBracket}
		}
		name := p.s[p.pos+2 : p.pos+2+end]
		r, w := utf8.DecodeRuneInString(name)
		if name == "" || w != len(name) {
			return 0, &Error{msgCollate}
		}
		p.pos += 2 + end + 2
		return r, nil
	}
	r, w := utf8.DecodeRuneInString(p.s[p.pos:])
	p.pos += w
	return r, nil
}

// namedClass returns the ASCII ranges of a POSIX character class.
func namedClass(name string) ([]runeRange, bool) {
	switch name {
	case "alpha":
		return []runeRange{{'A', 'Z'}, {'a', 'z'}}, true
	case "digit":
		return []runeRange{{'0', '9'}}, true
	case "alnum":
		return []runeRange{{'0', '9'}, {'A', 'Z'}, {'a', 'z'}}, true
	case "upper":
		return []runeRange{{'A', 'Z'}}, true
	case "lower":
		return []runeRange{{'a', 'z'}}, true
	case "space":
		return []runeRange{{'\t', '\r'}, {' ', ' '}}, true
	case "blank":
		return []runeRange{{'\t', '\t'}, {' ', ' '}}, true
	case "punct":
		return []runeRange{{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}}, true
	case "print":
		return []runeRange{{' ', '~'}}, true
	case "graph":
		return []runeRange{{'!', '~'}}, true
	case "cntrl":
		return []runeRange{{0, 0x1f}, {0x7f, 0x7f}}, true
	case "xdigit":
		return []runeRange{{'0', '9'}, {'A', 'F'}, {'a', 'f'}}, true
	}
	return nil, false
}

// compiler turns the tree into the program of the automaton.
type compiler struct {
	prog   []inst
	tooBig bool
}

func (c *compiler) add(in inst) int {
	if len(c.prog) >= maxProgram {
		c.tooBig = true
	}
	c.prog = append(c.prog, in)
	return len(c.prog) - 1
}

func (c *compiler) emit(n *node) {
	if c.tooBig {
		return
	}
	switch n.kind {
	case nEmpty:
	case nRune:
		c.add(inst{op: opRune, cls: n.cls})
	case nBOL:
		c.add(inst{op: opBOL})
	case nEOL:
		c.add(inst{op: opEOL})
	case nConcat:
		for _, s := range n.sub {
			c.emit(s)
		}
	case nAlt:
		// split L1, next; L1: a; jmp end; next: split L2, ... ; last alt.
		var jumps []int
		for i, s := range n.sub {
			if i == len(n.sub)-1 {
				c.emit(s)
				break
			}
			split := c.add(inst{op: opSplit})
			c.prog[split].x = len(c.prog)
			c.emit(s)
			jumps = append(jumps, c.add(inst{op: opJmp}))
			if c.tooBig {
				return
			}
			c.prog[split].y = len(c.prog)
		}
		for _, j := range jumps {
			c.prog[j].x = len(c.prog)
		}
	case nRepeat:
		sub := n.sub[0]
		for i := 0; i < n.min; i++ {
			c.emit(sub)
		}
		if n.max < 0 {
			// loop: split body, end; body; jmp loop.
			loop := c.add(inst{op: opSplit})
			c.prog[loop].x = len(c.prog)
			c.emit(sub)
			c.add(inst{op: opJmp, x: loop})
			if c.tooBig {
				return
			}
			c.prog[loop].y = len(c.prog)
			return
		}
		// max-min optional copies, each one's split skipping to the end.
		var splits []int
		for i := n.min; i < n.max; i++ {
			s := c.add(inst{op: opSplit})
			c.prog[s].x = len(c.prog)
			splits = append(splits, s)
			c.emit(sub)
			if c.tooBig {
				return
			}
		}
		for _, s := range splits {
			c.prog[s].y = len(c.prog)
		}
	}
}
