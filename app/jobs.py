"""The job worker's entry: `huey_consumer app.jobs.huey` (see README). Nothing else imports this module
(an import contract checks it): domains declare their tasks in their own `tasks.py` through
`app.core.tasks`, and the queue is built from the app's config by `create_app`."""
from __future__ import annotations

from app import create_app

app = create_app()
huey = app.extensions["huey"]
