"""What every console list shares (templates/console/_list.html, app.web.console.listing): the filter selects
keep the choice made, speak the page's language and offer only what the person may pick; the audit log pages
through listing.page_of like the sorted lists."""
from __future__ import annotations

import re

from tests.web.console_support import console_client, post


def _options(page: str, name: str) -> list[tuple[str, bool, str]]:
    """(value, selected, text) of each option of the select called `name`."""
    select = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(value, bool(selected.strip()), text)
            for value, selected, text in re.findall(r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select)]


def test_filter_selects_keep_the_choice_and_speak_the_page_language(app, world):
    owner = console_client(app, world.owner)
    page = owner.get(f"/console/orders?lang=en&status=picked_up&store={world.store_b.id}").get_data(as_text=True)
    assert ("picked_up", True, "Picked up") in _options(page, "status")
    assert _options(page, "store") == [("", False, "All stores"),
                                       (str(world.store.id), False, world.store.name),
                                       (str(world.store_b.id), True, world.store_b.name)]
    assert ("created", True, "Ordered at") in _options(page, "on")  # no ?on=: the default is chosen
    page = owner.get("/console/stores?status=paused&lang=zh").get_data(as_text=True)
    assert _options(page, "status") == [("", False, "全部状态"), ("active", False, "营业中"), ("paused", True, "已暂停")]


def test_the_role_filter_offers_the_roles_this_person_manages(app, world):
    page = console_client(app, world.owner).get("/console/staff?lang=en").get_data(as_text=True)
    assert [text for _, _, text in _options(page, "role")] == ["All roles", "Owner", "Operator", "Store manager",
                                                                 "Cashier"]
    page = console_client(app, world.manager).get("/console/staff?role=cashier").get_data(as_text=True)
    assert _options(page, "role") == [("", False, "全部角色"), ("cashier", True, "收银员")]


def test_the_audit_log_pages_twenty_at_a_time_newest_first(app, world):
    owner = console_client(app, world.owner)
    for i in range(23):
        post(owner, f"/console/stores/{world.store.id}/{'pause' if i % 2 == 0 else 'resume'}")
    first = owner.get("/console/audit").get_data(as_text=True)
    assert first.count('data-testid="audit-row"') == 20
    assert "共 23 条" in first and "1 / 2" in first
    assert re.search(r'data-testid="audit-row" data-action="([a-z.]+)"', first).group(1) == "store.pause"  # the 23rd
    second = owner.get("/console/audit?page=2&action=").get_data(as_text=True)
    assert second.count('data-testid="audit-row"') == 3 and "2 / 2" in second
    assert owner.get("/console/audit?page=x").get_data(as_text=True).count('data-testid="audit-row"') == 20
