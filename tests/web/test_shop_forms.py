"""The shop's forms are parsed at the edge into typed values (app/web/shop/forms.py)."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.core.errors import BadRequest
from app.core.schemas import parse_form
from app.web.shop.forms import RefundForm, ReviewForm


def test_refund_form_reads_reasons_and_per_line_quantities(app):
    with app.test_request_context("/"):
        form = parse_form(RefundForm, MultiDict({"reason": " 其他 ", "detail": "杯子漏了", "qty_12": "1", "qty_13": "0",
                                                 "nonce": "x"}))
        assert form.full_reason == "杯子漏了" and form.quantities == {12: 1, 13: 0}
        assert parse_form(RefundForm, MultiDict({"reason": "不想要了", "detail": "太甜"})).full_reason == "不想要了：太甜"
        assert parse_form(RefundForm, MultiDict({})).full_reason == ""


@pytest.mark.parametrize("qty", ["abc", "-1", "100", "1.5"])
def test_a_refund_quantity_that_is_not_a_count_is_refused(app, qty):
    with app.test_request_context("/?lang=zh"):
        app.preprocess_request()
        with pytest.raises(BadRequest) as err:
            parse_form(RefundForm, MultiDict({"reason": "不想要了", "qty_7": qty}))
        assert err.value.details["field"].startswith("quantities")
        assert err.value.message("zh").startswith("字段 quantities")


def test_review_form_reads_stars_and_refuses_an_overlong_text(app):
    with app.test_request_context("/"):
        assert parse_form(ReviewForm, MultiDict({"rating": "4", "body": " 好喝 "})).body == "好喝"
        assert parse_form(ReviewForm, MultiDict({"rating": "five"})).rating == 0  # the service asks for 1–5 stars
        with pytest.raises(BadRequest) as err:
            parse_form(ReviewForm, MultiDict({"rating": "5", "body": "好" * 501}))
        assert err.value.details["field"] == "body"
