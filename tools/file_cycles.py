#!/usr/bin/env python3
"""file_cycles.py — which source files call each other in a circle (developer tool and test).

Usage: file_cycles.py [--allow A.c,B.c]... OBJECT... : reads each object's defined and undefined
symbols with `nm`, draws an edge A -> B when A uses a function or variable that B defines, and
prints every strongly connected group of more than one file. Exit status 1 when there is one,
unless it is exactly a group given with --allow (printed as allowed).

Objects are named after their source ('libvit.a.p/vit-model.c.o' -> vit-model.c).
"""
import os
import re
import subprocess
import sys


def source_name(obj):
    base = os.path.basename(obj)
    return re.sub(r'\.o(bj)?$', '', base)


def symbols(obj):
    out = subprocess.run(['nm', '--defined-only', '-g', obj], capture_output=True, text=True,
                         check=True).stdout
    defined = {line.split()[-1] for line in out.splitlines() if len(line.split()) >= 3}
    out = subprocess.run(['nm', '-u', obj], capture_output=True, text=True, check=True).stdout
    undefined = {line.split()[-1] for line in out.splitlines() if line.split()}
    return defined, undefined


def strongly_connected(graph):
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            groups.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def main(args):
    allowed, objects = [], []
    while args:
        if args[0] == '--allow' and len(args) > 1:
            allowed.append(sorted(args[1].split(',')))
            args = args[2:]
        else:
            objects.append(args[0])
            args = args[1:]
    if not objects:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    owner, uses = {}, {}
    for obj in objects:
        name = source_name(obj)
        defined, undefined = symbols(obj)
        for s in defined:
            owner[s] = name
        uses[name] = undefined
    graph = {name: set() for name in uses}
    for name, undefined in uses.items():
        for s in undefined:
            if s in owner and owner[s] != name:
                graph[name].add(owner[s])
    groups = [g for g in strongly_connected(graph) if len(g) > 1]
    circles = [g for g in groups if g not in allowed]
    for g in groups:
        edges = [f'{a} -> {b}' for a in g for b in sorted(graph[a]) if b in g]
        print(('allowed circle: ' if g in allowed else 'circle: ') + ', '.join(g))
        for e in edges:
            print('   ' + e)
    if not circles:
        print(f'no other circle among {len(graph)} files' if groups else f'no circle among {len(graph)} files')
    return 1 if circles else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
