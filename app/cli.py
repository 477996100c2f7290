"""Flask CLI commands: `flask --app wsgi demo`, `flask --app wsgi check`, `flask --app wsgi merchant create`.

Every command that needs the database (ours and Flask-Migrate's `flask db upgrade` & co.) first checks that
it answers, and stops with the one sentence `flask check` gives instead of a traceback."""
from __future__ import annotations

import functools
import json
import re
from typing import Callable

import click
import sqlalchemy as sa
from flask import Flask, current_app

from app.extensions import db

# Flask-Migrate's commands that talk to the database; the others only read or write migration files.
MIGRATE_NEEDS_DATABASE = ("upgrade", "downgrade", "current", "stamp", "check", "migrate", "revision")


def _fail(message: str) -> None:
    click.echo(f"o2o-store: {message}", err=True)
    raise SystemExit(1)


def _unreachable(exc: BaseException) -> None:
    url = db.engine.url.render_as_string(hide_password=True)
    _fail(f"cannot reach the database at {url} ({type(exc).__name__}): check DATABASE_URL and that the server is running.")


def check_database() -> None:
    from app.core.database import ping

    try:
        ping()
    except Exception as exc:
        _unreachable(exc)


def needs_database(callback: Callable) -> Callable:
    """A command callback that checks the database first (not for offline `--sql` output or a plain
    `revision`), and turns a connection lost on the way into the same sentence."""

    @functools.wraps(callback)
    def checked(*args, **kwargs):
        if not kwargs.get("sql") and kwargs.get("autogenerate", True):
            check_database()
        try:
            return callback(*args, **kwargs)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            _unreachable(exc)

    checked.needs_database = True
    return checked


def _guard_migrate_commands() -> None:
    from flask_migrate.cli import db as migrate_group

    # The `db` group loads the app (so this has run) before click reads a subcommand's callback.
    for name in MIGRATE_NEEDS_DATABASE:
        command = migrate_group.commands.get(name)
        if command is not None and not getattr(command.callback, "needs_database", False):
            command.callback = needs_database(command.callback)


def init_app(app: Flask) -> None:
    _guard_migrate_commands()

    @app.cli.command("check")
    def check():
        """Check the configuration and that the database answers."""
        check_database()
        click.echo(f"ok: database {db.engine.url.render_as_string(hide_password=True)}")

    @app.cli.command("demo")
    @click.option("--json", "as_json", is_flag=True, help="End with one JSON object (ids, keys, staff).")
    @click.option("--history", is_flag=True, help="Also place a past month of orders, pickups and reviews (once).")
    @needs_database
    def demo(as_json: bool, history: bool):
        """Load the demo merchant, stores, staff, products and vouchers (idempotent)."""
        from app import demo as demo_data, demo_history

        out = demo_data.load(current_app.config["SECRET_KEY"])
        db.session.commit()
        if history:
            placed = demo_history.load(out["merchant"]["id"])
            db.session.commit()
            if placed and not as_json:
                click.echo(f"已生成近 {demo_history.DAYS} 天的演示订单：{placed} 笔")
        base = current_app.config["APP_BASE_URL"]
        if as_json:
            click.echo(json.dumps({k: out[k] for k in ("merchant", "stores", "staff", "vouchers")}, ensure_ascii=False))
            return
        click.echo(("已创建" if out["created"] else "已存在") + f"演示商户：{out['merchant']['name']}")
        click.echo(f"  商城   {base}/")
        click.echo(f"  收银台 {base}/counter/   (收银员 cashier1 / {demo_data.PASSWORD}，人民广场店)")
        click.echo(f"  商户后台 {base}/console/   (店主 owner / {demo_data.PASSWORD}；店长 manager1)")
        click.echo("  员工   " + ", ".join(f"{s['username']} ({s['role']})" for s in out["staff"]) + f"，密码均为 {demo_data.PASSWORD}")
        click.echo(f"  商户 API 密钥  {out['merchant']['api_key']}")
        for s in out["stores"]:
            click.echo(f"  收银台密钥 {s['name']}  {s['counter_key']}")
        for p in out["presales"]:
            click.echo(f"  预售   {p['title']}  {base}{p['url']}")
        for v in out["vouchers"]:
            click.echo(f"  演示券 {v['title']}  {v['code']}  {v['holder_url']}")
        for g in out["groupbuys"]:
            click.echo(f"  拼团   {g['title']}  {base}{g['url']}")

    @app.cli.group("merchant")
    @needs_database
    def merchant():
        """Merchants sharing this deployment."""

    @merchant.command("create")
    @click.option("--name", prompt="商户名称 / merchant name", help="The merchant's name, e.g. 拾光咖啡.")
    @click.option("--slug", prompt="商户标识 / slug (a-z 0-9 -)", help="Its shop address: /m/<slug>/.")
    @click.option("--owner", "owner_username", prompt="店主用户名 / owner username", help="The owner's sign-in name.")
    @click.option("--owner-name", default="店主", show_default=True, help="The owner's display name.")
    @click.password_option("--password", prompt="店主密码 / owner password",
                           help="Prompted with hidden input when left out (never echoed).")
    def merchant_create(name: str, slug: str, owner_username: str, owner_name: str, password: str):
        """Create a merchant with its owner, who signs in at /console/."""
        from app.core.errors import DomainError
        from app.merchants.console import create_merchant

        check_database()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,58}", slug.strip().lower()):
            _fail("the slug takes 2-59 characters: a-z, 0-9 and -.")
        if len(password) < 8:
            _fail("the password needs at least 8 characters.")
        try:
            made, owner = create_merchant(name=name, slug=slug, owner_username=owner_username,
                                          owner_name=owner_name, password=password)
        except DomainError as exc:
            db.session.rollback()
            _fail(exc.message("en"))
        db.session.commit()
        base = current_app.config["APP_BASE_URL"]
        click.echo(f"created merchant {made.name} (id {made.id}, /m/{made.slug}/); "
                   f"owner {owner.username} signs in at {base}/console/")
