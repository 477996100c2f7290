"""Static files are linked with a content hash and cached for a year when asked for by that hash."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from app.core import assets

STATIC = Path(__file__).resolve().parents[2] / "static"


def sha12(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_pages_link_static_files_by_their_content_hash(client, world):
    html = client.get("/m/test-coffee/").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="/static/([^"?]+)\?v=([0-9a-f]+)"', html)
    linked = {name for name, _ in links}
    assert {"vendor/weui/weui.min.css", "app.css", "shop/shop.css", "shop/catalog.js", "img/logo.png"} <= linked
    for name, version in links:
        assert version == sha12(STATIC / name), name
    assert not re.search(r'(?:href|src)="/static/[^"?]+"', html)  # nothing unversioned


def test_the_current_version_is_cached_for_a_year_anything_else_for_a_day(client):
    name = "shop/shop.css"
    current = client.get(f"/static/{name}?v={sha12(STATIC / name)}")
    assert current.status_code == 200
    assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for query in ("", "?v=0123456789ab"):  # unversioned, or an older version's link
        r = client.get(f"/static/{name}{query}")
        assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=86400", query


def test_a_changed_file_gets_a_new_version(tmp_path):
    f = tmp_path / "x.css"
    f.write_text("a{}")
    first = assets.version_of(str(tmp_path), "x.css")
    assert first == sha12(f)
    f.write_text("b{}")
    os.utime(f, (1, 1))  # a different modification time, as any edit or deploy gives
    assert assets.version_of(str(tmp_path), "x.css") == sha12(f) != first
    assert assets.version_of(str(tmp_path), "missing.css") is None


def test_product_images_in_cards_are_versioned_too(client, world):
    from tests.web.test_catalog import add_product
    from app.extensions import db

    add_product(world.merchant, "拿铁", [("中杯", 2800, None)], image="img/products/latte.png")
    db.session.commit()
    html = client.get("/m/test-coffee/").get_data(as_text=True)
    assert f'src="/static/img/products/latte.png?v={sha12(STATIC / "img/products/latte.png")}"' in html
