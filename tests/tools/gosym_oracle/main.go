// gosym_oracle: Go's own debug/gosym reading a Go 1.16-1.19 binary's
// pclntab, the independent answer tests/e2e/test_pclntab.py compares
// Pclntab against (Debian's Go 1.19 gosym cannot read the 1.20+ format).
//
//	gosym_oracle funcs BINARY   every function: entry, end, name
//	gosym_oracle pcs BINARY     for each hex pc on stdin: pc, function,
//	                            entry, file, line (what PCToLine says)
//	gosym_oracle bench BINARY   time PCToLine over the hex pcs on stdin
//	                            (tests/bench/bench_pclntab.py)
//
// Output fields are tab-separated; "-" marks a pc outside every function.
package main

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gosym_oracle: "+format+"\n", args...)
	os.Exit(1)
}

func openTable(path string) *gosym.Table {
	f, err := elf.Open(path)
	if err != nil {
		die("%s: %v", path, err)
	}
	defer f.Close()
	sec := f.Section(".gopclntab")
	if sec == nil {
		sec = f.Section(".data.rel.ro.gopclntab") // PIE, internal linking
	}
	text := f.Section(".text")
	if sec == nil || text == nil {
		die("%s: no .gopclntab or .text section", path)
	}
	data, err := sec.Data()
	if err != nil {
		die("%s: reading %s: %v", path, sec.Name, err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		die("%s: %v", path, err)
	}
	return tab
}

func readPcs() []uint64 {
	var pcs []uint64
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		text := strings.TrimSpace(in.Text())
		if text == "" {
			continue
		}
		pc, err := strconv.ParseUint(strings.TrimPrefix(text, "0x"), 16, 64)
		if err != nil {
			die("bad pc %q", text)
		}
		pcs = append(pcs, pc)
	}
	return pcs
}

// bench symbolizes every pc (function, file, line), repeated for at least
// 0.3 s; the best of 3 rounds per pc.
func bench(out *bufio.Writer, tab *gosym.Table, pcs []uint64) {
	if len(pcs) == 0 {
		die("bench: no pcs on stdin")
	}
	best, found := time.Duration(1<<62), 0
	for round := 0; round < 3; round++ {
		done, start := 0, time.Now()
		for time.Since(start) < 300*time.Millisecond {
			found = 0
			for _, pc := range pcs {
				if _, _, fn := tab.PCToLine(pc); fn != nil {
					found++
				}
			}
			done += len(pcs)
		}
		if per := time.Since(start) / time.Duration(done); per < best {
			best = per
		}
	}
	fmt.Fprintf(out, "pcs\t%d\tfound\t%d\tns_per_pc\t%d\n", len(pcs), found, best.Nanoseconds())
}

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "funcs" && os.Args[1] != "pcs" && os.Args[1] != "bench") {
		die("usage: gosym_oracle funcs|pcs|bench BINARY")
	}
	tab := openTable(os.Args[2])
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if os.Args[1] == "funcs" {
		for _, fn := range tab.Funcs {
			fmt.Fprintf(out, "%#x\t%#x\t%s\n", fn.Entry, fn.End, fn.Name)
		}
		return
	}
	pcs := readPcs()
	if os.Args[1] == "bench" {
		bench(out, tab, pcs)
		return
	}
	for _, pc := range pcs {
		file, line, fn := tab.PCToLine(pc)
		if fn == nil {
			fmt.Fprintf(out, "%#x\t-\t-\t-\t0\n", pc)
			continue
		}
		if file == "" {
			file = "-"
		}
		fmt.Fprintf(out, "%#x\t%s\t%#x\t%s\t%d\n", pc, fn.Name, fn.Entry, file, line)
	}
}
