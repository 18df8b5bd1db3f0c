#!/usr/bin/env python3
"""Writes the sources of bigcpp, the large-DWARF benchmark target
(tests/bench/bench_dwarf.py): MODULES translation units, each with TEMPLATES
class templates over std::map/std::vector/std::function instantiated three
times (about 1 MB of .debug_info per unit with g++ -g -O1), and a park<i>
function; main starts one thread per module, each blocked in pause(2) under
four frames of its module's park<i>. Prints "ready" when every thread is
blocked. Usage: gen_bigcpp.py DIR MODULES TEMPLATES"""
import os
import sys

MODULE = """#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace mod{idx} {{
{templates}
__attribute__((noinline)) void park(int depth) {{
   if (depth == 0)
      for (;;)
         pause();
   park(depth - 1);
   work0(depth);
}}
}} // namespace mod{idx}
void park{idx}() {{ mod{idx}::park(3); }}
"""

TEMPLATE = """template <typename T> struct Box{k} {{
   std::map<std::string, std::vector<T>> table;
   std::function<T(const T&)> fn;
   __attribute__((noinline)) T visit(const std::string& key) {{
      T acc{{}};
      for (auto& x : table[key])
         acc = acc + fn(x);
      return acc;
   }}
}};
__attribute__((noinline)) std::string work{k}(int depth) {{
   Box{k}<int> a;
   Box{k}<double> b;
   Box{k}<std::string> c;
   a.fn = [](const int& x) {{ return x + {k}; }};
   b.fn = [](const double& x) {{ return x * {k}; }};
   c.fn = [](const std::string& x) {{ return x + "{k}"; }};
   std::ostringstream out;
   out << a.visit("k") << b.visit("k") << c.visit("k") << depth;
   return out.str();
}}
"""

MAIN = """#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

{decls}
static void (*const parks[])() = {{ {names} }};

/* Threads of this process blocked in pause(2). */
static int parked() {{
   int n = 0;
   DIR* dir = opendir("/proc/self/task");
   while (struct dirent* d = dir ? readdir(dir) : nullptr) {{
      char path[300], line[64] = "";
      snprintf(path, sizeof(path), "/proc/self/task/%s/syscall", d->d_name);
      FILE* f = d->d_name[0] != '.' ? fopen(path, "r") : nullptr;
      n += f && fgets(line, sizeof(line), f) && atol(line) == SYS_pause;
      if (f)
         fclose(f);
   }}
   if (dir)
      closedir(dir);
   return n;
}}

int main() {{
   std::vector<std::thread> threads;
   for (auto park : parks)
      threads.emplace_back(park);
   while (parked() < {count})
      usleep(1000);
   printf("ready\\n");
   fflush(stdout);
   sleep(600);
   _exit(0);
}}
"""


def main():
    out, modules, templates = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    body = "".join(TEMPLATE.format(k=k) for k in range(templates))
    for i in range(modules):
        with open(os.path.join(out, f"m{i}.cpp"), "w") as f:
            f.write(MODULE.format(idx=i, templates=body))
    decls = "\n".join(f"void park{i}();" for i in range(modules))
    names = ", ".join(f"park{i}" for i in range(modules))
    with open(os.path.join(out, "main.cpp"), "w") as f:
        f.write(MAIN.format(decls=decls, names=names, count=modules))


if __name__ == "__main__":
    main()
