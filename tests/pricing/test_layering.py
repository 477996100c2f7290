"""app.pricing is a domain package below orders and the web: it never imports them (they import it)."""
from __future__ import annotations

import ast
from pathlib import Path

import app.pricing

FORBIDDEN = ("app.orders", "app.web", "app.payments", "app.jobs")


def test_pricing_imports_no_orders_web_payments_or_jobs():
    for path in Path(app.pricing.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
