// Command alternate times commands in alternating rounds and prints medians
// and ratios as markdown, for make bench.
//
// On a shared, noisy machine, load drifts over seconds: a tool that runs all
// of one command's repetitions and then all of the other's (hyperfine)
// compares two different machines. Here every round runs each command once,
// in an order that rotates from round to round, and every ratio is taken
// within a round before its median is taken, so drift cancels out.
//
// Usage:
//
//	alternate [-rounds N] [-warmup N] [-tsv FILE]
//	    -cmd 'NAME=PROGRAM ARG...' ...
//	    [-ratio 'LABEL=A/B<=1.00' ...] [-diff 'LABEL=A-B-C' ...]
//
// A command is split on blanks (no shell) and runs with stdin, stdout and
// stderr on /dev/null; a non-zero exit is an error. A ratio's target is
// optional ("A/B", "A/B<=1.05", "A/B>=25"). A diff subtracts the second and
// later commands' times from the first's, round by round.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type command struct {
	name string
	argv []string
	path string
	ms   []float64 // wall time per round
	cpu  []float64 // user+system time of the command and what it waited for
	// minor page faults of the command and what it waited for: close to
	// deterministic, so a start-up change too small for the clock of a
	// loaded machine still shows.
	faults []float64
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	rounds := flag.Int("rounds", 300, "rounds; each runs every command once")
	warmup := flag.Int("warmup", 20, "untimed rounds first")
	tsv := flag.String("tsv", "", "also append the results as tab-separated lines to this file")
	var cmds, ratios, diffs listFlag
	flag.Var(&cmds, "cmd", "NAME=PROGRAM ARG..., repeatable")
	flag.Var(&ratios, "ratio", "LABEL=A/B[<=T|>=T], repeatable")
	flag.Var(&diffs, "diff", "LABEL=A-B[-C...], repeatable")
	flag.Parse()
	if len(cmds) == 0 {
		fail("no -cmd given")
	}
	var list []*command
	byName := map[string]*command{}
	for _, c := range cmds {
		name, line, ok := strings.Cut(c, "=")
		argv := strings.Fields(line)
		if !ok || name == "" || len(argv) == 0 {
			fail("bad -cmd %q: want NAME=PROGRAM ARG...", c)
		}
		path, err := lookPath(argv[0])
		if err != nil {
			fail("%s: %v", argv[0], err)
		}
		cmd := &command{name: name, argv: argv, path: path}
		list = append(list, cmd)
		byName[name] = cmd
	}
	null, err := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		fail("/dev/null: %v", err)
	}
	attr := &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{uintptr(null), uintptr(null), uintptr(null)}}
	for r := 0; r < *warmup+*rounds; r++ {
		for i := range list {
			c := list[(i+r)%len(list)]
			d, cpu, faults := run(c, attr)
			if r >= *warmup {
				c.ms = append(c.ms, d)
				c.cpu = append(c.cpu, cpu)
				c.faults = append(c.faults, faults)
			}
		}
	}

	fmt.Printf("%d rounds after %d warm-up rounds; wall time, and CPU time (user+system of the command and of the\nchildren it waited for, from wait4's rusage; less sensitive to other load than wall time) and minor\npage faults (the same rusage).\n\n", *rounds, *warmup)
	fmt.Printf("| command | wall median | p10 | p90 | CPU median | page faults |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, c := range list {
		q := quantiles(c.ms)
		fmt.Printf("| %s: `%s` | %.3f ms | %.3f | %.3f | %.3f ms | %.0f |\n", c.name, strings.Join(c.argv, " "), q[1], q[0], q[2], quantiles(c.cpu)[1], quantiles(c.faults)[1])
	}
	var out *os.File
	if *tsv != "" {
		if out, err = os.OpenFile(*tsv, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
			fail("%v", err)
		}
		defer out.Close()
		for _, c := range list {
			fmt.Fprintf(out, "%s\t%.4f\n", c.name, quantiles(c.ms)[1])
		}
	}
	if len(ratios) > 0 {
		fmt.Printf("\n| ratio (per round, wall) | median | p10 | p90 | target | | CPU-time ratio |\n| --- | ---: | ---: | ---: | --- | --- | ---: |\n")
	}
	for _, rs := range ratios {
		label, spec, ok := strings.Cut(rs, "=")
		if !ok {
			fail("bad -ratio %q", rs)
		}
		expr, op, target := spec, "", 0.0
		for _, o := range []string{"<=", ">="} {
			if a, b, ok := strings.Cut(spec, o); ok {
				expr, op = a, o
				if target, err = strconv.ParseFloat(b, 64); err != nil {
					fail("bad target in %q", rs)
				}
			}
		}
		an, bn, ok := strings.Cut(expr, "/")
		a, b := byName[an], byName[bn]
		if !ok || a == nil || b == nil {
			fail("bad -ratio %q: unknown command", rs)
		}
		per := make([]float64, len(a.ms))
		perCPU := make([]float64, len(a.ms))
		for i := range per {
			per[i] = a.ms[i] / b.ms[i]
			perCPU[i] = a.cpu[i] / max(b.cpu[i], 1e-3)
		}
		q := quantiles(per)
		verdict, goal := "", ""
		if op != "" {
			goal = fmt.Sprintf("%s %.2f", strings.NewReplacer("<=", "≤", ">=", "≥").Replace(op), target)
			met := (op == "<=" && q[1] <= target) || (op == ">=" && q[1] >= target)
			verdict = map[bool]string{true: "met", false: "missed"}[met]
		}
		fmt.Printf("| %s (%s ÷ %s) | %.2f | %.2f | %.2f | %s | %s | %.2f |\n", label, an, bn, q[1], q[0], q[2], goal, verdict, quantiles(perCPU)[1])
		if out != nil {
			fmt.Fprintf(out, "ratio:%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t%.2f\n", label, q[1], q[0], q[2], goal, verdict, quantiles(perCPU)[1])
		}
	}
	if len(diffs) > 0 {
		fmt.Printf("\n| part | difference of the medians | median of per-round differences | p10 | p90 |\n| --- | ---: | ---: | ---: | ---: |\n")
	}
	for _, ds := range diffs {
		label, expr, ok := strings.Cut(ds, "=")
		names := strings.Split(expr, "-")
		if !ok || names[0] == "" {
			fail("bad -diff %q", ds)
		}
		var parts []*command
		for _, n := range names {
			c := byName[n]
			if c == nil {
				fail("bad -diff %q: unknown command %s", ds, n)
			}
			parts = append(parts, c)
		}
		per := make([]float64, len(parts[0].ms))
		ofMedians := quantiles(parts[0].ms)[1]
		for _, c := range parts[1:] {
			ofMedians -= quantiles(c.ms)[1]
		}
		for i := range per {
			per[i] = parts[0].ms[i]
			for _, c := range parts[1:] {
				per[i] -= c.ms[i]
			}
		}
		q := quantiles(per)
		fmt.Printf("| %s (%s) | %.3f ms | %.3f ms | %.3f | %.3f |\n", label, strings.Join(names, " − "), ofMedians, q[1], q[0], q[2])
		if out != nil {
			fmt.Fprintf(out, "diff:%s\t%.4f\n", label, ofMedians)
		}
	}
}

// run starts the command, waits for it and returns the wall time and the
// CPU time in ms, and the minor page faults.
func run(c *command, attr *syscall.ProcAttr) (float64, float64, float64) {
	start := time.Now()
	pid, err := syscall.ForkExec(c.path, c.argv, attr)
	if err != nil {
		fail("%s: %v", c.name, err)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err = syscall.Wait4(pid, &ws, 0, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	d := time.Since(start)
	if err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
		fail("%s (%s) failed: %v, status %#x", c.name, strings.Join(c.argv, " "), err, uint32(ws))
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return float64(d.Nanoseconds()) / 1e6, float64(cpu.Nanoseconds()) / 1e6, float64(ru.Minflt)
}

// quantiles returns the 10th, 50th and 90th percentiles.
func quantiles(v []float64) [3]float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	at := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return s[int(p*float64(len(s)-1)+0.5)]
	}
	return [3]float64{at(0.1), at(0.5), at(0.9)}
}

func lookPath(p string) (string, error) {
	if strings.Contains(p, "/") {
		return p, nil
	}
	for _, dir := range strings.Split(os.Getenv("PATH"), ":") {
		if dir == "" {
			dir = "."
		}
		c := dir + "/" + p
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("not found in PATH")
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "alternate: "+format+"\n", a...)
	os.Exit(1)
}
