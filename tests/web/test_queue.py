"""The sync queue page: site pickers, every filter and sort of GET state, paging, bookmarks.

Rows on the page are checked against the REST listing with the same query.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.server.helpers import make_project, ok, publish, stamp
from tests.web.conftest import sign_in

OK, QUEUED, FAILED = 4, 1, 2


@pytest.fixture
def listed(api):  # type: ignore[no-untyped-def]
    """25 representations: sh010 (10, exr, queued on ws1), sh020 (10, abc, OK on ws1),
    sh030 (5, exr, not on ws1); all OK on studio."""
    make_project(api, "proj")
    ok(api.put("{api}/settings/proj", json={"enabled": True}))
    ok(api.put("{api}/settings/proj/site/ws1", json={"active_site": "local"}))
    groups = {"sh010": publish(api, "proj", count=10, folder="sh010", product="render",
                               name="exr"),
              "sh020": publish(api, "proj", count=10, folder="sh020", product="anim",
                               name="abc"),
              "sh030": publish(api, "proj", count=5, folder="sh030", product="render",
                               name="exr")}
    every = [rid for group in groups.values() for rid in group.ids]
    stamp(api, "proj", every, "studio", OK)
    stamp(api, "proj", groups["sh010"].ids, "ws1", QUEUED)
    stamp(api, "proj", groups["sh020"].ids, "ws1", OK)
    # a few priorities, so sorting by priority has something to do
    for rep_id, priority in zip(groups["sh010"].ids[:3], (90, 70, 80), strict=True):
        ok(api.post(f"{{api}}/proj/state/{rep_id}/ws1", json={"priority": priority}), 204)
    return groups


def page_ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#queue tbody tr[data-rep]").evaluate_all(
        "rows => rows.map(r => r.dataset.rep)")


def rest_ids(api, page) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """The REST listing for the query string the page shows."""
    query = parse_qs(urlsplit(page.url).query)
    query.setdefault("localSite", ["ws1"])
    query.setdefault("remoteSite", ["studio"])
    body = ok(api.get("{api}/proj/state", params=query))
    return [item["representationId"] for item in body["representations"]], body["total"]


def expect_rows_match(api, page) -> list[str]:  # type: ignore[no-untyped-def]
    ids, total = rest_ids(api, page)
    expect(page.locator("#queue tbody tr[data-rep]")).to_have_count(len(ids))
    assert page_ids(page) == ids
    if total:
        expect(page.locator("#total")).to_have_text(str(total))
    return ids


def test_filters_sorts_and_pages_match_the_rest_listing(page, api, server, listed, screenshot):
    sign_in(page, next_path="/projects/proj")
    expect(page.get_by_label("Local site")).to_have_value("ws1")  # the machine with settings
    expect(page.get_by_label("Remote site")).to_have_value("studio")
    assert len(expect_rows_match(api, page)) == 25
    screenshot("queue")

    page.get_by_label("Filter by folder").fill("sh01")
    page.get_by_label("Filter by folder").press("Enter")
    expect(page).to_have_url(re.compile(re.escape("folderFilter=sh01")))
    assert set(expect_rows_match(api, page)) == set(listed["sh010"].ids)

    # sort by version, then flip it, from the header
    page.get_by_role("link", name="Version").click()
    expect(page).to_have_url(re.compile(re.escape("sortBy=version")))
    descending = expect_rows_match(api, page)
    page.get_by_role("link", name="Version").click()
    expect(page).to_have_url(re.compile(re.escape("sortDesc=false")))
    assert expect_rows_match(api, page) == descending[::-1]

    # clear the folder, filter by product and version, then by representation names
    page.goto("/projects/proj?productFilter=anim&versionFilter=3")
    assert len(expect_rows_match(api, page)) == 1
    page.goto("/projects/proj")
    page.get_by_label("Filter by representation names").select_option(["abc"])
    page.get_by_role("button", name="Filter").click()
    assert set(expect_rows_match(api, page)) == set(listed["sh020"].ids)

    # status filters on either side, and rows on both sites only
    page.goto("/projects/proj")
    page.get_by_label("Filter by local status").select_option(["1", "4"])
    page.get_by_role("button", name="Filter").click()
    assert len(expect_rows_match(api, page)) == 20
    page.goto("/projects/proj?remoteStatusFilter=4&localStatusFilter=-1")
    assert set(expect_rows_match(api, page)) == set(listed["sh030"].ids)
    page.goto("/projects/proj")
    page.get_by_label("Only on both sites").check()
    page.get_by_role("button", name="Apply").click()
    assert len(expect_rows_match(api, page)) == 20

    # priority sort (the default) puts the raised ones first
    page.goto("/projects/proj?folderFilter=sh010")
    assert expect_rows_match(api, page)[:3] == [listed["sh010"].ids[i] for i in (0, 2, 1)]


def test_paging_keeps_the_filters_and_the_total(page, api, server, listed):
    sign_in(page, next_path="/projects/proj")
    page.get_by_label("Rows per page").select_option("25")
    expect(page).to_have_url(re.compile("pageLength=25"))
    page.goto("/projects/proj?pageLength=10&sortBy=folder&sortDesc=false")
    first = expect_rows_match(api, page)
    assert len(first) == 10
    expect(page.locator("#paging-summary")).to_contain_text("1–10 of 25")
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(re.escape("page=2")))
    second = expect_rows_match(api, page)
    page.get_by_role("link", name="Last page").click()
    third = expect_rows_match(api, page)
    assert len(third) == 5
    expect(page.locator("#paging-summary")).to_contain_text("21–25 of 25")
    assert len(set(first + second + third)) == 25
    query = parse_qs(urlsplit(page.url).query)
    assert query["sortBy"] == ["folder"] and query["pageLength"] == ["10"]

    # the address is the view: opening it again shows the same rows
    bookmark = page.url
    page.goto("/")
    page.goto(bookmark)
    assert page_ids(page) == third


def test_site_pickers_choose_the_listing(page, api, server, listed):
    sign_in(page, next_path="/projects/proj")
    page.get_by_label("Local site").select_option("studio")
    expect(page).to_have_url(re.compile(re.escape("localSite=studio")))
    expect_rows_match(api, page)
    options = page.get_by_label("Remote site").locator("option").all_text_contents()
    assert options[:1] == ["studio"] and "ws1" in options


def test_a_bad_filter_is_said_and_ignored(page, api, server, listed):
    sign_in(page)
    page.goto("/projects/proj?localStatusFilter=banana&versionFilter=x&sortBy=nope")
    expect(page.get_by_text("localStatusFilter 'banana' is not a status number")).to_be_visible()
    expect(page.get_by_text("sortBy 'nope' is not one of")).to_be_visible()
    expect(page.locator("#queue tbody tr[data-rep]")).to_have_count(25)
