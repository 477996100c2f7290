"""gunicorn and `flask --app wsgi` entry point."""
import sys

from app import create_app
from app.core.errors import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.stderr.write(f"o2o-store: {exc}\n")
    raise SystemExit(1) from None
