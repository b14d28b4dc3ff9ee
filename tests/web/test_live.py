"""Live rows: progress pushed by server-sent events while a real sync service moves a file."""
from __future__ import annotations


import pytest
from playwright.sync_api import expect

from tests.studio import LOCAL_ID, PROJECT, Throttle
from tests.web.conftest import sign_in


# Samples the row's local progress bar every 100 ms: (milliseconds since start, value).
SAMPLER = """rep => {
    window.__samples = [];
    const started = performance.now();
    setInterval(() => {
        const bar = document.querySelector(`tr[data-rep="${rep}"] td[data-side="local"] progress`);
        if (bar) window.__samples.push([performance.now() - started, bar.value]);
    }, 100);
}"""


@pytest.mark.slow
def test_progress_advances_live_while_a_service_moves_a_large_file(page, api, server, studio,
                                                                  tmp_path, screenshot):
    studio.artist.LOG_PROGRESS_SEC = 0.25
    rep = studio.publish("big", [64 * 1024 * 1024], name="exr")
    sign_in(page, next_path=f"/projects/{PROJECT}")
    row = page.locator(f'#queue tr[data-rep="{rep["id"]}"]')
    expect(row.locator('td[data-side="local"]')).to_contain_text("not on site")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__same_page = true")
    page.evaluate(SAMPLER, rep["id"])

    service = studio.artist.create_service(state_dir=tmp_path / "state")
    throttle = service.observer = Throttle(0.25)
    studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
    service.start()
    try:
        local = row.locator('td[data-side="local"]')
        expect(local).to_contain_text("in progress", timeout=20_000)
        page.wait_for_function("() => window.__samples.some(([, v]) => v > 0.15)",
                               timeout=30_000)
        expect(row.locator("td.rate")).to_contain_text("/s")
        screenshot("queue-live")
        throttle.seconds = 0  # let it finish
        expect(local).to_contain_text("ok", timeout=60_000)
    finally:
        service.stop()
    samples = page.evaluate("window.__samples")
    values = [value for _, value in samples]
    assert values == sorted(values), "progress never goes back"
    changes = [t for (t, v), (_, before) in zip(samples[1:], samples, strict=False)
               if v != before]
    assert len(changes) >= 3, samples
    gaps = [b - a for a, b in zip(changes, changes[1:], strict=False)]
    # Advancing at least once a second (with slack for a loaded test machine).
    assert max(gaps) < 2000, gaps
    assert page.evaluate("window.__same_page") is True
    assert studio.artist.is_representation_on_site(PROJECT, rep["id"], LOCAL_ID)


def test_a_change_between_the_page_and_its_stream_is_not_missed(page, studio):
    """The page's data is read, then its event stream opens: a change in between still
    reaches the row, because the stream starts from the event id the page was made at."""
    rep = studio.publish("sh010", [1000])
    changed = []

    def change_first(route):  # type: ignore[no-untyped-def]
        if not changed:
            studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
            changed.append(True)
        route.continue_()

    sign_in(page)
    page.route("**/events/stream?*", change_first)
    page.goto(f"/projects/{PROJECT}")
    row = page.locator(f'#queue tr[data-rep="{rep["id"]}"]')
    expect(page.locator("#live")).to_have_text("live")
    assert changed
    expect(row.locator('td[data-side="local"]')).to_contain_text("queued")
