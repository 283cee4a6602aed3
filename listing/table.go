package listing

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/nsxproject/nsx/internal/escape"
)

// Column describes one output column of a table.
type Column struct {
	// Name is the header; Key the JSON key (Name in lower case if empty).
	Name string
	Key  string
	// Right aligns the column to the right (numbers).
	Right bool
	// Hint is a minimal width that applies once the data is at least as
	// wide as the header (util-linux's width hint).
	Hint int
	// Trunc lets the column shrink to fit a terminal.
	Trunc bool
	// Number makes the JSON value a number instead of a string.
	Number bool
	Help   string
}

func (c *Column) key() string {
	if c.Key != "" {
		return c.Key
	}
	return strings.ToLower(c.Name)
}

// LineBreak separates the lines of a multi-line cell (NSFS with several
// mount points). It is a NUL because no string a cell shows can hold one: a
// newline in a command line is data, escaped like any control character.
const LineBreak = "\x00"

// Row is one line of a table; an empty cell is printed as nothing, or null
// in JSON. Children are the row's subtree in tree output.
type Row struct {
	Cells    []string
	Children []*Row
}

// Table is rows under columns, optionally a tree whose structure is drawn
// in the tree column.
type Table struct {
	Columns []Column
	Rows    []*Row
	// TreeColumn is the index of the column that shows the tree, or -1
	// for flat output (Rows' children are then ignored).
	TreeColumn int
	// Name is the JSON array's key ("namespaces").
	Name string
}

// Format selects how a table is printed.
type Format struct {
	JSON, Raw, NoHeadings bool
	// NoTrunc keeps truncatable columns whole even on a terminal.
	NoTrunc bool
	// TermWidth is the terminal's width when stdout is one, else 0.
	TermWidth int
}

const (
	treeBranch   = "├─"
	treeLast     = "└─"
	treeVertical = "│ "
	treeSpace    = "  "
)

// Write prints the table to w.
func (t *Table) Write(w io.Writer, f Format) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch {
	case f.JSON:
		t.writeJSON(bw)
	default:
		t.writeText(bw, f)
	}
	return bw.Flush()
}

// flatten walks the tree in order and returns the printed lines, with tree
// prefixes put in front of the tree column's text, and for each line what
// the tree column shows on its continuation lines.
func (t *Table) flatten() ([][]string, []string) {
	var out [][]string
	var cont []string
	if t.TreeColumn < 0 {
		for _, r := range t.Rows {
			out = append(out, r.Cells)
			cont = append(cont, "")
		}
		return out, cont
	}
	var walk func(rows []*Row, prefix string, depth int)
	walk = func(rows []*Row, prefix string, depth int) {
		for i, r := range rows {
			last := i == len(rows)-1
			cells := append([]string(nil), r.Cells...)
			var childPrefix string
			if depth > 0 {
				mark := treeBranch
				childPrefix = prefix + treeVertical
				if last {
					mark = treeLast
					childPrefix = prefix + treeSpace
				}
				cells[t.TreeColumn] = prefix + mark + cells[t.TreeColumn]
			}
			c := childPrefix
			if len(r.Children) > 0 {
				c += strings.TrimRight(treeVertical, " ")
			}
			out = append(out, cells)
			cont = append(cont, c)
			walk(r.Children, childPrefix, depth+1)
		}
	}
	walk(t.Rows, "", 0)
	return out, cont
}

func width(s string) int { return utf8.RuneCountInString(s) }

func (t *Table) writeText(w *bufio.Writer, f Format) {
	lines, cont := t.flatten()
	n := len(t.Columns)
	if f.Raw {
		if !f.NoHeadings {
			for i, c := range t.Columns {
				if i > 0 {
					w.WriteByte(' ')
				}
				w.WriteString(c.Name)
			}
			w.WriteByte('\n')
		}
		for _, cells := range lines {
			for i := range t.Columns {
				if i > 0 {
					w.WriteByte(' ')
				}
				writeRaw(w, strings.ReplaceAll(cells[i], LineBreak, ","))
			}
			w.WriteByte('\n')
		}
		return
	}
	// Multi-line cells become continuation lines; what a target controls
	// is escaped.
	var printed [][]string
	for li, cells := range lines {
		extra := 0
		copied := false
		for i, c := range cells {
			if k := strings.Count(c, LineBreak); k > extra {
				extra = k
			}
			if e := Escape(c); e != c {
				if !copied {
					// Flat lines share the rows' cells.
					cells = append([]string(nil), cells...)
					copied = true
				}
				cells[i] = e
			}
		}
		if extra == 0 {
			printed = append(printed, cells)
			continue
		}
		rows := make([][]string, extra+1)
		for j := range rows {
			rows[j] = make([]string, n)
		}
		for i, c := range cells {
			for j, part := range strings.Split(c, LineBreak) {
				rows[j][i] = part
			}
		}
		if t.TreeColumn >= 0 {
			for j := 1; j < len(rows); j++ {
				rows[j][t.TreeColumn] = cont[li]
			}
		}
		printed = append(printed, rows...)
	}
	widths := make([]int, n)
	for i, c := range t.Columns {
		data := 0
		for _, cells := range printed {
			if wd := width(cells[i]); wd > data {
				data = wd
			}
		}
		hw := width(c.Name)
		if f.NoHeadings {
			// lsns 2.41 sizes a column by its data and width hint alone
			// when no header is printed.
			hw = 0
		}
		switch {
		case data < hw:
			widths[i] = hw
		case c.Hint > 0 && data < c.Hint && hw < c.Hint:
			widths[i] = c.Hint
		default:
			widths[i] = data
		}
	}
	if f.TermWidth > 0 && !f.NoTrunc {
		total := n - 1
		for _, wd := range widths {
			total += wd
		}
		for i, c := range t.Columns {
			if total <= f.TermWidth {
				break
			}
			if !c.Trunc {
				continue
			}
			min := width(c.Name)
			nw := widths[i] - (total - f.TermWidth)
			if nw < min {
				nw = min
			}
			total -= widths[i] - nw
			widths[i] = nw
		}
	}
	right := func(i int) bool { return t.Columns[i].Right && i != t.TreeColumn }
	emit := func(cells []string) {
		for i := range t.Columns {
			s := cells[i]
			if wd := width(s); wd > widths[i] {
				s = cut(s, widths[i])
			}
			last := i == n-1
			pad := widths[i] - width(s)
			if last {
				if s != "" {
					if right(i) {
						writeSpaces(w, pad)
					}
					w.WriteString(s)
				}
				break
			}
			if right(i) {
				writeSpaces(w, pad)
				w.WriteString(s)
			} else {
				w.WriteString(s)
				writeSpaces(w, pad)
			}
			w.WriteByte(' ')
		}
		w.WriteByte('\n')
	}
	if !f.NoHeadings {
		hdr := make([]string, n)
		for i, c := range t.Columns {
			hdr[i] = c.Name
		}
		emit(hdr)
	}
	for _, cells := range printed {
		emit(cells)
	}
}

func cut(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

func writeSpaces(w *bufio.Writer, n int) {
	for ; n > 0; n-- {
		w.WriteByte(' ')
	}
}

const hexDigits = "0123456789abcdef"

// Escape returns s fit for a terminal, as util-linux's tables and procps
// show strings: control characters and bytes that are not UTF-8 become
// \xHH. Every text renderer of ls, ps and inspect passes
// the strings a target controls (command lines, names, hostnames, paths)
// through it; JSON has its own escaping. A multi-line cell's LineBreak is
// layout, not data, and is kept.
func Escape(s string) string {
	if !strings.Contains(s, LineBreak) {
		return escape.Terminal(s)
	}
	parts := strings.Split(s, LineBreak)
	for i, p := range parts {
		parts[i] = escape.Terminal(p)
	}
	return strings.Join(parts, LineBreak)
}

// writeRaw writes s with spaces, backslashes, control and non-ASCII bytes
// as \xHH escapes, the way util-linux's raw output does.
func writeRaw(w *bufio.Writer, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '\\' {
			w.WriteString(`\x`)
			w.WriteByte(hexDigits[c>>4])
			w.WriteByte(hexDigits[c&15])
			continue
		}
		w.WriteByte(c)
	}
}

func (t *Table) writeJSON(w *bufio.Writer) {
	w.WriteString("{\n   \"")
	w.WriteString(t.Name)
	w.WriteString("\": [\n")
	t.writeJSONRows(w, t.Rows, 6)
	w.WriteString("   ]\n}\n")
}

func indent(w *bufio.Writer, n int) { writeSpaces(w, n) }

func (t *Table) writeJSONRows(w *bufio.Writer, rows []*Row, ind int) {
	for i, r := range rows {
		if i == 0 {
			indent(w, ind)
			w.WriteString("{\n")
		} else {
			w.WriteString(",{\n")
		}
		for j, c := range t.Columns {
			if j > 0 {
				w.WriteString(",\n")
			}
			indent(w, ind+3)
			w.WriteByte('"')
			w.WriteString(c.key())
			w.WriteString("\": ")
			v := r.Cells[j]
			switch {
			case v == "":
				w.WriteString("null")
			case c.Number:
				w.WriteString(v)
			default:
				writeJSONString(w, strings.ReplaceAll(v, LineBreak, "\n"))
			}
		}
		if t.TreeColumn >= 0 && len(r.Children) > 0 {
			w.WriteString(",\n")
			indent(w, ind+3)
			w.WriteString("\"children\": [\n")
			t.writeJSONRows(w, r.Children, ind+6)
			indent(w, ind+3)
			w.WriteString("]")
		}
		w.WriteByte('\n')
		indent(w, ind)
		w.WriteByte('}')
	}
	// An empty array still has its (empty) line, as libsmartcols prints it.
	w.WriteByte('\n')
}

func writeJSONString(w *bufio.Writer, s string) {
	w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			w.WriteString(`\"`)
		case c == '\\':
			w.WriteString(`\\`)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '\t':
			w.WriteString(`\t`)
		case c < 0x20:
			w.WriteString(`\u00`)
			w.WriteByte(hexDigits[c>>4])
			w.WriteByte(hexDigits[c&15])
		default:
			w.WriteByte(c)
		}
	}
	w.WriteByte('"')
}
