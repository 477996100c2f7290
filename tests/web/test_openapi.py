"""The OpenAPI document at app/web/api/openapi.json: valid OpenAPI 3.1, in step with the routes, the request
models and the error codes, and real responses validate against it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.web.api.docs import SPEC

DOC = json.loads(Path(SPEC).read_text(encoding="utf-8"))
BASE = "urn:o2o:openapi"
REGISTRY = Registry().with_resource(BASE, Resource.from_contents(DOC, default_specification=DRAFT202012))
PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "patch"}


# ---------------------------------------------------------------- helpers

def _pointer(*parts: str) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _resolve(ref: str):
    assert ref.startswith("#/"), ref
    node = DOC
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _follow(node: dict) -> dict:
    while isinstance(node, dict) and set(node) >= {"$ref"} and not node["$ref"].startswith("#/components/schemas"):
        node = _resolve(node["$ref"])
    return node


def response_media(path: str, method: str, status: int | str) -> tuple[dict, str]:
    """The response's JSON media type object and the JSON pointer of its schema."""
    responses = DOC["paths"][path][method]["responses"]
    response = responses[str(status)]
    pointer = _pointer("paths", path, method, "responses", str(status))
    if "$ref" in response:
        pointer = response["$ref"][1:]
        response = _resolve(response["$ref"])
    return response["content"]["application/json"], pointer + _pointer("content", "application/json", "schema")


def validator_at(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=REGISTRY,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_validator(name: str) -> Draft202012Validator:
    return validator_at(_pointer("components", "schemas", name))


def assert_valid(validator: Draft202012Validator, instance) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def documented_properties(schema: dict) -> set[str]:
    """Property names an object schema documents, through $ref and allOf (and any branch of oneOf/anyOf:
    validation has already decided which branch an instance matches)."""
    if "$ref" in schema:
        return documented_properties(_resolve(schema["$ref"]))
    names = set(schema.get("properties", {}))
    for sub in [*schema.get("allOf", []), *schema.get("oneOf", []), *schema.get("anyOf", [])]:
        names |= documented_properties(sub)
    return names


def assert_documented(schema: dict, instance: dict, where: str = "") -> None:
    """No field in a real response that the document does not name (the schemas themselves stay open)."""
    extra = set(instance) - documented_properties(schema)
    assert not extra, f"undocumented fields at {where or 'top'}: {sorted(extra)}"


def check_response(path: str, method: str, response) -> None:
    media, pointer = response_media(path, method, response.status_code)
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    assert_valid(validator_at(pointer), body)
    schema = media["schema"]
    assert_documented(schema, body)
    for key, value in body.items():  # one level down: voucher, redemption, error
        sub = _resolve(schema["$ref"]) if "$ref" in schema else schema
        prop = _follow(next((s["properties"][key] for s in [sub, *sub.get("allOf", [])]
                             if key in s.get("properties", {})), {}))
        if isinstance(value, dict) and prop:
            assert_documented(prop, value, key)


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


# ---------------------------------------------------------------- the document itself

def test_document_is_valid_openapi_3_1():
    assert DOC["openapi"].startswith("3.1.")
    validate_spec(DOC)  # raises on any problem; picks the 3.1 validator from the version


def test_every_example_matches_its_schema():
    checked = 0
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            media_list = [(op.get("requestBody", {}).get("content", {}).get("application/json"),
                           _pointer("paths", path, method, "requestBody", "content", "application/json", "schema"))]
            media_list += [response_media(path, method, status) for status in op["responses"]]
            for media, pointer in media_list:
                if not media:
                    continue
                examples = [media["example"]] if "example" in media else []
                examples += [e["value"] for e in media.get("examples", {}).values()]
                for example in examples:
                    assert_valid(validator_at(pointer), example)
                    checked += 1
    for name, schema in DOC["components"]["schemas"].items():
        for example in schema.get("examples", []):
            assert_valid(schema_validator(name), example)
            checked += 1
    assert checked > 20


def _flask_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def test_paths_and_methods_match_the_registered_routes(app):
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            methods = {m.lower() for m in rule.methods} - {"head", "options"}
            routes.setdefault(_flask_path(rule.rule[len(PREFIX):]), set()).update(methods)
    documented = {path: {m for m in item if m in METHODS} for path, item in DOC["paths"].items()}
    assert routes == documented


def test_every_operation_has_security_responses_and_an_operation_id():
    ids = []
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            if path == "/openapi.json":
                assert op["security"] == []
                continue
            scheme = "merchantKey" if path.startswith(("/vouchers", "/products", "/stores", "/campaigns")) else "counterKey"
            assert op["security"] == [{scheme: []}], (path, method)
            assert {"401", "403", "default"} <= set(op["responses"]), (path, method)
    assert len(ids) == len(set(ids))
    assert set(DOC["components"]["securitySchemes"]) == {"merchantKey", "counterKey"}


@pytest.mark.parametrize("model, schema", [
    ("IssueVoucher", "IssueVoucherRequest"), ("Present", "PresentRequest"), ("Redeem", "RedeemRequest"),
    ("Undo", "UndoRequest"), ("Revoke", "RevokeRequest"),
    ("coupons:CampaignRequest", "CampaignRequest"), ("coupons:GrantRequest", "GrantRequest"),
])
def test_request_bodies_match_the_pydantic_models(model, schema):
    from app.coupons import schemas as coupon_schemas
    from app.vouchers import schemas

    module, _, model = model.rpartition(":")
    fields = getattr(coupon_schemas if module == "coupons" else schemas, model).model_fields
    documented = DOC["components"]["schemas"][schema]
    assert set(documented["properties"]) == {f.alias or n for n, f in fields.items()}
    assert set(documented.get("required", [])) == {n for n, f in fields.items() if f.is_required()}
    assert documented["additionalProperties"] is False  # pydantic: extra="forbid"


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _error_classes():
    # Import every module that defines DomainError subclasses (the JSON envelope is shared by the whole app).
    import app.orders.errors  # noqa: F401
    import app.payments.providers  # noqa: F401
    import app.payments.service  # noqa: F401
    import app.vouchers.errors  # noqa: F401
    import app.web.shop.auth  # noqa: F401
    import app.web.shop.orders  # noqa: F401
    import app.catalog.editing  # noqa: F401
    import app.catalog.photos  # noqa: F401
    import app.coupons.errors  # noqa: F401
    from app.core.errors import DomainError

    return list(_subclasses(DomainError))


def _error_table() -> dict[str, tuple[str, str]]:
    """The Errors table in the API description: code -> (HTTP, API column)."""
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|", DOC["info"]["description"], re.M)
    codes = [code for code, _, _ in rows]
    assert len(codes) == len(set(codes)), "a code is tabled twice"
    return {code: (http.strip(), api.strip()) for code, http, api in rows}


def test_every_error_code_is_in_the_enum():
    from app.web.errors import HTTP_CODES

    classes = _error_classes()
    codes = {cls.code for cls in classes} | set(HTTP_CODES.values()) | {"server_error", "error"}
    assert set(DOC["components"]["schemas"]["ErrorCode"]["enum"]) == codes


def test_error_table_lists_every_code_with_its_status():
    table = _error_table()
    assert set(table) == set(DOC["components"]["schemas"]["ErrorCode"]["enum"])
    for cls in _error_classes():
        if cls.code != "error":  # abstract bases (SignInError) keep DomainError's code
            assert table[cls.code][0] == str(cls.status), cls
    assert {"✓", "shop"} <= {api for _, api in table.values()} <= {"✓", "shop", "console"}
    # The codes the /api/v1 operations document in their responses are all marked as API codes.
    shop_only = {code for code, (_, api) in table.items() if api != "✓"}
    for item in DOC["paths"].values():
        for op in item.values():
            for response in op["responses"].values():
                response = _resolve(response["$ref"]) if "$ref" in response else response
                for example in response.get("content", {}).get("application/json", {}).get("examples", {}).values():
                    if "error" in example["value"]:
                        assert example["value"]["error"]["code"] not in shop_only


def test_served_document_is_the_file_with_this_deployments_server(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    served = r.get_json()
    assert served["servers"] == [{"url": "http://shop.test/api/v1"}]
    assert {k: v for k, v in served.items() if k != "servers"} == {k: v for k, v in DOC.items() if k != "servers"}


# ---------------------------------------------------------------- real responses

def test_real_responses_validate(client, world):
    mk, ck = bearer(world.merchant_key), bearer(world.counter_key)

    issued = client.post("/api/v1/vouchers", headers=mk, json={
        "title": "拿铁兑换券", "value_fen": 2800, "valid_until": "2099-12-31", "store_ids": [world.store.id],
        "reference": "ERP-1"})
    assert issued.status_code == 201, issued.get_json()
    check_response("/vouchers", "post", issued)
    assert issued.get_json()["valid_until"] == "2099-12-31T16:00:00Z"  # end of that day in Asia/Shanghai
    code = issued.get_json()["code"]

    verified = client.post("/api/v1/counter/verify", headers=ck, json={"code": code})
    assert verified.status_code == 200, verified.get_json()
    check_response("/counter/verify", "post", verified)

    redeemed = client.post("/api/v1/counter/redeem", headers=ck, json={"code": code, "idempotency_key": "r-1"})
    assert redeemed.status_code == 200, redeemed.get_json()
    check_response("/counter/redeem", "post", redeemed)

    replay = client.post("/api/v1/counter/redeem", headers=ck, json={"code": code, "idempotency_key": "r-1"})
    assert replay.status_code == 200 and replay.get_json() == redeemed.get_json()  # the first answer, identical

    refused = client.post("/api/v1/counter/redeem", headers=ck, json={"code": code, "idempotency_key": "r-2"})
    assert refused.status_code == 409
    check_response("/counter/redeem", "post", refused)
    error = refused.get_json()["error"]
    assert error["code"] == "already_redeemed"
    assert {"redeemed_at", "redeemed_at_local", "store_id", "store_name", "staff_name", "voucher"} <= set(error)


def test_more_real_responses_validate(client, world):
    mk, ck, ckb = bearer(world.merchant_key), bearer(world.counter_key), bearer(world.counter_key_b)
    issued = client.post("/api/v1/vouchers", headers=mk, json={"title": "洗车十次卡", "uses": 3,
                                                                "store_ids": [world.store.id]}).get_json()
    vid, code = issued["id"], issued["code"]

    check_response("/vouchers/{voucher_id}", "get", client.get(f"/api/v1/vouchers/{vid}", headers=mk))
    check_response("/counter/verify", "post",
                   r := client.post("/api/v1/counter/verify", headers=ckb, json={"code": code}))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "wrong_store"

    redeemed = client.post("/api/v1/counter/redeem", headers=ck, json={"code": code, "uses": 2})
    assert redeemed.status_code == 200
    rid = redeemed.get_json()["redemption"]["id"]
    check_response("/counter/redemptions", "get", client.get("/api/v1/counter/redemptions", headers=ck))
    check_response("/counter/redeem", "post",
                   r := client.post("/api/v1/counter/redeem", headers=ck, json={"code": code, "uses": 5}))
    assert r.get_json()["error"]["code"] == "not_enough_uses"

    undone = client.post(f"/api/v1/counter/redemptions/{rid}/undo", headers=ck, json={"reason": "顾客取消"})
    assert undone.status_code == 200
    check_response("/counter/redemptions/{redemption_id}/undo", "post", undone)
    revoked = client.post(f"/api/v1/vouchers/{vid}/revoke", headers=mk, json={"reason": "重复发放"})
    assert revoked.status_code == 200
    check_response("/vouchers/{voucher_id}/revoke", "post", revoked)

    for path, method, response in [
        ("/vouchers", "post", client.post("/api/v1/vouchers", headers=mk, json={"title": "", "colour": "red"})),
        ("/vouchers", "post", client.post("/api/v1/vouchers", headers=ck, json={"title": "x"})),
        ("/vouchers", "post", client.post("/api/v1/vouchers", json={"title": "x"})),
        ("/counter/verify", "post", client.post("/api/v1/counter/verify", headers=ck, json={"code": "K7QD-9XWF-3M2P"})),
        ("/counter/verify", "post", client.post("/api/v1/counter/verify", headers=ck, json={"code": "K7QD-9XWF-3M2F"})),
        ("/counter/verify", "post", client.post("/api/v1/counter/verify", headers=ck, json={"code": code})),
        ("/vouchers/{voucher_id}", "get", client.get("/api/v1/vouchers/999999", headers=mk)),
    ]:
        assert response.status_code >= 400
        check_response(path, method, response)


def test_stale_qr_and_guess_limit_errors_validate(client, world, frozen):
    from datetime import timedelta

    from app.core import clock
    from app.vouchers.tokens import make_qr_token

    mk, ck = bearer(world.merchant_key), bearer(world.counter_key)
    issued = client.post("/api/v1/vouchers", headers=mk, json={"title": "拿铁兑换券"}).get_json()
    rotating = make_qr_token("test-secret", issued["id"], rotating=True)
    clock.advance(timedelta(seconds=121))  # QR_MAX_AGE_SECONDS is 120
    stale = client.post("/api/v1/counter/verify", headers=ck, json={"code": f"http://shop.test/v/{rotating}"})
    assert stale.status_code == 410 and stale.get_json()["error"]["code"] == "qr_expired"
    check_response("/counter/verify", "post", stale)

    for _ in range(10):  # GUESS_LIMITS: 10 failed lookups a minute per key
        assert client.post("/api/v1/counter/verify", headers=ck, json={"code": "K7QD-9XWF-3M2F"}).status_code == 404
    limited = client.post("/api/v1/counter/redeem", headers=ck, json={"code": issued["code"]})
    assert limited.status_code == 429 and limited.get_json()["error"]["scope"] == "device"
    check_response("/counter/redeem", "post", limited)
    error = limited.get_json()["error"]
    assert error["retry_at"].endswith("Z") and re.fullmatch(r"\d{2}:\d{2}:\d{2}", error["retry_at_local"])


def test_issue_is_idempotent_by_reference(client, world):
    mk = bearer(world.merchant_key)
    first = client.post("/api/v1/vouchers", headers=mk, json={"title": "拿铁兑换券", "reference": "ERP-9"})
    assert first.status_code == 201 and first.get_json()["reference"] == "ERP-9"
    again = client.post("/api/v1/vouchers", headers=mk, json={"title": "另一个标题", "reference": "ERP-9"})
    assert again.status_code == 200
    check_response("/vouchers", "post", again)
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["title"] == "拿铁兑换券"
    plain = client.post("/api/v1/vouchers", headers=mk, json={"title": "拿铁兑换券"})
    assert plain.status_code == 201 and plain.get_json()["reference"] is None
    check_response("/vouchers", "post", plain)
    read = client.get(f"/api/v1/vouchers/{first.get_json()['id']}", headers=mk)
    check_response("/vouchers/{voucher_id}", "get", read)
    assert read.get_json()["reference"] == "ERP-9" and "token" in read.get_json()


def test_shop_order_voucher_at_the_counter_and_read(client, world):
    from app.core.database import commit
    from app.orders import service as orders
    from app.payments.models import PayMethod
    from tests.support.factories import make_member, make_product

    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 5})
    member = make_member(world.merchant, "小明")
    order = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 2)],
                               pay_method=PayMethod.STORE)
    commit()
    mk, ck = bearer(world.merchant_key), bearer(world.counter_key)

    read = client.get(f"/api/v1/vouchers/{order.voucher_id}", headers=mk)
    assert read.status_code == 200
    check_response("/vouchers/{voucher_id}", "get", read)
    assert read.get_json()["source"] == "order" and not {"token", "qr_url", "holder_url", "reference"} & set(read.get_json())

    verified = client.post("/api/v1/counter/verify", headers=ck, json={"code": read.get_json()["code"]})
    assert verified.status_code == 200, verified.get_json()
    check_response("/counter/verify", "post", verified)
    info = verified.get_json()["order"]
    assert info["number"] == order.number and info["pay_method"] == "store" and info["fulfilment"] == "pickup"
    assert info["amount_due_fen"] == info["total_fen"] == 5000 and info["member"] == "小明"


def test_the_counter_names_the_customer_one_way_before_and_after_redeeming(client, world):
    """Issue #9 point 8: 小明 before redeeming was 会员 #1 in the already-redeemed refusal."""
    from app.core.database import commit
    from app.extensions import db as _db
    from app.members.models import Member
    from app.orders import service as orders
    from app.payments.models import PayMethod
    from app.vouchers.models import Voucher
    from tests.support.factories import make_member, make_product, make_voucher

    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 5})
    member = make_member(world.merchant, "小明")
    order = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 1)],
                               pay_method=PayMethod.STORE)
    nameless = Member(merchant_id=world.merchant.id, openid="wx-nameless")
    _db.session.add(nameless)
    _db.session.flush()
    card = make_voucher(world.merchant, member_id=nameless.id)
    commit()
    ck = bearer(world.counter_key)
    code = _db.session.get(Voucher, order.voucher_id).code

    before = client.post("/api/v1/counter/verify", headers=ck, json={"code": code}).get_json()
    assert before["order"]["member"] == before["voucher"]["member_name"] == "小明"
    check_response("/counter/verify", "post", client.post("/api/v1/counter/verify", headers=ck, json={"code": code}))
    assert client.post("/api/v1/counter/redeem", headers=ck, json={"code": code}).status_code == 200
    after = client.post("/api/v1/counter/verify", headers=ck, json={"code": code})
    assert after.status_code == 409 and after.get_json()["error"]["code"] == "already_redeemed"
    assert after.get_json()["error"]["voucher"]["member_name"] == "小明"
    # A member without a nickname has one name too, the same one the shop shows them.
    named = client.post("/api/v1/counter/verify", headers=ck, json={"code": card.code}).get_json()
    assert named["voucher"]["member_name"] == nameless.display_name == f"会员{nameless.id}"
    bearer_card = make_voucher(world.merchant)
    commit()
    assert client.post("/api/v1/counter/verify", headers=ck,
                       json={"code": bearer_card.code}).get_json()["voucher"]["member_name"] is None


def test_redeem_retry_replays_before_the_code_is_read_again(client, world, frozen):
    from datetime import timedelta

    from app.core import clock
    from app.vouchers.tokens import make_qr_token

    mk, ck = bearer(world.merchant_key), bearer(world.counter_key)
    issued = client.post("/api/v1/vouchers", headers=mk, json={"title": "拿铁兑换券"}).get_json()
    other = client.post("/api/v1/vouchers", headers=mk, json={"title": "拿铁兑换券"}).get_json()
    rotating = f"http://shop.test/v/{make_qr_token('test-secret', issued['id'], rotating=True)}"

    first = client.post("/api/v1/counter/redeem", headers=ck, json={"code": rotating, "idempotency_key": "pos-1"})
    assert first.status_code == 200, first.get_json()
    clock.advance(timedelta(seconds=121))  # the QR the retry carries is stale now
    retry = client.post("/api/v1/counter/redeem", headers=ck, json={"code": rotating, "idempotency_key": "pos-1"})
    assert retry.status_code == 200 and retry.get_json() == first.get_json()
    check_response("/counter/redeem", "post", retry)
    fresh = client.post("/api/v1/counter/redeem", headers=ck, json={"code": rotating, "idempotency_key": "pos-2"})
    assert fresh.status_code == 410 and fresh.get_json()["error"]["code"] == "qr_expired"

    for _ in range(10):  # use up the guess allowance: the retry is still answered
        client.post("/api/v1/counter/verify", headers=ck, json={"code": "K7QD-9XWF-3M2F"})
    retry = client.post("/api/v1/counter/redeem", headers=ck, json={"code": rotating, "idempotency_key": "pos-1"})
    assert retry.status_code == 200 and retry.get_json() == first.get_json()

    reused = client.post("/api/v1/counter/redeem", headers=ck, json={"code": other["code"], "idempotency_key": "pos-1"})
    assert reused.status_code == 400
    check_response("/counter/redeem", "post", reused)
    assert reused.get_json()["error"]["code"] == "bad_request"
    assert reused.get_json()["error"]["field"] == "idempotency_key"


def test_document_describes_only_what_exists():
    # The merchant console (issue #10) is named only where the Errors table marks the codes its pages return.
    text = json.dumps(DOC, ensure_ascii=False)
    assert "后台" not in text
    lines = [line for line in DOC["info"]["description"].splitlines() if "console" in line.lower()]
    assert lines and all(re.match(r"^\| `[a-z_]+` \| \d+ \| console \|", line) or "*console* =" in line
                         for line in lines), lines
    assert "console" not in json.dumps({k: v for k, v in DOC.items() if k != "info"}).lower()
    assert "`flask --app wsgi demo`" in DOC["info"]["description"]
