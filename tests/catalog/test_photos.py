"""Product photos: only images, resized to the shop's 480 × 480, stored under MEDIA_ROOT (served at /media/)
or in S3-compatible storage (a local moto server), and shown by the shop through one URL helper."""
from __future__ import annotations

import io
import json

import boto3
import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from app.catalog import photos
from app.core.media import image_url
from app.core.errors import DomainError
from app.extensions import db
from app.merchants.models import AuditEvent, Merchant
from app.merchants.scope import Scope
from tests.support.factories import make_product
from tests.support.s3_server import s3_server


def image_bytes(fmt="JPEG", size=(800, 600), color=(200, 120, 40), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def owner(world):
    return Scope.of(world.owner)


def _rev(merchant) -> int:
    return db.session.execute(sa.select(Merchant.catalog_rev).where(Merchant.id == merchant.id)).scalar_one()


def test_a_cover_is_resized_stored_served_and_shown(app, world, owner, client):
    product = make_product(world.merchant)
    rev = _rev(world.merchant)
    photos.set_cover(owner, product.id, image_bytes(size=(1200, 800)))
    assert product.image.startswith("media:products/")
    assert _rev(world.merchant) != rev
    event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "product.cover")).scalar_one()
    assert event.after == {"image": product.image} and event.before == {"image": "img/products/latte.png"}

    url = "/media/" + product.image.removeprefix("media:")
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "immutable" in served.headers["Cache-Control"]
    assert Image.open(io.BytesIO(served.data)).size == (480, 480)
    db.session.commit()
    page = client.get(f"/m/{world.merchant.slug}/p/{product.id}?store={world.store.id}").get_data(as_text=True)
    assert f'src="{url}"' in page  # the shop's gallery shows the upload


def test_a_product_without_a_photo_shows_the_placeholder(app):
    with app.test_request_context():
        assert image_url("").startswith("/static/img/no-photo.png")
        assert image_url("img/products/latte.png").startswith("/static/img/products/latte.png?v=")
        assert image_url("media:products/1/ab.jpg") == "/media/products/1/ab.jpg"


def test_a_text_file_named_png_is_refused(world, owner):
    product = make_product(world.merchant)
    for data in (b"hello, I am text\n" * 20, b"\x89PNG\r\n\x1a\n" + b"broken" * 10, b""):
        with pytest.raises(DomainError) as caught:
            photos.set_cover(owner, product.id, data)
        assert caught.value.code == "not_an_image" and caught.value.status == 400
        assert "JPEG" in caught.value.message("zh") and "not an image" in caught.value.message("en")
    assert product.image == "img/products/latte.png"


def test_transparency_is_kept_as_png_and_gallery_photos_are_added_and_removed(world, owner):
    product = make_product(world.merchant)
    first = photos.add_photo(owner, product.id, image_bytes("PNG", (300, 500), (0, 0, 0, 0), "RGBA"))
    second = photos.add_photo(owner, product.id, image_bytes("WEBP", (500, 500)))
    assert first.image.endswith(".png") and second.image.endswith(".jpg")
    assert [p.position for p in product.photos] == [1, 2]
    rev = _rev(world.merchant)
    photos.remove_photo(owner, product.id, first.id)
    assert [p.id for p in product.photos] == [second.id] and _rev(world.merchant) != rev
    photos.remove_photo(owner, product.id, first.id)  # a second click: nothing to do
    new_cover = second.image
    photos.photo_to_cover(owner, product.id, second.id)
    assert product.image == new_cover and second.image == "img/products/latte.png"


def test_s3_storage_against_a_local_s3_server(app, world, owner, monkeypatch):
    with s3_server() as server:
        settings = {"MEDIA_S3_BUCKET": "o2o-photos", "MEDIA_S3_ENDPOINT_URL": server.endpoint,
                    "MEDIA_S3_REGION": "ap-east-1", "MEDIA_S3_ACCESS_KEY_ID": "test-key",
                    "MEDIA_S3_SECRET_ACCESS_KEY": "test-secret", "MEDIA_S3_PUBLIC_URL": ""}
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
        s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="ap-east-1",
                          aws_access_key_id="test-key", aws_secret_access_key="test-secret")
        s3.create_bucket(Bucket="o2o-photos", CreateBucketConfiguration={"LocationConstraint": "ap-east-1"})
        # As the README asks of a deployment: anyone may read the bucket's objects (phones load them).
        s3.put_bucket_policy(Bucket="o2o-photos", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::o2o-photos/*"}]}))
        product = make_product(world.merchant)
        photos.set_cover(owner, product.id, image_bytes("PNG", (640, 640), (10, 200, 90)))
        key = product.image.removeprefix("media:")
        stored = s3.get_object(Bucket="o2o-photos", Key=key)
        assert stored["ContentType"] == "image/jpeg" and "immutable" in stored["CacheControl"]
        body = stored["Body"].read()
        assert Image.open(io.BytesIO(body)).size == (480, 480)
        with app.test_request_context():
            url = image_url(product.image)
            assert url == f"{server.endpoint}/o2o-photos/{key}"
            assert image_url("img/products/latte.png").startswith("/static/img/products/latte.png")
            monkeypatch.setitem(app.config, "MEDIA_S3_PUBLIC_URL", "https://cdn.example.com/p/")
            assert image_url(product.image) == f"https://cdn.example.com/p/{key}"
        fetched = requests.get(url, timeout=5)  # the object as a phone would fetch it
        assert fetched.status_code == 200 and fetched.content == body


def test_the_public_base_of_s3_photos():
    from app.core.media import s3_public_base

    assert s3_public_base({"MEDIA_S3_BUCKET": "b", "MEDIA_S3_REGION": "ap-east-1"}) == \
        "https://b.s3.ap-east-1.amazonaws.com"
    assert s3_public_base({"MEDIA_S3_BUCKET": "b", "MEDIA_S3_ENDPOINT_URL": "https://minio.lan:9000/"}) == \
        "https://minio.lan:9000/b"
    assert s3_public_base({"MEDIA_S3_BUCKET": "b", "MEDIA_S3_PUBLIC_URL": "https://img.example.cn/"}) == \
        "https://img.example.cn"


@pytest.mark.parametrize("side", [8000, 20000])  # over MAX_PIXELS; over Pillow's own bomb limit
def test_a_huge_image_is_refused_before_it_is_decoded(world, owner, side):
    product = make_product(world.merchant)
    data = image_bytes("PNG", (side, side), 0, "1")  # a few KB on disk, side² pixels once decoded
    assert len(data) < 200_000
    with pytest.raises(DomainError) as caught:
        photos.set_cover(owner, product.id, data)
    assert caught.value.code == "image_too_large"


def test_photo_urls_come_from_one_helper():
    """Templates name static files by literal paths only; a stored photo value goes through image_url (a
    static_url of product.image would break for uploads), and only app.core.media calls static_url with one."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in (root / "templates").rglob("*.html"):
        for arg in re.findall(r"static_url\(([^)]*)\)", path.read_text()):
            assert re.fullmatch(r"'[^']+'|\"[^\"]+\"", arg.strip()), (path.name, arg)
    for path in (root / "app").rglob("*.py"):
        if path.name not in ("assets.py", "media.py"):
            assert not re.search(r"static_url\((?!['\"])", path.read_text()), path
