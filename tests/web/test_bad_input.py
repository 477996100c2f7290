"""Bad input never gets a 500: ids out of any column's range, JSON nested too deep, bodies too large, values
of the wrong type. Each is a 4xx in the usual envelope (or page), in the caller's language."""
from __future__ import annotations

import re

import pytest

HUGE = 2**63 + 1  # beyond SQLite's INTEGER
PG_OVER = 2**31  # beyond PostgreSQL's integer (our id columns)
CJK = re.compile(r"[\u4e00-\u9fff]")


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return error


def all_chinese(message: str, *allowed: str) -> bool:
    """No Latin words in a Chinese sentence except the names given (field names, codes)."""
    for name in allowed:
        message = message.replace(name, "")
    return bool(CJK.search(message)) and not re.search(r"[A-Za-z]{2,}", message)


# ---------------------------------------------------------------- ids in paths (point 2)

@pytest.mark.parametrize("big", [HUGE, PG_OVER, 10**40, 0])
def test_api_ids_out_of_range_are_not_found(client, world, big):
    mk, ck = bearer(world.merchant_key), bearer(world.counter_key)
    assert_error(client.get(f"/api/v1/vouchers/{big}", headers=mk), 404, "not_found")
    assert_error(client.post(f"/api/v1/vouchers/{big}/revoke", headers=mk, json={"reason": "x"}), 404, "not_found")
    assert_error(client.post(f"/api/v1/counter/redemptions/{big}/undo", headers=ck, json={"reason": "x"}),
                 404, "not_found")


@pytest.mark.parametrize("big", [HUGE, PG_OVER])
def test_page_ids_out_of_range_are_not_found_pages(client, world, big):
    for url in [f"/m/{world.merchant.slug}/p/{big}", f"/m/{world.merchant.slug}/p/{big}/qr.png",
                f"/m/{world.merchant.slug}/s/{big}", f"/orders/{big}", f"/orders/{big}/status",
                f"/orders/{big}/review/{big}"]:
        r = client.get(url)
        assert r.status_code == 404, url
        assert "页面或资源不存在" in r.get_data(as_text=True), url


def test_every_integer_path_part_uses_the_bounded_converter(app):
    from app.web.converters import IdConverter

    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            assert not (type(converter).__name__ == "IntegerConverter"), (rule.rule, name)
            if name.endswith("_id"):
                assert isinstance(converter, IdConverter), (rule.rule, name)


# ---------------------------------------------------------------- JSON depth (point 2)

@pytest.mark.parametrize("body", ["[" * 5000 + "]" * 5000, '{"code": ' + "[" * 5000 + "]" * 5000 + "}",
                                  '{"a":' * 3000 + "1" + "}" * 3000])
def test_json_nested_too_deep_is_bad_request(client, world, body):
    r = client.post("/api/v1/counter/verify", headers=bearer(world.counter_key), data=body,
                    content_type="application/json")
    error = assert_error(r, 400, "bad_request")
    assert error["field"] == "body"


def test_json_of_ordinary_depth_still_parses(client, world):
    r = client.post("/api/v1/counter/verify", headers=bearer(world.counter_key),
                    json={"code": "K7QD-9XWF-3M2F", "x": [[[[{"y": ["[{"]}]]]]})
    assert assert_error(r, 400, "bad_request")["field"] == "x"  # parsed, then refused as an unknown field


# ---------------------------------------------------------------- body size (point 3)

class Body:
    """A request body that records how much of it was read."""

    def __init__(self, size: int):
        self.size, self.pos, self.read_bytes = size, 0, 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        self.pos += n
        self.read_bytes += n
        return b" " * n

    def readline(self, n: int = -1) -> bytes:
        return self.read(n)

    def tell(self) -> int:  # the test client measures the stream (that reads nothing)
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: 0, 1: self.pos, 2: self.size}[whence] + offset
        return self.pos

    def close(self) -> None:
        pass


def test_oversized_json_is_refused_before_it_is_read(app, client, world):
    body = Body(50 * 1024 * 1024)
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key), input_stream=body,
                    content_length=body.size, content_type="application/json")
    assert_error(r, 413, "too_large")
    assert body.read_bytes == 0


def test_oversized_json_without_a_length_is_cut_off_at_the_limit(app, client, world):
    body = Body(50 * 1024 * 1024)
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key), input_stream=body,
                    content_type="application/json",
                    environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    assert_error(r, 413, "too_large")
    assert body.read_bytes <= app.config["MAX_JSON_BYTES"] + 64 * 1024


def test_a_json_body_under_the_limit_is_read(client, world):
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key),
                    json={"title": "拿铁兑换券", "note": "x" * 200})
    assert r.status_code == 201


def test_oversized_form_is_refused_with_a_page(app, client, world):
    body = Body(app.config["MAX_FORM_BYTES"] + 1)
    r = client.post("/counter/login", input_stream=body, content_length=body.size,
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and body.read_bytes == 0
    assert 'data-code="too_large"' in r.get_data(as_text=True)


def test_limits_per_kind_of_request(app):
    assert app.config["MAX_JSON_BYTES"] < app.config["MAX_FORM_BYTES"] < app.config["MAX_UPLOAD_BYTES"]
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["MAX_UPLOAD_BYTES"]  # the ceiling for every request


def test_a_view_that_takes_uploads_gets_the_upload_limit(tmp_path):
    import io

    from flask import request

    from app import create_app
    from app.web.limits import accepts_uploads

    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                     instance_path=tmp_path)

    @accepts_uploads
    def upload():
        return {"size": len(request.files["photo"].read())}

    app.add_url_rule("/_test/upload", "upload", upload, methods=["POST"])
    app.add_url_rule("/_test/form", "form", lambda: {"size": len(request.files["photo"].read())}, methods=["POST"])
    c = app.test_client()
    over_form_limit = app.config["MAX_FORM_BYTES"] + 10
    r = c.post("/_test/upload", data={"photo": (io.BytesIO(b"x" * over_form_limit), "p.jpg")})
    assert r.status_code == 200 and r.get_json()["size"] == over_form_limit
    r = c.post("/_test/form", data={"photo": (io.BytesIO(b"x" * over_form_limit), "p.jpg")})
    assert r.status_code == 413  # a view not marked for uploads keeps the form limit
    too_big = Body(app.config["MAX_UPLOAD_BYTES"] + 1)
    r = c.post("/_test/upload", input_stream=too_big, content_type="multipart/form-data; boundary=x")
    assert r.status_code == 413 and too_big.read_bytes == 0


# ---------------------------------------------------------------- strict types, in the caller's language (point 4)

@pytest.mark.parametrize("uses", ["2", True, 2.0, None, [1]])
def test_uses_must_be_a_whole_number(client, world, uses):
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key), json={"title": "券", "uses": uses})
    error = assert_error(r, 400, "bad_request")
    assert error["field"] == "uses"
    assert all_chinese(error["message"], "uses"), error["message"]


def test_strings_are_not_numbers_and_numbers_are_not_strings(client, world):
    ck = bearer(world.counter_key)
    error = assert_error(client.post("/api/v1/counter/verify", headers=ck, json={"code": 123}), 400, "bad_request")
    assert error["field"] == "code" and error["message"] == "字段 code 应为字符串。"
    error = assert_error(client.post("/api/v1/counter/verify?lang=en", headers=ck, json={"code": 123}),
                         400, "bad_request")
    assert error["message"] == "Field code must be a string."
    assert error["errors"] == [{"field": "code", "message": "Field code must be a string."}]
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key), json={"title": "券", "store_ids": ["1"]})
    assert assert_error(r, 400, "bad_request")["field"] == "store_ids.0"


@pytest.mark.parametrize("body, field", [
    ({"code": "x", "colour": "red"}, "colour"), ({}, "code"), ({"code": ""}, "code"), ({"code": "x" * 3000}, "code"),
    ({"code": "x", "uses": 0}, "uses"), ({"code": "x", "uses": 10**6}, "uses"), ({"code": "a\x00b"}, "code"),
])
def test_every_refusal_names_the_field_in_chinese(client, world, body, field):
    r = client.post("/api/v1/counter/verify", headers=bearer(world.counter_key), json=body)
    error = assert_error(r, 400, "bad_request")
    assert error["field"] == field
    assert all_chinese(error["message"], field), error["message"]
    en = client.post("/api/v1/counter/verify?lang=en", headers=bearer(world.counter_key), json=body)
    assert not CJK.search(en.get_json()["error"]["message"])


def test_values_beyond_the_columns_are_refused_not_overflowed(client, world):
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key), json={"title": "券", "value_fen": 2**31})
    assert assert_error(r, 400, "bad_request")["field"] == "value_fen"
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key), json={"title": "券", "store_ids": [2**31]})
    assert assert_error(r, 400, "bad_request")["field"] == "store_ids.0"


@pytest.mark.parametrize("lang, sentence", [("zh", "不支持"), ("en", "not allowed")])
def test_http_errors_answer_in_the_callers_language(client, world, lang, sentence):
    r = client.get(f"/api/v1/counter/verify?lang={lang}", headers=bearer(world.counter_key))
    error = assert_error(r, 405, "method_not_allowed")
    assert sentence in error["message"] and "POST" in r.headers["Allow"]
    if lang == "zh":
        assert all_chinese(error["message"]), error["message"]
    missing = assert_error(client.get(f"/api/v1/nowhere?lang={lang}"), 404, "not_found")
    assert (CJK.search(missing["message"]) is not None) == (lang == "zh")
    page = client.get(f"/counter/logout?lang={lang}")  # a browser: the error page, same language
    assert page.status_code == 405 and sentence in page.get_data(as_text=True) and "POST" in page.headers["Allow"]


# ---------------------------------------------------------------- ids in forms, queries and cookies (point 2)

@pytest.mark.parametrize("big", [str(HUGE), str(PG_OVER), "99999999999", "-1", "1e3", "١٢"])
def test_ids_in_forms_queries_and_cookies_are_not_server_errors(app, client, world, big):
    from tests.support.factories import make_product

    make_product(world.merchant, stock={world.store: 5})
    from app.extensions import db

    db.session.commit()
    slug = world.merchant.slug
    for r in [client.post(f"/m/{slug}/cart/add", data={"store_id": big, "sku_id": "1", "quantity": "1"}),
              client.post(f"/m/{slug}/cart/add", data={"store_id": str(world.store.id), "sku_id": big}),
              client.post(f"/m/{slug}/cart/update", data={"action": "switch", "store_id": big}),
              client.post(f"/m/{slug}/cart/update", data={"sku_id": big, "quantity": "1"}),
              client.get(f"/m/{slug}?store={big}"), client.get(f"/m/{slug}/p/1?store={big}")]:
        assert r.status_code < 500, (r.request.path, r.get_data(as_text=True)[:300])
    client.set_cookie(f"store_{world.merchant.id}", big)
    assert client.get(f"/m/{slug}").status_code < 500
    assert client.get(f"/m/{slug}/p/1").status_code < 500


@pytest.mark.parametrize("body, field", [
    ({"valid_from": "9999-12-31", "valid_days": 3660}, "valid_from"), ({"valid_until": "9999-12-31"}, "valid_until"),
    ({"valid_from": "0001-01-01T00:00:00+14:00"}, "valid_from"), ({"valid_from": "9999-12-31T23:59:59-14:00"}, "valid_from"),
    ({"valid_from": "2026-13-45"}, "valid_from"), ({"valid_until": "1999-12-31"}, "valid_until"),
])
def test_dates_beyond_any_voucher_are_refused_not_overflowed(client, world, body, field):
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key), json={"title": "券", **body})
    assert assert_error(r, 400, "bad_request")["field"] == field


def test_unstorable_characters_are_refused(client, world):
    r = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key), content_type="application/json",
                    data='{"title": "券", "reference": "a\\ud800b"}')  # a lone surrogate, as JSON escapes it
    error = assert_error(r, 400, "bad_request")
    assert error["field"] == "reference" and all_chinese(error["message"], "reference")
