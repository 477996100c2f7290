"""State machines: one helper for every status change of every domain (vouchers, orders, payments,
refunds, and the group-buy teams to come).

A domain declares its machine as a table `{status: {statuses it may move to}}` and changes a row's status
only through `transition()`, which checks the table and then lets the database decide with one conditional
`UPDATE … WHERE id = :id AND status IN (<every status allowed to reach the target>)`. The row count says
whether this call moved the row: a job on two workers, or a notification delivered twice, moves it once.
Statements that decide in SQL by themselves (a redeem's `UPDATE`) take their `WHERE status IN …` from
`sources()` of the same table, so a rule lives once.
"""
from __future__ import annotations

import enum
from typing import Iterable, Mapping

import sqlalchemy as sa

from app.extensions import db

Table = Mapping[enum.Enum, "set[enum.Enum] | frozenset[enum.Enum]"]


class IllegalTransition(RuntimeError):
    """A status change the machine does not allow from the status the caller holds: a bug in the caller
    (a refusal the user can cause is a DomainError raised before asking for the change)."""

    def __init__(self, *, before, after):
        self.before, self.after = before, after
        super().__init__(f"status cannot change from {before} to {after}")


def allowed(table: Table, before, after) -> bool:
    return after in table.get(before, ())


def check(table: Table, before, after) -> None:
    """Raises IllegalTransition unless the table lets `before` move to `after`."""
    if not allowed(table, before, after):
        raise IllegalTransition(before=getattr(before, "value", before), after=getattr(after, "value", after))


def sources(table: Table, *targets) -> list:
    """Every status that may move to each of `targets`: the `WHERE status IN …` of a conditional update."""
    wanted = set(targets)
    return sorted((s for s, goes in table.items() if wanted <= set(goes)), key=lambda s: s.value)


def values(statuses: Iterable[enum.Enum]) -> list[str]:
    return [s.value for s in statuses]


def transition(row, to, table: Table, *, where: Iterable = (), **columns) -> bool:
    """Moves `row` (an ORM object with `id` and `status`) to `to` when its stored status may; True when this
    call did it, False when the row had already moved elsewhere (another worker won, or a repeat).

    The in-memory status is checked first: asking for a change the table forbids from the status this code
    believes in is a bug and raises IllegalTransition. `where` adds conditions; `columns` are set with it.
    The row is expired, so the next read sees the database's word."""
    check(table, row.status, to)
    model = type(row)
    done = db.session.execute(
        sa.update(model).where(model.id == row.id, model.status.in_(sources(table, to)), *where)
        .values(status=to, **columns).execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(row)
    return done == 1
