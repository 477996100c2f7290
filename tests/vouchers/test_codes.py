import itertools
import math

import pytest

from app.vouchers import codes


def test_generated_codes_are_valid_and_use_the_alphabet():
    for _ in range(500):
        code = codes.generate()
        assert len(code) == 12
        assert set(code) <= set(codes.ALPHABET)
        assert codes.is_valid(code)


def test_alphabet_has_no_look_alikes():
    assert not set("01OIL") & set(codes.ALPHABET)
    assert len(codes.ALPHABET) == 31


def test_every_single_character_typo_is_caught():
    code = codes.generate()
    for i, wrong in itertools.product(range(len(code)), codes.ALPHABET):
        if wrong != code[i]:
            assert not codes.is_valid(code[:i] + wrong + code[i + 1:])


def test_every_adjacent_swap_is_caught():
    for _ in range(50):
        code = codes.generate()
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
                assert not codes.is_valid(swapped)


def test_pretty_and_normalise_round_trip():
    code = codes.generate()
    pretty = codes.pretty(code)
    assert pretty.count("-") == 2 and len(pretty) == 14
    assert codes.normalise(pretty.lower()) == code
    assert codes.normalise(f"  {pretty[:4]} {pretty[5:]} ") == code


def test_codes_do_not_repeat():
    assert len({codes.generate() for _ in range(20000)}) == 20000


def test_guessing_bound_from_the_docstring():
    """1,000,000 live vouchers, a year of tries at one store's per-minute limit: below 1 in 1,000."""
    from app.config import load_config

    per_minute = int(load_config.__globals__["SETTINGS"]["GUESS_LIMITS_STORE"][0].split("/")[0])
    tries = per_minute * 60 * 24 * 365
    p = tries * 1_000_000 / codes.BASE ** codes.RANDOM_LENGTH
    assert p < 1e-3
    assert math.isclose(p, 6.2e-4, rel_tol=0.01)


def test_guessing_bound_leaves_room_for_tries_in_flight():
    """The docstring: requests in flight at once may pass the per-minute limit; 48 a minute is still < 1e-3."""
    minutes = 60 * 24 * 365
    p_one = 1_000_000 / codes.BASE ** codes.RANDOM_LENGTH
    assert 48 * minutes * p_one < 1e-3 < 49 * minutes * p_one


@pytest.mark.parametrize("text", ["", "ABC", "K7QD-9XWF-3M2P-XX"])
def test_wrong_lengths_are_not_valid(text):
    assert not codes.is_valid(codes.normalise(text))
