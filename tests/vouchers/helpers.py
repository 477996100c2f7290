from __future__ import annotations


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def issue(client, world, **body) -> dict:
    body.setdefault("title", "拿铁兑换券")
    r = client.post("/api/v1/vouchers", json=body, headers=bearer(world.merchant_key))
    assert r.status_code == 201, r.json
    return r.json


def verify(client, key, code, **extra):
    return client.post("/api/v1/counter/verify", json={"code": code, **extra}, headers=bearer(key))


def redeem(client, key, code, **extra):
    return client.post("/api/v1/counter/redeem", json={"code": code, **extra}, headers=bearer(key))


def undo(client, key, redemption_id, reason="点错了"):
    return client.post(f"/api/v1/counter/redemptions/{redemption_id}/undo", json={"reason": reason},
                       headers=bearer(key))
