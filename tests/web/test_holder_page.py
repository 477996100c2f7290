"""The holder's voucher page (/w/<token>) leads back to the shop and switches language."""
from __future__ import annotations

from app.extensions import db
from app.vouchers import service as vouchers
from app.vouchers.models import VoucherSource
from app.vouchers.tokens import make_holder_token


def test_the_voucher_page_links_the_shop_and_the_other_language(app, client, world):
    voucher = vouchers.issue(world.merchant, title="拿铁兑换券", source=VoucherSource.API, handover="中杯拿铁")
    db.session.commit()
    url = f"/w/{make_holder_token(app.config['SECRET_KEY'], voucher.id)}"
    html = client.get(url).get_data(as_text=True)
    assert 'href="/m/test-coffee/" data-testid="shop-link">进店逛逛' in html
    assert f'href="{url}?lang=en"' in html
    english = client.get(url + "?lang=en").get_data(as_text=True)
    assert "Visit the shop" in english and f'href="{url}?lang=zh"' in english
