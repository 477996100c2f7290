"""Short codes for typing at the counter, e.g. ``K7QD-9XWF-3M2P``.

* Alphabet: 31 characters, digits and capitals without the look-alikes 0/O, 1/I/L
  (django-oscar leaves out 0/O/1/I; L goes too because it reads as 1 in many fonts).
* 11 characters come from ``secrets`` (a cryptographic source); the 12th is a check character.
* Check character: a weighted sum modulo 31 (weights 1..11). 31 is prime and every weight is below it,
  so any single wrong character and any swap of two adjacent different characters change the check:
  a typo is caught before the database is asked.

How big must it be? Requirement: 1,000,000 live vouchers; an attacker at one store who uses every try the
rate limit allows for a whole year must hit any valid code with probability below 1 in 1,000.

    codes          = 31**11                         = 2.54e16
    p(one guess)   = 1e6 / 2.54e16                  = 3.94e-11   (the attacker can compute the check char)
    tries per year = 30 per minute per store (GUESS_LIMITS_STORE) * 60 * 24 * 365
                   = 15,768,000                     (the per-hour limit of 300 makes it 2,628,000)
    p(any hit)    <= 15,768,000 * 3.94e-11          = 6.2e-4  < 1e-3

With the hourly cap in force it is 1.0e-4. `tests/vouchers/test_codes.py` recomputes this bound.

The limits are what the bound needs only if every worker and machine counts the same tries: the counts live
in Redis, or in the database without Redis and while it is down (app.core.allowance), never in a worker's
memory (4 workers counting apart let 4 times as many through). Requests in flight for one key at the same
moment can pass a limit by at most their number (the count is read before the lookup and raised after it
fails): even 18 more a minute (48 a minute) keep p below 1e-3.

What counts as a try: every lookup that finds nothing, `not_found` and `forged` alike, so also a code
whose check character is wrong, though the database is never asked for it. The bound assumes the attacker
computes the check character (the rule is no secret: the counter page computes it as the cashier types), so
every try of theirs is well formed, and counting malformed codes changes nothing for them. For a guesser who
does not compute it, 30 of 31 random codes cannot match; counted, they keep the limit what it says (wrong
codes per minute), so such a guesser reaches 31 times fewer well-formed codes instead of flooding the
counter for free. A cashier's typo costs one of the device's 10 tries a minute, and the counter page flags
it while it is typed.
"""
from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)  # 31
RANDOM_LENGTH = 11
LENGTH = RANDOM_LENGTH + 1
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def check_char(body: str) -> str:
    total = sum((i + 1) * _INDEX[c] for i, c in enumerate(body))
    return ALPHABET[total % BASE]


def generate() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_char(body)


def normalise(text: str) -> str:
    """Upper-case, drop spaces and dashes. Does not validate."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def is_valid(code: str) -> bool:
    """`code` normalised. True when the length, alphabet and check character are right."""
    if len(code) != LENGTH or any(c not in _INDEX for c in code):
        return False
    return check_char(code[:-1]) == code[-1]


def looks_like_code(text: str) -> bool:
    """Could this typed text be a short code (as opposed to a scanned QR URL or token)?"""
    return len(normalise(text)) == LENGTH and len(text.strip()) <= LENGTH + 4


def pretty(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
