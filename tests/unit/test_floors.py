"""The house's floors (README "Architecture"): every import points down.

Read from the source with `ast`, so a test fails as soon as an import goes up a floor or
two files import each other, whatever the import does at run time.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["config", "accounts", "groups", "posts", "moderation", "relay"]
# Bottom to top; a module may import its own floor and those below.
FLOORS = [
    ("kernel", ["config.errors", "config.fields", "config.batching", "config.redis_clients", "config.env",
                "config.metrics"]),
    ("event layer", ["relay.stream"]),
    ("REST kit", ["config.rest"]),
    ("accounts", ["accounts"]),
    ("groups", ["groups"]),
    ("posts", ["posts"]),
    ("moderation", ["moderation"]),
    ("transport", ["relay"]),
    ("top", ["config"]),
]


def modules():
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = modules()


def imports(path):
    """(imported project module, whether the import is inside a function or class) of one file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name:
                yield name, node.col_offset > 0
                break


def floor(module):
    for level, (_, prefixes) in enumerate(FLOORS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return level
    raise AssertionError(f"{module} is on no floor")


def test_every_import_points_down():
    upward = [f"{module} ({FLOORS[floor(module)][0]}) imports {target} ({FLOORS[floor(target)][0]})"
              for module, path in MODULES.items() for target, _ in imports(path)
              if floor(target) > floor(module)]
    assert upward == []


def test_no_two_files_import_each_other_even_through_others():
    edges = {module: {target for target, _ in imports(path) if target != module} for module, path in MODULES.items()}
    done, path_ = set(), []

    def visit(module):
        if module in path_:
            raise AssertionError("import cycle: " + " -> ".join(path_[path_.index(module):] + [module]))
        if module in done:
            return
        path_.append(module)
        for target in edges[module]:
            visit(target)
        path_.pop()
        done.add(module)

    for module in MODULES:
        visit(module)


def test_no_function_local_imports_of_the_project_outside_the_top():
    local = [f"{module} imports {target} inside a function" for module, path in MODULES.items()
             for target, nested in imports(path) if nested and floor(module) != len(FLOORS) - 1]
    assert local == []


def test_the_floors_can_fail():
    assert floor("relay.stream.publish") < floor("groups.actions") < floor("relay.hub")
    assert floor("config.settings") == len(FLOORS) - 1 and floor("config.errors") == 0


def test_migrations_import_nothing_of_another_app():
    """A migration may use a pure helper of its own app (a username's skeleton), never another
    app's code: that would be an import up or across the floors, hidden from the checks above."""
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("migrations/*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                found += [f"{path.relative_to(ROOT)} imports {n}" for n in names
                          if n.split(".")[0] in PACKAGES and n.split(".")[0] != package]
    assert found == []
