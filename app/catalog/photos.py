"""Product photos uploaded in the console: checked to be an image (Pillow decodes it, whatever its name or
declared type says), turned upright (EXIF), cut to a centred square and resized to the size the shop shows
(480 × 480: the product page's gallery; cards show 240 × 240, sharp on 2× phone screens), saved as JPEG
(or PNG when it has transparency) and stored by app.core.media under a key named by its content.

The cover is `Product.image` (cards, cart, the gallery's first photo); further photos are ProductPhoto rows
in gallery order. Every change goes through the ORM (the shop's catalog rev changes) and the audit log."""
from __future__ import annotations

import hashlib
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from app.catalog.models import Product, ProductPhoto
from app.core import media
from app.core.errors import BadRequest
from app.extensions import db
from app.merchants import audit
from app.merchants.scope import Scope

PHOTO_SIZE = 480
MAX_PIXELS = 40_000_000  # a larger image (or a decompression bomb claiming to be one) is refused
MAX_GALLERY = 9  # further photos after the cover
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
AUDIT_ACTIONS = ("product.cover", "product.photo_add", "product.photo_remove", "product.photo_to_cover")


class NotAnImage(BadRequest):
    code = "not_an_image"
    zh = "上传的文件不是图片（支持 JPEG、PNG、WebP、GIF）。"
    en = "The uploaded file is not an image (JPEG, PNG, WebP or GIF)."


class ImageTooLarge(BadRequest):
    code = "image_too_large"
    zh = "图片尺寸过大（最多 4000 万像素）。"
    en = "The image is too large (at most 40 megapixels)."


class GalleryFull(BadRequest):
    code = "gallery_full"
    zh = "每个商品最多 {limit} 张附图。"
    en = "A product has at most {limit} further photos."


def prepare(data: bytes) -> tuple[bytes, str, str]:
    """(bytes, file extension, content type) of the photo as the shop shows it; NotAnImage for anything
    Pillow cannot decode as one of FORMATS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in FORMATS:
                    raise NotAnImage(field="photo")
                if probe.width * probe.height > MAX_PIXELS:
                    raise ImageTooLarge(field="photo")
                probe.verify()  # a truncated or corrupt file
            image = Image.open(io.BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(field="photo") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise NotAnImage(field="photo") from None
    image = ImageOps.exif_transpose(image)
    image = ImageOps.fit(image.convert("RGBA"), (PHOTO_SIZE, PHOTO_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if image.getchannel("A").getextrema()[0] < 255:  # transparency kept: PNG
        image.save(out, "PNG", optimize=True)
        return out.getvalue(), "png", "image/png"
    image.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), "jpg", "image/jpeg"


def store_photo(merchant_id: int, data: bytes) -> str:
    """Check, resize and store an uploaded photo; its stored image value ("media:…")."""
    body, ext, content_type = prepare(data)
    digest = hashlib.sha256(body).hexdigest()[:32]
    return media.save(f"products/{merchant_id}/{digest}.{ext}", body, content_type)


def set_cover(scope: Scope, product_id: int, data: bytes) -> Product:
    product = scope.get(Product, product_id)
    stored = store_photo(scope.merchant_id, data)
    audit.change(scope, product, {"image": stored}, fields=["image"], action="product.cover",
                 object_type="product")
    return product


def add_photo(scope: Scope, product_id: int, data: bytes) -> ProductPhoto:
    product = scope.get(Product, product_id)
    if len(product.photos) >= MAX_GALLERY:
        raise GalleryFull(limit=MAX_GALLERY, field="photo")
    stored = store_photo(scope.merchant_id, data)
    position = max((p.position for p in product.photos), default=0) + 1
    photo = ProductPhoto(position=position, image=stored)
    product.photos.append(photo)
    db.session.flush()
    audit.record(scope, "product.photo_add", "product", product.id,
                 after={"photo_id": photo.id, "position": position, "image": stored})
    return photo


def photo_to_cover(scope: Scope, product_id: int, photo_id: int) -> Product:
    """Make a gallery photo the cover; the old cover takes its place in the gallery (none: the photo leaves it)."""
    product = scope.get(Product, product_id)
    photo = next((p for p in product.photos if p.id == photo_id), None)
    if photo is None:
        return product  # not (or no longer) in this gallery: nothing to do
    before = {"image": product.image, "photo_id": photo.id, "photo_image": photo.image}
    if product.image:
        product.image, photo.image = photo.image, product.image
    else:
        product.image = photo.image
        product.photos.remove(photo)
    db.session.flush()
    audit.record(scope, "product.photo_to_cover", "product", product.id, before=before,
                 after={"image": product.image})
    return product


def remove_photo(scope: Scope, product_id: int, photo_id: int) -> Product:
    """Take a further photo out of the gallery (the file stays: its key may be shared, and is harmless). A photo
    not (or no longer) in this product's gallery: nothing to do, as for a second click on the same button."""
    product = scope.get(Product, product_id)
    photo = next((p for p in product.photos if p.id == photo_id), None)
    if photo is None:
        return product
    product.photos.remove(photo)
    db.session.flush()
    audit.record(scope, "product.photo_remove", "product", product.id,
                 before={"photo_id": photo_id, "image": photo.image})
    return product

