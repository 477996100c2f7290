"""Unbound extensions; `create_app` binds them. Nothing here connects to anything."""
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.core.allowance import Allowance
from app.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True)
# UI text catalogs and locale-aware dates; app.core.i18n binds it with our locale and timezone selectors.
babel = Babel()
# Tries counted against allowances where the code asks (app.vouchers.guard, app.members.phone); nothing per route.
allowance = Allowance()
