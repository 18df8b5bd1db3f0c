// gosym_oracle: Go's own debug/gosym reading a Go 1.16-1.19 binary's
// pclntab, the independent answer tests/e2e/test_pclntab.py compares
// Pclntab against (Debian's Go 1.19 gosym cannot read the 1.20+ format).
//
//	gosym_oracle funcs BINARY   every function: entry, end, name
//	gosym_oracle pcs BINARY     for each hex pc on stdin: pc, function,
//	                            entry, file, line (what PCToLine says)
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

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "funcs" && os.Args[1] != "pcs") {
		die("usage: gosym_oracle funcs|pcs BINARY")
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
