#!/usr/bin/env python3
"""Import cycles between the files of each crate of the workspace.

A file A depends on a file B when A names an item defined in B: through `use crate::…`,
`use super::…`, `use self::…` or such a path in the code. Re-exports (`pub use`) are followed to
the file that defines the item, so `crate::Inventory` counts as a dependency on the file that
declares `Inventory`, not on lib.rs. Declaring a module (`mod x;`) is not a dependency, and the
`#[cfg(test)]` modules at the end of files are left out (tests may look at everything).

Prints every cycle found (as a path of files) and the count of files and dependencies, and
exits 1 when there is a cycle. Usage: `python3 .ci/cycles.py [WORKSPACE]`.
"""

import re
import subprocess
import sys
from pathlib import Path

ITEM = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?(?:async\s+)?(?:extern\s+\"C\"\s+)?"
    r"(?:fn|struct|enum|trait|type|const|static|union|mod)\s+([A-Za-z_][A-Za-z0-9_]*)",
    re.M,
)
MACRO = re.compile(r"macro_rules!\s*([A-Za-z_][A-Za-z0-9_]*)")
PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
CHILD = re.compile(r"(?<![:\w])([a-z_][A-Za-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
MODDECL = re.compile(r"^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_]\w*)\s*;", re.M)


def strip(src: str) -> str:
    """Source without comments, strings and chars, and without the trailing test module."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "r" and re.match(r'r#*"', src[i:i + 10]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            i = n if j < 0 else j + len(end)
            out.append('""')
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", src[i:i + 12]):
            m = re.match(r"'(\\[^']*|[^\\'])'", src[i:])
            i += len(m.group(0)) if m else 1
        else:
            out.append(c)
            i += 1
    s = "".join(out)
    m = re.search(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", s)
    return s[: m.start()] if m else s


def use_trees(s: str):
    """Every path of every `use` declaration, with whether it is `pub use`."""
    for m in re.finditer(r"(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", s):
        public = bool(m.group(1)) and "(" not in (m.group(1) or "")
        tree = re.sub(r"\s+", " ", m.group(2))
        tree = re.sub(r"\s*(::|\{|\}|,)\s*", r"\1", tree).strip()
        for p in expand(tree):
            # `path as name`: the path is what is depended on.
            yield public, p.split(" as ")[0].strip()


def expand(tree: str):
    i = tree.find("{")
    if i < 0:
        yield tree
        return
    prefix, body = tree[:i], tree[i + 1 : tree.rfind("}")]
    depth, start, parts = 0, 0, []
    for k, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:k])
            start = k + 1
    parts.append(body[start:])
    for part in parts:
        if part:
            for sub in expand(part):
                yield prefix + sub


class Crate:
    def __init__(self, src_dir: Path, root: Path):
        self.files = {}  # module path tuple -> file
        self.text = {}
        self.walk(root, ())

    def walk(self, path: Path, modpath):
        self.files[modpath] = path
        s = strip(path.read_text(encoding="utf-8", errors="replace"))
        self.text[modpath] = s
        base = path.parent if path.name in ("lib.rs", "main.rs", "mod.rs") else path.with_suffix("")
        for m in MODDECL.finditer(s):
            name = m.group(1)
            for cand in (base / f"{name}.rs", base / name / "mod.rs"):
                if cand.is_file():
                    self.walk(cand, modpath + (name,))
                    break

    def items(self, mod):
        s = self.text[mod]
        return set(ITEM.findall(s)) | set(MACRO.findall(s))

    def reexports(self, mod):
        names, globs = {}, []
        for public, p in use_trees(self.text[mod]):
            if not public:
                continue
            segs = p.split("::")
            if segs[-1] == "*":
                globs.append(segs[:-1])
            else:
                if segs[-1] == "self":
                    segs = segs[:-1]
                if segs:
                    names[segs[-1]] = segs
        return names, globs

    def start(self, mod, head):
        if head == "crate":
            return ()
        if head == "super":
            return mod[:-1]
        return mod

    def resolve(self, mod, segs, depth=0):
        """The module whose file defines the item `segs` names from `mod`."""
        if depth > 20 or not segs:
            return None
        head = segs[0]
        if (
            head == "super"
            and len(segs) > 1
            and re.search(r"\bmod\s+\w+\s*\{", self.text[mod])
            and segs[1] in self.items(mod)
        ):
            # `super::` inside an inline module of this file names this file's item.
            return mod
        if head in ("crate", "super", "self"):
            cur = self.start(mod, head)
            rest = segs[1:]
            while rest and rest[0] == "super":
                cur, rest = cur[:-1], rest[1:]
        else:
            # A path relative to `mod`: a child module, or a name `mod` itself imported.
            cur, rest = mod, segs
            if (mod + (head,)) not in self.files:
                return None
        while rest and (cur + (rest[0],)) in self.files:
            cur, rest = cur + (rest[0],), rest[1:]
        if not rest:
            return cur
        name = rest[0]
        if name in self.items(cur):
            return cur
        names, globs = self.reexports(cur)
        if name in names:
            t = names[name]
            if t[0] not in ("crate", "super", "self") and (cur + (t[0],)) not in self.files:
                return None  # a re-export of another crate's item: no file of this crate
            r = self.resolve(cur, t + rest[1:] if t[-1] == name else t, depth + 1)
            return r if r is not None else cur
        for g in globs:
            r = self.resolve(cur, g + [name], depth + 1)
            if r is not None and name in self.items(r):
                return r
        return cur

    def edges(self):
        out = {}
        for mod in self.files:
            deps = set()
            s = self.text[mod]
            for _, p in use_trees(s):
                segs = [x for x in p.split("::") if x]
                if not segs or (
                    segs[0] not in ("crate", "super", "self") and (mod + (segs[0],)) not in self.files
                ):
                    continue
                if segs[-1] == "*":
                    segs = segs[:-1]
                r = self.resolve(mod, segs)
                if r is not None and r != mod and not is_ancestor_decl(r, mod):
                    deps.add(r)
            for m in CHILD.finditer(s):
                if (mod + (m.group(1),)) not in self.files:
                    continue
                segs = [m.group(1)] + m.group(2).split("::")[1:]
                r = self.resolve(mod, segs)
                if r is not None and r != mod:
                    deps.add(r)
            for m in PATH.finditer(s):
                segs = [m.group(1)] + m.group(2).split("::")[1:]
                r = self.resolve(mod, segs)
                if r is not None and r != mod and not is_ancestor_decl(r, mod):
                    deps.add(r)
            out[mod] = deps
        return out


def is_ancestor_decl(target, mod):
    """`self::child` paths from a parent to a child are dependencies; nothing to drop here."""
    return False


def cycles(graph):
    index, low, stack, on, res = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                res.append(comp)

    for v in list(graph):
        if v not in index:
            strong(v)
    return res


def main():
    ws = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    meta = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
        cwd=ws, capture_output=True, text=True, check=True,
    )
    import json

    bad = 0
    files = deps = 0
    for pkg in json.loads(meta.stdout)["packages"]:
        for t in pkg["targets"]:
            root = Path(t["src_path"])
            if not root.is_file():
                continue
            c = Crate(root.parent, root)
            g = c.edges()
            files += len(g)
            deps += sum(len(v) for v in g.values())
            for comp in cycles(g):
                bad += 1
                names = sorted(str(c.files[m].relative_to(ws)) for m in comp)
                print(f"cycle in {pkg['name']} ({t['name']}): " + " <-> ".join(names))
    print(f"cycles: {bad} (files {files}, file dependencies {deps})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
