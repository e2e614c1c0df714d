#!/usr/bin/env python3
"""Checks the shape of the C tree that the compiler does not (issue 10).

  layers  every #include "rap/x.h" in lib/<layer> names a header of a layer
          that layer may use (docs/architecture.md, "Layers"), and cli/
          includes only core and wire headers; a quoted include that is not
          "rap/..." must be a private header of the including folder.
  cycles  no import circle among the .c files of each folder of services/,
          tools/ and of cli/: file A depends on file B (same folder) when A names a
          non-static function or global variable that B defines.  Every
          circle is printed with the names that tie it.
  notes   every .c file over 400 lines in lib/, services/, cli/, bench/ and tools/
          opens with a block comment of at least 5 lines (a design note:
          what it does, the model, the invariants).

Usage: scripts/check-structure.py [--root DIR] [layers|cycles|notes ...]
       (default: all three).  Exit 1 when any check finds something.
Only the standard library is used; the parser strips comments, strings and
preprocessor lines and reads top-level declarations, which is enough for
this tree's C (no K&R definitions, no macros that define functions).
"""
import argparse
import os
import re
import subprocess
import sys

# Who may include whom: a layer's own headers are always allowed.
LAYERS = {
    'core': {'core'},
    'wire': {'core', 'wire'},
    'adapters/pg': {'core', 'adapters/pg'},
    'adapters/amqp': {'core', 'adapters/amqp'},
    'adapters/s3': {'core', 'adapters/s3'},
    'adapters/metrics': {'core', 'adapters/metrics'},
    'adapters/http': {'core', 'adapters/http', 'adapters/metrics'},
    'domain': {'core', 'wire', 'adapters/pg', 'adapters/amqp', 'adapters/s3', 'domain'},
    'service': {'core', 'adapters/metrics', 'adapters/http', 'adapters/s3', 'service'},
}
CLI_ALLOWED = {'core', 'wire'}
NOTE_MIN_FILE_LINES = 400
NOTE_MIN_COMMENT_LINES = 5

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def tracked(root, *patterns):
    """Tracked files matching the git pathspecs, or a walk when not in git."""
    try:
        out = subprocess.run(['git', '-C', root, 'ls-files', '--', *patterns],
                             capture_output=True, text=True, check=True).stdout
        files = out.split()
        if files:
            return sorted(files)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for pat in patterns:
        top, _, ext = pat.partition('*')
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith(ext):
                    found.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(set(found))


def layer_of(path):
    """The layer folder of a lib/ path ('adapters/s3', 'core'), or None."""
    parts = path.split('/')
    if len(parts) < 3 or parts[0] != 'lib':
        return None
    if parts[1] == 'adapters':
        return 'adapters/' + parts[2] if len(parts) > 3 else None
    return parts[1]


def check_layers(root):
    headers = {}  # "rap/x.h" -> layer
    problems = []
    for h in tracked(root, 'lib/*.h'):
        m = re.match(r'lib/(.+)/include/(rap/[^/]+\.h)$', h)
        if m:
            if m.group(2) in headers:
                problems.append(f'{h}: {m.group(2)} is also in lib/{headers[m.group(2)]}')
            headers[m.group(2)] = m.group(1)
    for f in tracked(root, 'lib/*.c', 'lib/*.h', 'cli/*.c', 'cli/*.h'):
        if f.startswith('cli/'):
            layer, allowed, who = None, CLI_ALLOWED, 'cli/'
        else:
            layer = layer_of(f)
            if layer not in LAYERS:
                problems.append(f'{f}: not in a known layer folder of lib/')
                continue
            allowed, who = LAYERS[layer], f'lib/{layer}'
        text = open(os.path.join(root, f), encoding='utf-8', errors='replace').read()
        for n, line in enumerate(text.split('\n'), 1):
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            inc = m.group(1)
            if inc.startswith('rap/'):
                owner = headers.get(inc)
                if owner is None:
                    problems.append(f'{f}:{n}: "{inc}" is no public header of lib/')
                elif owner not in allowed:
                    problems.append(f'{f}:{n}: {who} may not include "{inc}" '
                                    f'(lib/{owner}; allowed: {", ".join(sorted(allowed))})')
                continue
            # A private header: next to the file, inside the same folder.
            here = os.path.dirname(f)
            target = os.path.normpath(os.path.join(here, inc))
            if not os.path.exists(os.path.join(root, target)):
                problems.append(f'{f}:{n}: "{inc}" is not a header of {here}/')
            elif os.path.dirname(target) != here and not (
                    layer and layer_of(target) == layer):
                problems.append(f'{f}:{n}: "{inc}" reaches outside {here}/ '
                                '(include another layer through "rap/...")')
    return problems


# ---- the C reader for the cycle check ----

TOKEN_RE = re.compile(r'[A-Za-z_]\w*|\d[\w.]*|->|\+\+|--|&&|\|\||<<=?|>>=?|[<>=!+\-*/%&|^]=|\.\.\.|\S')
KEYWORDS = set('''auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static
struct switch typedef union unsigned void volatile while _Bool _Noreturn _Thread_local
_Atomic _Static_assert bool __attribute__ __typeof__ typeof asm __asm__ __extension__
__restrict __inline'''.split())


def strip_c(text):
    """Text with comments, string and character literals blanked (lines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.append(c + ' ' * (min(j, n) - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def drop_preprocessor(text):
    """Blanks preprocessor lines (with their continuations)."""
    lines = text.split('\n')
    keep, cont = [], False
    for line in lines:
        if cont or line.lstrip().startswith('#'):
            cont = line.rstrip().endswith('\\')
            keep.append('')
        else:
            keep.append(line)
    return '\n'.join(keep)


def top_level_definitions(code):
    """(non-static names, static names) defined at file scope: functions
    with a body and variables (not extern, not typedef)."""
    toks = TOKEN_RE.findall(code)
    public, private = set(), set()
    stmt, i, n = [], 0, len(toks)

    def skip_group(i, open_, close):
        depth = 0
        while i < n:
            if toks[i] == open_:
                depth += 1
            elif toks[i] == close:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return n

    def declared_names(stmt):
        """Names declared by a file-scope statement without a body."""
        names, depth, last_ident, prev = [], 0, None, None
        for t in stmt + [',']:
            tag, prev = prev in ('struct', 'union', 'enum'), t
            if tag:
                continue  # a tag names a type, not an object
            if t in '([{':
                depth += 1
            elif t in ')]}':
                depth -= 1
            elif depth == 0 and t in (',', '=') and last_ident:
                names.append(last_ident)
                last_ident = None
            elif depth == 0 and re.match(r'[A-Za-z_]\w*$', t) and t not in KEYWORDS:
                last_ident = t
        return names

    while i < n:
        t = toks[i]
        if t == '__attribute__' or t == '__asm__' or t == 'asm':
            i = skip_group(i + 1, '(', ')')
            continue
        if t == '{':
            if stmt and stmt[-1] == ')' and '=' not in stmt:
                # A function definition: the name before the parameter list.
                depth, j = 0, len(stmt) - 1
                while j >= 0:
                    if stmt[j] == ')':
                        depth += 1
                    elif stmt[j] == '(':
                        depth -= 1
                        if depth == 0:
                            break
                    j -= 1
                name = stmt[j - 1] if j > 0 else None
                if name and re.match(r'[A-Za-z_]\w*$', name) and name not in KEYWORDS:
                    (private if 'static' in stmt else public).add(name)
                i = skip_group(i, '{', '}')
                stmt = []
                continue
            # An initializer or a struct/union/enum body: part of the statement.
            j = skip_group(i, '{', '}')
            stmt.append('{}')
            i = j
            continue
        if t == ';':
            if stmt and 'typedef' not in stmt and 'extern' not in stmt:
                body = [x for x in stmt if x != '{}']
                is_proto = False
                # A prototype: an identifier followed by '(' at depth 0 that is
                # not a function-pointer declarator "(*name)".
                depth = 0
                for k, x in enumerate(body):
                    if x == '(':
                        if depth == 0 and k > 0 and re.match(r'[A-Za-z_]\w*$', body[k - 1]) \
                                and body[k - 1] not in KEYWORDS and '=' not in body[:k]:
                            is_proto = True
                            break
                        depth += 1
                    elif x == ')':
                        depth -= 1
                if not is_proto:
                    for name in declared_names(stmt):
                        (private if 'static' in stmt else public).add(name)
            stmt = []
            i += 1
            continue
        stmt.append(t)
        i += 1
    return public, private


def identifiers(code):
    """The names code refers to as functions or variables: not struct,
    union or enum tags, and not members (after '.' or '->'), which live in
    other name spaces than a function of the same name."""
    names = []
    for m in re.finditer(r'(?:(\b(?:struct|union|enum)\b|\.|->)\s*)?\b([A-Za-z_]\w*)', code):
        if not m.group(1):
            names.append(m.group(2))
    return names


def elementary_cycles(graph):
    """Every elementary cycle of a small directed graph, each once, starting
    at its smallest node."""
    nodes = sorted(graph)
    cycles = []
    for start in nodes:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph[node], reverse=True):
                if nxt == start:
                    cycles.append(path[:])
                elif nxt > start and nxt not in path:
                    stack.append((nxt, path + [nxt]))
    return cycles


def check_cycles(root):
    problems = []
    folders = {}
    for f in tracked(root, 'services/*.c', 'cli/*.c', 'tools/*.c'):
        folders.setdefault(os.path.dirname(f), []).append(f)
    for folder in sorted(folders):
        files = folders[folder]
        defined = {}  # name -> file that defines it (non-static)
        code = {}
        own = {}
        for f in files:
            text = strip_c(open(os.path.join(root, f), encoding='utf-8',
                                errors='replace').read())
            code[f] = text
            public, private = top_level_definitions(drop_preprocessor(text))
            own[f] = public | private
            for name in public:
                if name in defined:
                    problems.append(f'{folder}: {name} is defined in both '
                                    f'{defined[name]} and {f}')
                defined[name] = f
        edges = {f: {} for f in files}  # a -> {b: set(names)}
        for f in files:
            for ident in set(identifiers(code[f])):
                g = defined.get(ident)
                if g and g != f and ident not in own[f]:
                    edges[f].setdefault(g, set()).add(ident)
        graph = {f: set(edges[f]) for f in files}
        for cyc in elementary_cycles(graph):
            ring = cyc + [cyc[0]]
            steps = []
            for a, b in zip(ring, ring[1:]):
                steps.append(f'{os.path.basename(a)} -> {os.path.basename(b)} '
                             f'({", ".join(sorted(edges[a][b]))})')
            problems.append(f'{folder}: import circle: ' + '; '.join(steps))
    return problems


def check_notes(root):
    problems = []
    for f in tracked(root, 'lib/*.c', 'services/*.c', 'cli/*.c', 'bench/*.c', 'tools/*.c'):
        lines = open(os.path.join(root, f), encoding='utf-8',
                     errors='replace').read().split('\n')
        if lines and lines[-1] == '':
            lines.pop()
        if len(lines) <= NOTE_MIN_FILE_LINES:
            continue
        k = 0
        while k < len(lines) and not lines[k].strip():
            k += 1
        note = 0
        if k < len(lines) and lines[k].lstrip().startswith('/*'):
            for j in range(k, len(lines)):
                if '*/' in lines[j]:
                    note = j - k + 1
                    break
        if note < NOTE_MIN_COMMENT_LINES:
            problems.append(f'{f}: {len(lines)} lines, and it does not open with a design '
                            f'note (a block comment of at least {NOTE_MIN_COMMENT_LINES} '
                            'lines: what it does, the model, the invariants)')
    return problems


CHECKS = {'layers': check_layers, 'cycles': check_cycles, 'notes': check_notes}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   '..'))
    ap.add_argument('checks', nargs='*', metavar='|'.join(CHECKS))
    args = ap.parse_args()
    for name in args.checks:
        if name not in CHECKS:
            ap.error(f'no check named {name}: {", ".join(CHECKS)}')
    root = os.path.abspath(args.root)
    failed = False
    for name in args.checks or list(CHECKS):
        problems = CHECKS[name](root)
        for p in problems:
            print(f'{name}: {p}')
        if problems:
            failed = True
        else:
            print(f'{name}: ok')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
