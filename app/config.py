"""Settings from the environment. No I/O except keeping a generated secret key in the instance folder."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping

from app.core.errors import ConfigError

# name: (default, meaning) — the README's configuration table is generated from this list.
SETTINGS: dict[str, tuple[str, str]] = {
    "APP_ENV": ("development", "`production` refuses to start without SECRET_KEY and turns off demo sign-in and sandbox payments"),
    "DATABASE_URL": ("sqlite:///instance/o2o.sqlite3", "SQLAlchemy URL; `postgresql://...` in production"),
    "SECRET_KEY": ("generated into instance/secret_key", "signs sessions and voucher tokens; keep it stable"),
    "REDIS_URL": ("(empty)", "Redis for rate limits (and jobs); without it (or while it is down) the database counts wrong-code and text tries"),
    "APP_BASE_URL": ("http://127.0.0.1:5000 (from `BIND` when set)", "public base URL put into QR codes and WeChat links"),
    "QR_MAX_AGE_SECONDS": ("120", "a rotating voucher QR older than this is refused (`qr_expired`)"),
    "QR_ROTATE_SECONDS": ("60", "how often the consumer's voucher QR refreshes"),
    "GUESS_LIMITS": ("10/minute;60/hour", "failed code lookups allowed per counter device"),
    "GUESS_LIMITS_STORE": ("30/minute;300/hour", "failed code lookups allowed per store"),
    "GUESS_LIMITS_IP": ("20/minute;120/hour", "failed code lookups allowed per client IP"),
    "WECHAT_APPID": ("(empty)", "official account appid; empty means simulated WeChat sign-in"),
    "WECHAT_SECRET": ("(empty)", "official account secret"),
    "WECHAT_OAUTH_SCOPE_BASE_ONLY": ("(empty)", "set to 1 to never ask for the WeChat profile (snsapi_userinfo)"),
    "WECHAT_API_BASE": ("(empty)", "override https://api.weixin.qq.com (tests point it at a local fake)"),
    "WECHAT_TEMPLATE_GROUPBUY": ("(empty)", "template message id for group-buy results (拼团成功 / 拼团失败, keys first, keyword1–3, remark); empty: members are told on the order page only"),
    "WECHAT_PAY_MCHID": ("(empty)", "WeChat Pay merchant id; empty means sandbox payments"),
    "WECHAT_PAY_PRIVATE_KEY_PATH": ("(empty)", "merchant API private key (PEM file)"),
    "WECHAT_PAY_CERT_SERIAL_NO": ("(empty)", "serial number of the merchant API certificate"),
    "WECHAT_PAY_APIV3_KEY": ("(empty)", "API v3 key (decrypts notifications)"),
    "WECHAT_PAY_PUBLIC_KEY_PATH": ("(empty)", "WeChat Pay public key (PEM); public-key mode, for merchants since 2024"),
    "WECHAT_PAY_PUBLIC_KEY_ID": ("(empty)", "its id (PUB_KEY_ID_...)"),
    "WECHAT_PAY_CERT_DIR": ("(empty)", "platform-certificate mode instead: folder for downloaded certificates"),
    "WECHAT_PAY_GATEWAY": ("(empty)", "override https://api.mch.weixin.qq.com (tests point it at a local fake)"),
    "WECHAT_TEMPLATE_PRESALE": ("(empty)", "template message id announcing a pre-sale's balance window (first, keyword1–3, remark); empty: depositors are told on the order page only"),
    "WECHAT_PAY_TIMEOUT": ("5", "seconds to wait for WeChat Pay's answer (3 more to connect); a hung gateway holds a worker no longer, and the payer is told to try again"),
    "SMS_WEBHOOK_URL": ("(empty)", "the SMS gateway that sends phone verification codes (signed JSON POST, see app/integrations/sms.py); empty: codes are only logged (and shown on the page outside production), and production offers no phone binding"),
    "SMS_WEBHOOK_SECRET": ("(empty)", "HMAC key for the gateway's `X-O2O-Signature`; required with SMS_WEBHOOK_URL"),
    "PHONE_CODE_LIMITS": ("1/minute;5/hour;10/day", "verification texts allowed per phone number"),
    "CONSOLE_LOGIN_LIMITS": ("5/minute;20/hour", "failed staff sign-ins (console and counter, one count) allowed per username"),
    "CONSOLE_LOGIN_LIMITS_IP": ("20/minute;100/hour", "failed staff sign-ins (console and counter, one count) allowed per client IP"),
    "API_KEY_CACHE_SECONDS": ("2", "each worker keeps an API key it has checked this long before reading it again: a revoked key is refused by every worker within this time (at once by the worker that revoked it); 0 reads it on every request"),
    "CONSOLE_IDLE_MINUTES": ("30", "a merchant-console session ends after this many minutes without a console request"),
    "HUEY_SQLITE_PATH": ("instance/huey.sqlite3", "job queue file when REDIS_URL is empty"),
    "HUEY_IMMEDIATE": ("(empty)", "1 runs jobs inline right after the commit that queued them (the tests do)"),
    "PROXY_COUNT": ("0", "trusted reverse proxies in front (1 behind nginx): client IPs for rate limits come from X-Forwarded-For"),
    "LOG_LEVEL": ("INFO", "log level of the JSON request log"),
    "MAX_JSON_BYTES": ("65536", "largest JSON (or other non-form) request body; a larger one is refused unread (413 `too_large`)"),
    "MAX_FORM_BYTES": ("262144", "largest form post (pages: sign-in, cart, checkout, reviews)"),
    "MAX_UPLOAD_BYTES": ("8388608", "largest request to a view that takes files (photo uploads)"),
    "MEDIA_ROOT": ("instance/media", "folder for uploaded product photos, served by the app at /media/ (unused when MEDIA_S3_BUCKET is set)"),
    "MEDIA_S3_BUCKET": ("(empty)", "S3-compatible bucket for uploaded photos (needed when several app machines serve the shop); empty: MEDIA_ROOT"),
    "MEDIA_S3_ENDPOINT_URL": ("(empty)", "the object storage's endpoint (MinIO, COS, OSS, R2: `https://...`); empty: AWS S3"),
    "MEDIA_S3_REGION": ("us-east-1", "the bucket's region"),
    "MEDIA_S3_ACCESS_KEY_ID": ("(empty)", "access key id for the bucket (empty: boto3's usual credential chain)"),
    "MEDIA_S3_SECRET_ACCESS_KEY": ("(empty)", "its secret"),
    "MEDIA_S3_PUBLIC_URL": ("(empty)", "public base URL of the bucket's objects (a CDN, say); empty: `<endpoint>/<bucket>`"),
}


DB_CONNECT_TIMEOUT = 3  # seconds to reach PostgreSQL before the request is answered 503


def _instance_secret(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def normalise_db_url(url: str, instance_path: Path) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url[len("sqlite:///"):]
        if rel and rel != ":memory:":
            path = Path(rel)
            if path.parts and path.parts[0] == "instance":
                path = instance_path.joinpath(*path.parts[1:])
            path.parent.mkdir(parents=True, exist_ok=True)
            url = "sqlite:///" + str(path.resolve())
    return url


def _body_limits(json_bytes: int, form_bytes: int, upload_bytes: int) -> dict:
    """Per kind of request (app/web/limits.py picks one); Flask's own limits are the widest of them."""
    for name, value in (("MAX_JSON_BYTES", json_bytes), ("MAX_FORM_BYTES", form_bytes), ("MAX_UPLOAD_BYTES", upload_bytes)):
        if value < 1024:
            raise ConfigError(f"{name} must be at least 1024 bytes, not {value}.")
    return {"MAX_JSON_BYTES": json_bytes, "MAX_FORM_BYTES": form_bytes, "MAX_UPLOAD_BYTES": upload_bytes,
            "MAX_CONTENT_LENGTH": max(json_bytes, form_bytes, upload_bytes),
            "MAX_FORM_MEMORY_SIZE": form_bytes, "MAX_FORM_PARTS": 200}


def _media_root(value: str, instance_path: Path) -> str:
    """An absolute folder; "instance/..." is under the app's instance folder (as for the SQLite file)."""
    path = Path(value)
    if path.parts and path.parts[0] == "instance":
        path = instance_path.joinpath(*path.parts[1:])
    return str(path.resolve())


def local_base_url(bind: str) -> str:
    """Where this machine's own server answers, from gunicorn's BIND ("0.0.0.0:8000" -> http://127.0.0.1:8000):
    the links' base when APP_BASE_URL is not set, so `make run` on another port makes working QR codes."""
    host, _, port = (bind or "127.0.0.1:5000").rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port or 5000}"


def load_config(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict:
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "development")
    if app_env not in ("development", "production", "testing"):
        raise ConfigError(f"APP_ENV must be development, production or testing, not {app_env!r}.")
    secret = env.get("SECRET_KEY", "")
    if not secret:
        if app_env == "production":
            raise ConfigError("SECRET_KEY is not set: a production start needs a fixed secret key (see README, Configuration).")
        secret = _instance_secret(instance_path)
    db_url = normalise_db_url(env.get("DATABASE_URL") or "sqlite:///instance/o2o.sqlite3", instance_path)

    def _int(name: str, default: int) -> int:
        raw = env.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None

    def _number(name: str, default: float) -> float:
        raw = env.get(name)
        if raw in (None, ""):
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number of seconds, not {raw!r}.") from None
        if value <= 0:
            raise ConfigError(f"{name} must be more than 0 seconds, not {raw!r}.")
        return value

    redis_url = env.get("REDIS_URL", "")
    if env.get("SMS_WEBHOOK_URL") and not env.get("SMS_WEBHOOK_SECRET"):
        raise ConfigError("SMS_WEBHOOK_SECRET is not set: the SMS gateway needs it to check our signature.")
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": db_url,
        # pre_ping: a pooled connection that died (a restart, a failover) is replaced, not handed to a request.
        # connect_timeout: an unreachable server (packets dropped) is a 503 within seconds, not a worker held
        # until gunicorn kills it.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "connect_args": {"connect_timeout": DB_CONNECT_TIMEOUT}}
        if db_url.startswith("postgresql") else {},
        "REDIS_URL": redis_url,
        "HUEY_SQLITE_PATH": env.get("HUEY_SQLITE_PATH", ""),
        "HUEY_IMMEDIATE": env.get("HUEY_IMMEDIATE", "") == "1",
        # Where tries against allowances are counted (app.core.allowance): Redis, else the database.
        "RATELIMIT_STORAGE_URI": redis_url or "database",
        "RATELIMIT_ENABLED": True,
        "APP_BASE_URL": (env.get("APP_BASE_URL") or local_base_url(env.get("BIND", ""))).rstrip("/"),
        "QR_MAX_AGE_SECONDS": _int("QR_MAX_AGE_SECONDS", 120),
        "QR_ROTATE_SECONDS": _int("QR_ROTATE_SECONDS", 60),
        "GUESS_LIMITS": env.get("GUESS_LIMITS", "10/minute;60/hour"),
        "GUESS_LIMITS_STORE": env.get("GUESS_LIMITS_STORE", "30/minute;300/hour"),
        "GUESS_LIMITS_IP": env.get("GUESS_LIMITS_IP", "20/minute;120/hour"),
        "WECHAT_APPID": env.get("WECHAT_APPID", ""),
        "WECHAT_SECRET": env.get("WECHAT_SECRET", ""),
        "WECHAT_OAUTH_SCOPE_BASE_ONLY": env.get("WECHAT_OAUTH_SCOPE_BASE_ONLY", "") == "1",
        "WECHAT_API_BASE": env.get("WECHAT_API_BASE", ""),
        "WECHAT_TEMPLATE_GROUPBUY": env.get("WECHAT_TEMPLATE_GROUPBUY", ""),
        "WECHAT_PAY_MCHID": env.get("WECHAT_PAY_MCHID", ""),
        "WECHAT_PAY_PRIVATE_KEY_PATH": env.get("WECHAT_PAY_PRIVATE_KEY_PATH", ""),
        "WECHAT_PAY_CERT_SERIAL_NO": env.get("WECHAT_PAY_CERT_SERIAL_NO", ""),
        "WECHAT_PAY_APIV3_KEY": env.get("WECHAT_PAY_APIV3_KEY", ""),
        "WECHAT_PAY_PUBLIC_KEY_PATH": env.get("WECHAT_PAY_PUBLIC_KEY_PATH", ""),
        "WECHAT_PAY_PUBLIC_KEY_ID": env.get("WECHAT_PAY_PUBLIC_KEY_ID", ""),
        "WECHAT_PAY_CERT_DIR": env.get("WECHAT_PAY_CERT_DIR", ""),
        "WECHAT_PAY_GATEWAY": env.get("WECHAT_PAY_GATEWAY", ""),
        "WECHAT_TEMPLATE_PRESALE": env.get("WECHAT_TEMPLATE_PRESALE", ""),
        "WECHAT_PAY_TIMEOUT": _number("WECHAT_PAY_TIMEOUT", 5.0),
        "SMS_WEBHOOK_URL": env.get("SMS_WEBHOOK_URL", ""),
        "SMS_WEBHOOK_SECRET": env.get("SMS_WEBHOOK_SECRET", ""),
        "PHONE_CODE_LIMITS": env.get("PHONE_CODE_LIMITS", "1/minute;5/hour;10/day"),
        "CONSOLE_LOGIN_LIMITS": env.get("CONSOLE_LOGIN_LIMITS", "5/minute;20/hour"),
        "CONSOLE_LOGIN_LIMITS_IP": env.get("CONSOLE_LOGIN_LIMITS_IP", "20/minute;100/hour"),
        "CONSOLE_IDLE_MINUTES": _int("CONSOLE_IDLE_MINUTES", 30),
        "API_KEY_CACHE_SECONDS": _int("API_KEY_CACHE_SECONDS", 2),
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        **_body_limits(_int("MAX_JSON_BYTES", 64 * 1024), _int("MAX_FORM_BYTES", 256 * 1024),
                       _int("MAX_UPLOAD_BYTES", 8 * 1024 * 1024)),
        "MEDIA_ROOT": _media_root(env.get("MEDIA_ROOT") or "instance/media", instance_path),
        "MEDIA_S3_BUCKET": env.get("MEDIA_S3_BUCKET", ""),
        "MEDIA_S3_ENDPOINT_URL": env.get("MEDIA_S3_ENDPOINT_URL", ""),
        "MEDIA_S3_REGION": env.get("MEDIA_S3_REGION") or "us-east-1",
        "MEDIA_S3_ACCESS_KEY_ID": env.get("MEDIA_S3_ACCESS_KEY_ID", ""),
        "MEDIA_S3_SECRET_ACCESS_KEY": env.get("MEDIA_S3_SECRET_ACCESS_KEY", ""),
        "MEDIA_S3_PUBLIC_URL": env.get("MEDIA_S3_PUBLIC_URL", ""),
        "DEMO_SIGNIN": app_env != "production",
        # The simulated payer: never in production (it would let anyone mark an order paid).
        "SANDBOX_PAYMENTS": app_env != "production",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": app_env == "production",
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,  # a cashier's shift
        "JSON_AS_ASCII": False,
    }
