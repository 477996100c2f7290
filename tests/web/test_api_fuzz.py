"""Schemathesis against the served OpenAPI document: valid and invalid input to every /api/v1 operation,
with the right key, answers no 5xx and only responses the document describes. Fixed seed (derandomized)
and a bounded number of examples per operation, so a run is repeatable and quick."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.extensions import db
from app.web.api.docs import SPEC
from tests.support.factories import make_product

# Per operation, valid and invalid input together; FUZZ_EXAMPLES=300 for a longer search (about 2 minutes).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
OPERATIONS = [(method, path) for path, item in json.loads(Path(SPEC).read_text(encoding="utf-8"))["paths"].items()
              for method in item]
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def real_rows(app, world) -> tuple[dict, str]:
    """A voucher with uses to spare and one redemption of it, so that some cases reach a real row."""
    client = app.test_client()
    voucher = client.post("/api/v1/vouchers", headers=bearer(world.merchant_key),
                          json={"title": "洗车卡", "uses": 1000}).get_json()
    redeemed = client.post("/api/v1/counter/redeem", headers=bearer(world.counter_key),
                           json={"code": voucher["code"]}).get_json()
    product = make_product(world.merchant, "拿铁", stock={world.store: 5})
    product.skus[0].code = "FUZZ-1"
    db.session.commit()
    return {"voucher_id": voucher["id"], "redemption_id": redeemed["redemption"]["id"],
            "store_id": world.store.id}, voucher["code"]


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_api_answers_any_input_as_documented(app, world, method, path):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method.upper()]
    headers = {"Accept-Encoding": "identity"}  # the WSGI transport does not decompress
    if path != "/openapi.json":
        merchant_paths = ("/vouchers", "/products", "/stores")
        headers.update(bearer(world.merchant_key if path.startswith(merchant_paths) else world.counter_key))
    ids, code = real_rows(app, world)
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                  operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
    real = {name: value for name, value in ids.items() if f"{{{name}}}" in path}
    if real:
        strategies.append(operation.as_strategy(path_parameters=real))
    if path == "/stores/{store_id}/stock":
        strategies.append(operation.as_strategy(path_parameters=real,
                                                body={"items": [{"sku_code": "FUZZ-1", "quantity": 3}]}))
    if path in ("/counter/verify", "/counter/redeem"):
        strategies.append(operation.as_strategy(body={"code": code}))
    cases = st.one_of(strategies)

    @given(case=cases)
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()
