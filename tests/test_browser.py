"""The example app's pages in a real browser: Playwright driving Debian's headless Chromium.

The app runs on a free localhost port in a background thread, on a temporary SQLite file seeded
by the demo seed. Each step saves a screenshot into ``test-artifacts/`` (and a failing test one
more). Skipped, never failed, when Playwright or Chromium is missing; point ``CHROMIUM_PATH``
at another Chromium binary to use it.

Waits are explicit (``expect`` retries until its timeout, the pages flag when their data is
loaded); no sleeps, so a slow shared CI machine only makes the tests slower.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed", exc_type=ImportError
)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"No Chromium at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from example_app import create_app  # noqa: E402
from example_app.models import db  # noqa: E402
from example_app.seed import seed  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
]
TIMEOUT_MS = 10_000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example app, seeded, served by werkzeug on a free port in a background thread."""
    database = tmp_path_factory.mktemp("browser") / "demo.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        seed(reset=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="example-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    for stale in ARTIFACTS.glob("browser-*.png"):  # the artifacts show this run only
        stale.unlink()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test; a screenshot when the test fails."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        shoot(page, f"FAILED-{request.node.name}")
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"), full_page=True)


def sign_in(page: Page, name: str) -> None:
    page.goto("/")
    page.get_by_role("button", name=re.compile(rf"^{name}\b")).click()
    expect(page.get_by_role("heading", name="Goals", exact=True)).to_be_visible()


def api_get(page: Page, path: str) -> Any:
    """The Goals API as the signed-in browser user (same cookies), to check what pages show."""
    response = page.request.get(f"/api/goals{path}")
    assert response.ok, response.text()
    return response.json()


def fmt(value: str | None) -> str:
    """What the pages show for a decimal string: thousands separators, its own places."""
    return "—" if value is None else f"{Decimal(value):,}"


def month_label(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{MONTHS[day.month - 1]} {day.year}"


def open_goal_page(page: Page) -> None:
    page.wait_for_url(re.compile(r"/goals/\d+$"))
    expect(page.locator("#goal-root")).to_have_attribute("data-ready", "true")
    page.wait_for_load_state("networkidle")


def test_login_picker_signs_in_and_out(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to the demo")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Acme Parts"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Globex Supply"))).to_be_visible()
    shoot(page, "login-01-picker")

    sign_in(page, "Norbert Nord")
    expect(page.get_by_text("Norbert Nord")).to_be_visible()
    expect(page.get_by_role("link", name="Create")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^(No goals yet|\d+ goals?)\.$"))
    shoot(page, "login-02-goals")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in to the demo")).to_be_visible()
    page.goto("/dashboard")  # signed out: back to the picker
    expect(page.get_by_role("heading", name="Sign in to the demo")).to_be_visible()
    assert page.request.get("/api/goals/meta").status == 401


def test_sales_goal_distribute_exceed_and_dashboards(page: Page) -> None:
    sign_in(page, "Alice Admin")
    shoot(page, "sales-01-goals")

    # Create, following the help page: category first, then the details.
    page.get_by_role("link", name="Create").click()
    page.get_by_role("radio", name="Sales").check()
    page.get_by_label("Description").fill("North sales this quarter")
    page.get_by_role("button", name="This quarter").click()
    quarter = api_get(page, "/meta")["periods"]["this_quarter"]
    expect(page.get_by_label("Start date")).to_have_value(quarter["start_date"])
    expect(page.get_by_label("End date")).to_have_value(quarter["end_date"])
    page.get_by_label("Metric").select_option("net")
    page.get_by_label("Aim", exact=True).fill("600000.00")
    page.get_by_label("Team", exact=True).select_option(label="North")
    page.get_by_label("Split into sub-periods (monthly intervals)").check()
    page.get_by_label("Split by team members").check()
    shoot(page, "sales-02-create-form")
    page.get_by_role("button", name="Create goal").click()
    open_goal_page(page)
    expect(page.get_by_role("heading", name="North sales this quarter")).to_be_visible()
    expect(page.get_by_test_id("setting-aim")).to_have_text("600,000.00")
    first = month_label(quarter["start_date"])
    expect(page.get_by_role("textbox", name=f"Aim, {first}")).to_have_value("200000.00")
    shoot(page, "sales-03-goal")

    # Distribute the first month equally over the four members of North.
    page.get_by_role("button", name=f"Equal split, {first}").click()
    expect(page.locator("#goal-status")).to_have_text(f"Distributed {first} equally.")
    for member in ("Anna Albers", "Bernd Becker", "Clara Claussen", "David Dorn"):
        expect(page.get_by_label(f"Target of {member}, {first}")).to_have_value("50000.00")
    row = page.locator("tbody tr").first
    expect(row.get_by_test_id("unallocated")).to_have_text("0.00")
    shoot(page, "sales-04-distributed")

    # Anna's target above her share exceeds the aim: the API's 409 drives the dialog.
    anna = page.get_by_label(f"Target of Anna Albers, {first}")
    anna.fill("80000.00")
    page.get_by_role("button", name=f"Save {first}").click()
    dialog = page.get_by_role("dialog", name="This exceeds the aim")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#exceed-summary")).to_have_text("Goal aim: 600,000.00 → 630,000.00")
    expect(dialog.get_by_role("listitem")).to_have_text(f"{first}: 200,000.00 → 230,000.00")
    shoot(page, "sales-05-exceed-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#goal-status")).to_have_text("Cancelled: nothing was changed.")
    expect(anna).to_have_value("50000.00")
    expect(page.get_by_test_id("setting-aim")).to_have_text("600,000.00")

    anna.fill("80000.00")
    page.get_by_role("button", name=f"Save {first}").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Update the aim").click()
    expect(page.locator("#goal-status")).to_have_text(f"Saved {first}.")
    expect(dialog).to_be_hidden()
    expect(anna).to_have_value("80000.00")
    expect(page.get_by_role("textbox", name=f"Aim, {first}")).to_have_value("230000.00")
    expect(page.get_by_test_id("setting-aim")).to_have_text("630,000.00")
    expect(page.get_by_role("textbox", name="Goal aim")).to_have_value("630000.00")
    shoot(page, "sales-06-exceed-confirmed")

    # The team dashboard shows the goal with the API's figures.
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_label("Team", exact=True).select_option(label="North")
    expect(page.get_by_role("status")).to_contain_text("Figures for North as of")
    page.wait_for_load_state("networkidle")
    widget = api_get(page, "/widgets/team?team_id=acme-north")
    entry = next(
        goal
        for category in widget["categories"]
        for goal in category["goals"]
        if goal["goal"]["description"] == "North sales this quarter"
    )
    period = entry["period"]
    team = page.get_by_role("region", name="Team goals")
    card = team.get_by_role("region", name="Sales").get_by_role(
        "article", name="North sales this quarter"
    )
    expect(card.get_by_test_id("target")).to_have_text("630,000.00")
    expect(card.get_by_test_id("actual")).to_have_text(fmt(period["actual"]))
    expect(card.get_by_test_id("forecast")).to_have_text(fmt(period["forecast"]))
    expect(card.get_by_test_id("achievement")).to_have_text(f"{period['achievement_percent']} %")
    expect(card.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", re.compile(r"of target 630,000\.00")
    )
    expect(card.get_by_role("img")).to_be_visible()
    shoot(page, "sales-07-team-dashboard")

    # Anna's own dashboard: her target is her allocations.
    page.get_by_role("button", name="Log out").click()
    sign_in(page, "Anna Albers")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("status")).to_contain_text("Figures for North as of")
    page.wait_for_load_state("networkidle")
    mine = page.get_by_role("region", name="My goals").get_by_role(
        "article", name="North sales this quarter"
    )
    expect(mine.get_by_test_id("target")).to_have_text("80,000.00")
    own = next(
        goal["period"]
        for category in api_get(page, "/widgets/me")["categories"]
        for goal in category["goals"]
        if goal["goal"]["description"] == "North sales this quarter"
    )
    expect(mine.get_by_test_id("actual")).to_have_text(fmt(own["actual"]))
    shoot(page, "sales-08-my-dashboard")

    # A rep follows the goal but has nothing to edit.
    mine.get_by_role("link", name="North sales this quarter").click()
    open_goal_page(page)
    expect(page.get_by_text("You can follow this goal")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^(Save|Equal)"))).to_have_count(0)
    expect(
        page.get_by_role("row", name=re.compile(f"^{first}")).get_by_role("cell").nth(1)
    ).to_have_text(re.compile(r"^80,000\.00"))
    shoot(page, "sales-09-rep-goal")


def test_activity_goal_per_business_day(page: Page) -> None:
    sign_in(page, "Sabine Süd")
    page.get_by_role("link", name="Create").click()
    page.get_by_role("radio", name="Activities").check()
    # Metric auto-set to Count, no aim for activities.
    expect(page.get_by_label("Metric")).to_have_value("count")
    expect(page.get_by_label("Metric")).to_be_disabled()
    expect(page.get_by_label("Aim", exact=True)).to_be_hidden()
    page.get_by_label("Description").fill("South visits per day")
    page.get_by_label("Team", exact=True).select_option(label="South")
    page.get_by_label("Split into sub-periods (monthly intervals)").check()
    page.get_by_label("Split by team members").check()
    page.get_by_label("Daily target per business day").check()
    page.get_by_label("Daily target", exact=True).fill("3")
    # A recurrence fills the date range with the current period.
    page.get_by_label("Recurrence").select_option("monthly")
    month = api_get(page, "/meta")["periods"]["this_month"]
    expect(page.get_by_label("Start date")).to_have_value(month["start_date"])
    expect(page.get_by_label("End date")).to_have_value(month["end_date"])
    page.get_by_role("checkbox", name="Visit", exact=True).check()
    page.get_by_label("Verified only (GPS check-in)").check()
    shoot(page, "activity-01-create-form")
    page.get_by_role("button", name="Create goal").click()
    open_goal_page(page)

    label = month_label(month["start_date"])
    eva = page.get_by_label(f"Daily target of Eva Eder, {label}")
    expect(eva).to_have_value("3.00")
    eva.fill("4.5")
    page.get_by_role("button", name=f"Copy Eva Eder's {label} value to the others").click()
    expect(page.locator("#goal-status")).to_have_text(
        f"Copied Eva Eder's {label} value to the others."
    )
    expect(page.get_by_label(f"Daily target of Felix Fuchs, {label}")).to_have_value("4.50")
    expect(page.get_by_test_id("setting-recurs")).to_have_text("Monthly")
    shoot(page, "activity-02-goal")


def test_api_docs_render_offline(page: Page, base_url: str) -> None:
    """SPEC §8: /api/goals/docs works without internet. Every request that leaves the local
    server is blocked (and recorded): Swagger UI still renders the operations."""
    from urllib.parse import urlsplit

    local = urlsplit(base_url).netloc
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).netloc == local:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_local)
    page.goto("/api/goals/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/goals/goals").first).to_be_visible()
    assert operations.count() >= 10
    page.locator(".opblock-summary-path", has_text="/api/goals/meta").first.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    shoot(page, "docs-01-offline")
    assert outside == [], outside
