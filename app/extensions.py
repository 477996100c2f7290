"""Unbound extensions; `create_app` binds them. Nothing here connects to anything."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True)
# Limits are applied explicitly (see app.vouchers.guard); no default limit on every route.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
