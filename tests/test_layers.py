"""The layers are checked by a tool, not by goodwill: import-linter's contracts (.importlinter) over every
import in app/, including the ones inside functions."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    out = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                          "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_a_forbidden_import_inside_a_function_is_caught(tmp_path):
    """The contracts bite: a payments module that reaches for orders inside a function breaks them."""
    probe = ROOT / "app" / "payments" / "_layer_probe.py"
    probe.write_text("def f():\n    from app.orders import service\n    return service\n")
    try:
        out = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                              "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    assert out.returncode != 0
    assert "app.payments._layer_probe -> app.orders.service" in out.stdout


def test_no_module_under_app_exceeds_400_lines():
    """Modules stay small and named for what they do: a file past 400 lines is split by what it does."""
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "app").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, long
