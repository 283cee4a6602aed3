package getopt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nsxproject/nsx/internal/testutil"
)

// nsenterOptions is util-linux 2.38.1 nsenter's table, in its longopts order
// (the order glibc lists ambiguous candidates in).
var nsenterOptions = []Option{
	{'a', "all", NoArg},
	{'h', "help", NoArg},
	{'V', "version", NoArg},
	{'t', "target", RequiredArg},
	{'m', "mount", OptionalArg},
	{'u', "uts", OptionalArg},
	{'i', "ipc", OptionalArg},
	{'n', "net", OptionalArg},
	{'p', "pid", OptionalArg},
	{'U', "user", OptionalArg},
	{'C', "cgroup", OptionalArg},
	{'T', "time", OptionalArg},
	{'S', "setuid", RequiredArg},
	{'G', "setgid", RequiredArg},
	{'r', "root", OptionalArg},
	{'w', "wd", OptionalArg},
	// 2.38.1 declares --wdns with an optional argument but -W ("W:") with
	// a required one, so they need two entries here.
	{0, "wdns", OptionalArg},
	{'F', "no-fork", NoArg},
	{0, "preserve-credentials", NoArg},
	{'Z', "follow-context", NoArg},
	{'W', "", RequiredArg},
}

// aliasOptions has long options sharing a short letter and argument kind,
// which glibc does not report as ambiguous with each other.
var aliasOptions = []Option{
	{'w', "wd", OptionalArg},
	{'w', "wdx", OptionalArg},
	{'W', "wdns", RequiredArg},
	{'w', "wdy", OptionalArg},
	{'z', "zap", NoArg},
	{'z', "zapper", NoArg},
	{'y', "zoo", NoArg},
	{'q', "quiet", NoArg},
	{'q', "quietly", RequiredArg},
	{0, "foo", NoArg},
	{0, "foobar", NoArg},
	{0, "dup", NoArg},
	{0, "dup", RequiredArg},
}

// lsnsOptions is a permuting table like lsns's.
var lsnsOptions = []Option{
	{'J', "json", NoArg},
	{'l', "list", NoArg},
	{'n', "noheadings", NoArg},
	{'o', "output", RequiredArg},
	{0, "output-all", NoArg},
	{'p', "task", RequiredArg},
	{'c', "cee", OptionalArg},
}

// show renders results compactly: the entry's long name (or short letter)
// and "=value" when there is a value.
func show(results []Result) []string {
	out := []string{}
	for _, r := range results {
		s := "--" + r.Option.Long
		if r.Option.Long == "" {
			s = "-" + string(r.Option.Short)
		}
		if r.HasValue {
			s += "=" + r.Value
		}
		out = append(out, s)
	}
	return out
}

func TestParse(t *testing.T) {
	nsenter := &Parser{Options: nsenterOptions}
	alias := &Parser{Options: aliasOptions}
	lsns := &Parser{Options: lsnsOptions, Permute: true}
	allNsenter := "option '--=x' is ambiguous; possibilities: '--all' '--help' '--version' '--target' " +
		"'--mount' '--uts' '--ipc' '--net' '--pid' '--user' '--cgroup' '--time' '--setuid' '--setgid' " +
		"'--root' '--wd' '--wdns' '--no-fork' '--preserve-credentials' '--follow-context'"
	tests := []struct {
		name     string
		p        *Parser
		args     []string
		want     []string // show(results)
		operands []string
		err      string
	}{
		{"empty", nsenter, nil, nil, nil, ""},
		{"cluster", nsenter, []string{"-aFZ"}, []string{"--all", "--no-fork", "--follow-context"}, nil, ""},
		{"required attached", nsenter, []string{"-t123"}, []string{"--target=123"}, nil, ""},
		{"required next word", nsenter, []string{"-t", "123", "sh"}, []string{"--target=123"}, []string{"sh"}, ""},
		{"required ends cluster", nsenter, []string{"-at1F"}, []string{"--all", "--target=1F"}, nil, ""},
		{"required takes --", nsenter, []string{"-t", "--", "x"}, []string{"--target=--"}, []string{"x"}, ""},
		{"required takes empty word", nsenter, []string{"-t", ""}, []string{"--target="}, nil, ""},
		{"required takes option-like word", nsenter, []string{"-S", "-a"}, []string{"--setuid=-a"}, nil, ""},
		{"optional attached", nsenter, []string{"-n/run/netns/x"}, []string{"--net=/run/netns/x"}, nil, ""},
		{"optional takes rest of cluster", nsenter, []string{"-nt", "123"}, []string{"--net=t"}, []string{"123"}, ""},
		{"optional never takes next word", nsenter, []string{"-n", "x"}, []string{"--net"}, []string{"x"}, ""},
		{"optional at end of cluster", nsenter, []string{"-an", "-m"}, []string{"--all", "--net", "--mount"}, nil, ""},
		{"long", nsenter, []string{"--all", "--no-fork"}, []string{"--all", "--no-fork"}, nil, ""},
		{"long required =", nsenter, []string{"--target=1"}, []string{"--target=1"}, nil, ""},
		{"long required next word", nsenter, []string{"--target", "1", "x"}, []string{"--target=1"}, []string{"x"}, ""},
		{"long required empty =", nsenter, []string{"--target=", "x"}, []string{"--target="}, []string{"x"}, ""},
		{"long required value with =", nsenter, []string{"--target=a=b"}, []string{"--target=a=b"}, nil, ""},
		{"long optional =", nsenter, []string{"--net=/x"}, []string{"--net=/x"}, nil, ""},
		{"long optional empty =", nsenter, []string{"--net="}, []string{"--net="}, nil, ""},
		{"long optional never takes next word", nsenter, []string{"--net", "/x"}, []string{"--net"}, []string{"/x"}, ""},
		{"prefix", nsenter, []string{"--targ=1", "--ne", "--pre"}, []string{"--target=1", "--net", "--preserve-credentials"}, nil, ""},
		{"prefix required next word", nsenter, []string{"--ta", "1"}, []string{"--target=1"}, nil, ""},
		{"exact beats longer", nsenter, []string{"--wd", "--wd=/x"}, []string{"--wd", "--wd=/x"}, nil, ""},
		{"long-only", nsenter, []string{"--wdns=/x", "--wdns"}, []string{"--wdns=/x", "--wdns"}, nil, ""},
		{"short-only", nsenter, []string{"-W/x", "-W", "y"}, []string{"-W=/x", "-W=y"}, nil, ""},
		{"double dash", nsenter, []string{"-a", "--", "-F"}, []string{"--all"}, []string{"-F"}, ""},
		{"double dash last", nsenter, []string{"-a", "--"}, []string{"--all"}, nil, ""},
		{"second double dash is operand", nsenter, []string{"--", "--"}, nil, []string{"--"}, ""},
		{"lone dash", nsenter, []string{"-", "-a"}, nil, []string{"-", "-a"}, ""},
		{"empty word", nsenter, []string{"", "-a"}, nil, []string{"", "-a"}, ""},
		{"stop at operand", nsenter, []string{"-a", "sh", "-c", "--", "x"}, []string{"--all"}, []string{"sh", "-c", "--", "x"}, ""},

		{"invalid", nsenter, []string{"-x"}, nil, nil, "invalid option -- 'x'"},
		{"invalid in cluster", nsenter, []string{"-m", "-aFx", "-u"}, []string{"--mount", "--all", "--no-fork"}, nil, "invalid option -- 'x'"},
		{"invalid dash in cluster", nsenter, []string{"-a-"}, []string{"--all"}, nil, "invalid option -- '-'"},
		{"invalid colon", nsenter, []string{"-:"}, nil, nil, "invalid option -- ':'"},
		{"invalid quote", nsenter, []string{"-'"}, nil, nil, "invalid option -- '''"},
		{"invalid non-ASCII", nsenter, []string{"-é"}, nil, nil, "invalid option -- 'é'"},
		{"invalid byte", nsenter, []string{"-\xff"}, nil, nil, "invalid option -- '\xff'"},
		{"invalid NUL", nsenter, []string{"-\x00"}, nil, nil, "invalid option -- '\x00'"},
		{"short requires", nsenter, []string{"-a", "-t"}, []string{"--all"}, nil, "option requires an argument -- 't'"},
		{"short requires in cluster", nsenter, []string{"-aS"}, []string{"--all"}, nil, "option requires an argument -- 'S'"},
		{"short-only requires", nsenter, []string{"-W"}, nil, nil, "option requires an argument -- 'W'"},
		{"unrecognized", nsenter, []string{"-a", "--foo=bar", "-F"}, []string{"--all"}, nil, "unrecognized option '--foo=bar'"},
		{"unrecognized triple dash", nsenter, []string{"---x"}, nil, nil, "unrecognized option '---x'"},
		{"unrecognized longer than name", nsenter, []string{"--allx"}, nil, nil, "unrecognized option '--allx'"},
		{"no argument allowed", nsenter, []string{"--all=1"}, nil, nil, "option '--all' doesn't allow an argument"},
		{"no argument allowed, prefix", nsenter, []string{"--pre="}, nil, nil, "option '--preserve-credentials' doesn't allow an argument"},
		{"long requires", nsenter, []string{"--target"}, nil, nil, "option '--target' requires an argument"},
		{"long requires, prefix", nsenter, []string{"--setu"}, nil, nil, "option '--setuid' requires an argument"},
		{"ambiguous", nsenter, []string{"-a", "--w=/x"}, []string{"--all"}, nil, "option '--w=/x' is ambiguous; possibilities: '--wd' '--wdns'"},
		{"ambiguous short prefix", nsenter, []string{"--u"}, nil, nil, "option '--u' is ambiguous; possibilities: '--uts' '--user'"},
		{"ambiguous empty name", nsenter, []string{"--=x"}, nil, nil, allNsenter},
		{"error after operand is an operand", nsenter, []string{"x", "-?"}, nil, []string{"x", "-?"}, ""},

		{"alias exact", alias, []string{"--wdx", "--zapper"}, []string{"--wdx", "--zapper"}, nil, ""},
		{"alias prefix takes first", alias, []string{"--wdn=x", "--za", "--zapp"}, []string{"--wdns=x", "--zap", "--zapper"}, nil, ""},
		{"alias not listed", alias, []string{"--w=1"}, nil, nil, "option '--w=1' is ambiguous; possibilities: '--wd' '--wdns'"},
		{"alias ambiguous", alias, []string{"--z"}, nil, nil, "option '--z' is ambiguous; possibilities: '--zap' '--zoo'"},
		{"same letter other kind", alias, []string{"--qu"}, nil, nil, "option '--qu' is ambiguous; possibilities: '--quiet' '--quietly'"},
		{"long-only never aliases", alias, []string{"--fo"}, nil, nil, "option '--fo' is ambiguous; possibilities: '--foo' '--foobar'"},
		{"duplicate exact takes first", alias, []string{"--dup"}, []string{"--dup"}, nil, ""},
		{"duplicate prefix", alias, []string{"--du"}, nil, nil, "option '--du' is ambiguous; possibilities: '--dup' '--dup'"},

		{"permute", lsns, []string{"x", "-J", "y", "--list"}, []string{"--json", "--list"}, []string{"x", "y"}, ""},
		{"permute required", lsns, []string{"x", "-o", "y", "z", "--task", "1"}, []string{"--output=y", "--task=1"}, []string{"x", "z"}, ""},
		{"permute double dash", lsns, []string{"x", "-J", "--", "-l", "y"}, []string{"--json"}, []string{"x", "-l", "y"}, ""},
		{"permute lone dash", lsns, []string{"-", "-J"}, []string{"--json"}, []string{"-"}, ""},
		{"permute optional", lsns, []string{"-c", "x", "-cy"}, []string{"--cee", "--cee=y"}, []string{"x"}, ""},
		{"permute error", lsns, []string{"x", "-J", "y", "-x"}, []string{"--json"}, nil, "invalid option -- 'x'"},
		{"permute exact beats longer", lsns, []string{"--output=a", "--output-all"}, []string{"--output=a", "--output-all"}, nil, ""},
		{"permute ambiguous", lsns, []string{"--out=a"}, nil, nil, "option '--out=a' is ambiguous; possibilities: '--output' '--output-all'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results, operands, err := tt.p.Parse(tt.args)
			if got := show(results); !reflect.DeepEqual(got, orEmpty(tt.want)) {
				t.Errorf("results = %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(orEmpty(operands), orEmpty(tt.operands)) {
				t.Errorf("operands = %q, want %q", operands, tt.operands)
			}
			if tt.err == "" {
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Msg != tt.err {
				t.Errorf("err = %#v, want %q", err, tt.err)
			}
			if operands != nil {
				t.Errorf("operands = %q on error, want nil", operands)
			}
		})
	}
}

// TestResultIsTableCopy checks that Result.Option is the matched entry itself,
// so that callers can tell aliases apart.
func TestResultIsTableCopy(t *testing.T) {
	p := &Parser{Options: nsenterOptions}
	results, _, err := p.Parse([]string{"-t1", "--ne", "-W", "x", "--wdns"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Option{nsenterOptions[3], nsenterOptions[7], nsenterOptions[20], nsenterOptions[16]}
	for i, r := range results {
		if r.Option != want[i] {
			t.Errorf("result %d: Option = %+v, want %+v", i, r.Option, want[i])
		}
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// requireTool returns the path of a util-linux program used as an oracle
// and checks its version. In CI a missing or different program fails the
// test: a silently skipped oracle would hide regressions.
func requireTool(t *testing.T, name, version string) string {
	t.Helper()
	path := testutil.RequireTool(t, name)
	out, _ := exec.Command(path, "--version").CombinedOutput()
	testutil.Require(t, strings.Contains(string(out), version), fmt.Sprintf("%s --version = %q, want %q", name, out, version))
	return path
}

// run runs an oracle under the C locale, so that glibc's messages are not
// translated, and without the variables that change getopt(1)'s behaviour.
func run(t *testing.T, path string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	// glibc prefixes its messages with argv[0].
	cmd.Args[0] = filepath.Base(path)
	// SHELL=/bin/false: should a case wrongly parse, nsenter runs nothing.
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SHELL=/bin/false"}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		exitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s %q: %v", path, args, err)
	}
	return o.String(), e.String(), exitCode
}

// getoptOptions can be given to getopt(1), whose short and long options are
// separate, so every entry has only one of the two names.
var getoptOptions = []Option{
	{'a', "", NoArg},
	{'b', "", RequiredArg},
	{'c', "", OptionalArg},
	{'t', "", RequiredArg},
	{0, "all", NoArg},
	{0, "bee", RequiredArg},
	{0, "cee", OptionalArg},
	{0, "wd", OptionalArg},
	{0, "wdns", RequiredArg},
	{0, "target", RequiredArg},
	{0, "net", OptionalArg},
	{0, "no-fork", NoArg},
	{0, "output", RequiredArg},
	{0, "output-all", NoArg},
	{0, "dup", NoArg},
	{0, "dup", NoArg},
}

// getoptArgs turns a table into getopt(1)'s -o and -l arguments.
func getoptArgs(opts []Option, permute bool) []string {
	short := "+"
	if permute {
		short = ""
	}
	var long []string
	colons := map[ArgKind]string{NoArg: "", RequiredArg: ":", OptionalArg: "::"}
	for _, o := range opts {
		if o.Short != 0 {
			short += string(o.Short) + colons[o.Arg]
		} else {
			long = append(long, o.Long+colons[o.Arg])
		}
	}
	return []string{"-o", short, "-l", strings.Join(long, ",")}
}

// shellWords splits getopt(1)'s output, which single-quotes every argument
// and writes an embedded quote as quote, backslash, quote, quote.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted:
			if c == '\'' {
				quoted = false
			} else {
				w.WriteByte(c)
			}
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// parseGetoptOutput reads getopt(1)'s normalized command line back into
// results and operands. getopt prints an empty quoted word for an absent
// optional argument, so those come back as HasValue with an empty Value.
func parseGetoptOutput(t *testing.T, opts []Option, out string) ([]Result, []string) {
	t.Helper()
	words := shellWords(out)
	var results []Result
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			return results, words[i+1:]
		}
		var opt Option
		found := false
		for _, o := range opts {
			if (o.Long != "" && w == "--"+o.Long) || (o.Short != 0 && w == "-"+string(o.Short)) {
				opt, found = o, true
				break
			}
		}
		if !found || (opt.Arg != NoArg && i+1 == len(words)) {
			t.Fatalf("cannot read getopt output %q at %q", out, w)
		}
		r := Result{Option: opt}
		if opt.Arg != NoArg {
			i++
			r.Value, r.HasValue = words[i], true
		}
		results = append(results, r)
	}
	t.Fatalf("no -- in getopt output %q", out)
	return nil, nil
}

// getoptCases are argv lists run through both our parser and getopt(1), in
// both modes.
var getoptCases = [][]string{
	{},
	{"-a"},
	{"-abX", "-b", "Y", "-c", "-cZ", "-ca"},
	{"-a", "-t"},
	{"-b"},
	{"-b", "--"},
	{"-b", ""},
	{"-ac", "1"},
	{"-x"},
	{"-ax", "-a"},
	{"-a-b"},
	{"-a:"},
	{"-a;"},
	{"-\xff"},
	{"-a'"},
	{"--all", "--bee=1", "--bee", "2", "--cee", "--cee=3", "--cee=", "x", "--", "-a"},
	{"--al", "--be", "x", "--ce=y", "--tar=1", "--ta", "2"},
	{"--all=3"},
	{"--al="},
	{"--bee"},
	{"--be"},
	{"--bee="},
	{"--bee", "--"},
	{"--foo=bar"},
	{"--x"},
	{"---all"},
	{"--allx"},
	{"--w=/x"},
	{"--wd", "--wd=/x", "--wdn", "y"},
	{"--wdns"},
	{"--o"},
	{"--output", "x", "--output-all"},
	{"--=x"},
	{"--="},
	{"--dup"},
	{"--du"},
	{"--n"},
	{"--no"},
	{"x", "-a", "y", "--all"},
	{"x", "-b", "y", "z"},
	{"-a", "x", "--", "-a", "--"},
	{"-", "-a", "-"},
	{"", "-a"},
	{"x", "-x"},
	{"x", "--bee"},
	{"a b", "it's", "-b", "a'b", "--bee=\n!$"},
	{"-a", "--", "--", "--all"},
}

func TestAgainstGetopt(t *testing.T) {
	path := requireTool(t, "getopt", "util-linux")
	for _, permute := range []bool{false, true} {
		p := &Parser{Options: getoptOptions, Permute: permute}
		spec := getoptArgs(getoptOptions, permute)
		for _, args := range getoptCases {
			results, operands, err := p.Parse(args)
			stdout, stderr, code := run(t, path, append(append(spec, "--"), args...)...)
			wantResults, wantOperands := parseGetoptOutput(t, getoptOptions, stdout)
			// getopt cannot tell an absent optional argument from an
			// empty one.
			for i := range results {
				if results[i].Option.Arg == OptionalArg {
					results[i].HasValue = true
				}
			}
			var e *Error
			switch {
			case code == 0 && err != nil:
				t.Errorf("permute=%v %q: got error %v, getopt accepts", permute, args, err)
			case code == 1 && !errors.As(err, &e):
				t.Errorf("permute=%v %q: got no error, getopt says %q", permute, args, stderr)
			case code == 1:
				// getopt goes on after an error and prints every good
				// option; ours stop at the first error.
				first, _, _ := strings.Cut(stderr, "\n")
				if first != "getopt: "+e.Msg {
					t.Errorf("permute=%v %q: error %q, getopt says %q", permute, args, e.Msg, first)
				}
				if len(results) > len(wantResults) || !reflect.DeepEqual(show(results), show(wantResults[:len(results)])) {
					t.Errorf("permute=%v %q: results %q, not a prefix of getopt's %q", permute, args, show(results), show(wantResults))
				}
			case code != 0:
				t.Fatalf("getopt %q: exit %d: %s", args, code, stderr)
			default:
				if !reflect.DeepEqual(show(results), show(wantResults)) || !reflect.DeepEqual(orEmpty(operands), orEmpty(wantOperands)) {
					t.Errorf("permute=%v %q: got %q %q, getopt %q %q", permute, args, show(results), operands, show(wantResults), wantOperands)
				}
			}
		}
	}
}

// nsenterCases all fail while parsing, before nsenter acts on any option; no
// namespace FILE is given, since nsenter would open it while parsing.
var nsenterCases = [][]string{
	{"-x"},
	{"-a", "-x"},
	{"-aFx"},
	{"-a-"},
	{"-:"},
	{"-\xff"},
	{"-t"},
	{"-t", "1", "-S"},
	{"-G"},
	{"-W"},
	{"-S", "0", "-G", "0", "-m", "-u", "-i", "-n", "-p", "-U", "-C", "-T", "-r", "-w", "-q"},
	{"--ta"},
	{"--target"},
	{"--setu"},
	{"--w=/x"},
	{"--w"},
	{"--u"},
	{"--p"},
	{"--s=1"},
	{"--n"},
	{"--t"},
	{"--=x"},
	{"--="},
	{"--all=1"},
	{"--al="},
	{"--version=1"},
	{"--pre=1"},
	{"--no-fork="},
	{"--foo=bar"},
	{"---x"},
	{"--wdns", "-x"},
	{"--wdns=/x", "--root", "--bogus"},
	{"--target", "1", "--preserve-credentials", "-FZ", "--mount", "--net", "-?"},
}

func TestAgainstNsenter(t *testing.T) {
	path := requireTool(t, "nsenter", "util-linux 2.38")
	p := &Parser{Options: nsenterOptions}
	for _, args := range nsenterCases {
		_, _, err := p.Parse(args)
		var e *Error
		if !errors.As(err, &e) {
			// Not run: nsenter would go on to enter namespaces.
			t.Errorf("%q: got no error; cases must fail to parse", args)
			continue
		}
		_, stderr, code := run(t, path, args...)
		want := "nsenter: " + e.Msg + "\nTry 'nsenter --help' for more information.\n"
		if code != 1 || stderr != want {
			t.Errorf("%q: nsenter exit %d, stderr %q; want %q", args, code, stderr, want)
		}
	}
}

// TestNonASCIIShort covers the one message where we choose not to match
// glibc, which prints only the first byte of a multibyte character.
func TestNonASCIIShort(t *testing.T) {
	p := &Parser{Options: []Option{{'é', "", NoArg}}}
	results, _, err := p.Parse([]string{"-éé"})
	if err != nil || len(results) != 2 {
		t.Errorf("Parse(-éé) = %v, %v; want two -é", show(results), err)
	}
	_, _, err = p.Parse([]string{"-é→"})
	if err == nil || err.Error() != "invalid option -- '→'" || !utf8.ValidString(err.Error()) {
		t.Errorf("Parse(-é→) error = %v", err)
	}
}
