"""Failed lookups are limited per device, store and IP; refusals for real codes are not guesses."""
from app.vouchers import codes
from tests.vouchers.helpers import issue, redeem, verify


def test_wrong_codes_hit_the_limit_then_too_many_tries(client, world, app):
    app.config.update(GUESS_LIMITS="5/minute", GUESS_LIMITS_STORE="100/minute", GUESS_LIMITS_IP="100/minute")
    try:
        v = issue(client, world)
        for _ in range(5):
            assert verify(client, world.counter_key, codes.generate()).status_code == 404
        r = verify(client, world.counter_key, codes.generate())
        assert r.status_code == 429
        assert r.json["error"]["code"] == "too_many_tries" and r.json["error"]["scope"] == "device"
        # even a valid code is refused while the device is blocked
        assert verify(client, world.counter_key, v["code"]).status_code == 429
        # another store's counter is not affected
        assert verify(client, world.counter_key_b, v["code"]).status_code == 200
    finally:
        app.config.update(GUESS_LIMITS="10/minute;60/hour", GUESS_LIMITS_STORE="30/minute;300/hour",
                          GUESS_LIMITS_IP="20/minute;120/hour")


def test_forged_codes_count_as_tries(client, world, app):
    app.config.update(GUESS_LIMITS="3/minute")
    try:
        for _ in range(3):
            assert verify(client, world.counter_key, "2222-2222-2223").status_code in (400, 404)
        assert verify(client, world.counter_key, "anything.at.all").status_code == 429
    finally:
        app.config.update(GUESS_LIMITS="10/minute;60/hour")


def test_refusals_of_existing_codes_are_not_guesses(client, world, app):
    app.config.update(GUESS_LIMITS="3/minute")
    try:
        v = issue(client, world)
        redeem(client, world.counter_key, v["code"])
        for _ in range(10):
            assert redeem(client, world.counter_key, v["code"]).json["error"]["code"] == "already_redeemed"
    finally:
        app.config.update(GUESS_LIMITS="10/minute;60/hour")


def test_store_limit_is_shared_by_the_stores_devices_and_logged(client, world, app, caplog):
    app.config.update(GUESS_LIMITS="100/minute", GUESS_LIMITS_STORE="4/minute", GUESS_LIMITS_IP="100/minute")
    try:
        from app.merchants.models import KeyKind
        from app.merchants.service import create_api_key
        from app.extensions import db

        _, second_pos = create_api_key(world.merchant, kind=KeyKind.COUNTER, name="pos 2", store=world.store)
        db.session.commit()
        for key in (world.counter_key, second_pos, world.counter_key, second_pos):
            assert verify(client, key, codes.generate()).status_code == 404
        import logging

        logger = logging.getLogger("o2o")
        logger.addHandler(caplog.handler)
        try:
            r = verify(client, second_pos, codes.generate())
        finally:
            logger.removeHandler(caplog.handler)
        assert r.status_code == 429 and r.json["error"]["scope"] == "store"
        warned = [rec for rec in caplog.records if rec.getMessage() == "store hit the code-guess limit"]
        assert warned and warned[0].fields["store_id"] == world.store.id
        assert verify(client, world.counter_key_b, codes.generate()).status_code == 404
    finally:
        app.config.update(GUESS_LIMITS="10/minute;60/hour", GUESS_LIMITS_STORE="30/minute;300/hour",
                          GUESS_LIMITS_IP="20/minute;120/hour")
