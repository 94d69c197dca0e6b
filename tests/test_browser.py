"""The goal pages in a real browser: Playwright driving Debian's headless Chromium.

The example host (which mounts the package's goal pages with ``GOALS_UI_ENABLED``) runs on a
free localhost port in a background thread, on a temporary SQLite file seeded by the demo seed,
with one recurring clone made by the recurrence job. The tests walk every step of the help
page's "Creating a Goal" as a manager, edit every field of an existing goal and of a recurring
clone, check that a rep sees no write control, and run axe-core on every page.

Screenshots of each page go to ``tests/artifacts/screenshots/`` (``GOALS_SCREENSHOT_DIR`` to
choose another folder); the folder is kept after the run (and ignored by git). Skipped, never
failed, when Playwright or Chromium is missing; ``CHROMIUM_PATH`` points at another Chromium.

Waits are explicit (``expect`` retries until its timeout, the pages flag when their data is
loaded); no sleeps, so a slow shared CI machine only makes the tests slower.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed", exc_type=ImportError
)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"No Chromium at {CHROMIUM}", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from example_app import create_app  # noqa: E402
from example_app.models import db  # noqa: E402
from example_app.seed import seed, seed_goals  # noqa: E402
from flask_wiseparts_goals.jobs import run_job  # noqa: E402

SCREENSHOTS = Path(
    os.environ.get("GOALS_SCREENSHOT_DIR")
    or Path(__file__).resolve().parent / "artifacts" / "screenshots"
)
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
TIMEOUT_MS = 15_000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served example app's SQLite file."""
    return tmp_path_factory.mktemp("browser") / "demo.db"


@pytest.fixture(scope="module")
def base_url(demo_database: Path) -> Iterator[str]:
    """The example app, seeded, with one recurring clone, served on a free port."""
    database = demo_database
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        seed(reset=True)
        seed_goals()
        today = dt.date.today()
        next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        run_job(app, "recurrence", as_of=next_month)  # "South daily visits" gets next month's clone
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
def browser(run_started: float) -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for stale in SCREENSHOTS.glob("*.png"):  # the folder shows this run only (of any worker)
        try:
            if stale.stat().st_mtime < run_started:
                stale.unlink(missing_ok=True)
        except FileNotFoundError:  # another xdist worker's cleanup was first
            pass
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
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


#: Each user's signed-in cookies (Playwright's storage state): the login picker is walked once
#: per user and process; later sign-ins start from the page the picker leads to.
_SIGNED_IN: dict[str, Any] = {}


def sign_in(page: Page, name: str) -> None:
    cookies = _SIGNED_IN.get(name)
    if cookies is None:
        page.goto("/")
        page.get_by_role("button", name=re.compile(rf"^{name}\b")).click()
    else:
        page.context.add_cookies(cookies)
        page.goto("/goals/")  # where the picker leads
    expect(page.get_by_role("heading", name="Goals", exact=True)).to_be_visible()
    expect(page.locator("#goals-table, #list-status")).not_to_have_count(0)
    _SIGNED_IN.setdefault(name, page.context.cookies())


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in to the demo")).to_be_visible()


def api(page: Page, path: str) -> Any:
    """The Goals API as the signed-in browser user (same cookies), to check what pages show."""
    response = page.request.get(f"/api/goals{path}")
    assert response.ok, response.text()
    return response.json()


def goal_named(page: Page, description: str) -> dict[str, Any]:
    goals = api(page, "/goals?page_size=100")
    return next(g for g in goals if g["description"] == description)


def month_label(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{MONTHS[day.month - 1]} {day.year}"


def open_goal_page(page: Page) -> None:
    page.wait_for_url(re.compile(r"/goals/\d+$"))
    expect(page.locator("#goal-root")).to_have_attribute("data-ready", "true")
    page.wait_for_load_state("networkidle")


def open_form(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")


def confirm_if_asked(page: Page) -> None:
    """Accept a rebuild confirmation when the API asks for one (409), else nothing."""
    dialog = page.get_by_role("dialog")
    try:
        dialog.wait_for(state="visible", timeout=2_000)
    except Exception:
        return
    dialog.get_by_role("button", name=re.compile("^(Apply anyway|Update the aim)$")).click()


def pick(page: Page, label: str, search: str, name: str) -> None:
    """Search a picker by name and add the entity."""
    page.get_by_role("searchbox", name=label, exact=True).fill(search)
    page.get_by_role("button", name=f"Add {name} to {label}").click()
    expect(page.get_by_role("button", name=f"Remove {name} from {label}")).to_be_visible()


def test_login_picker_signs_in_and_out(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to the demo")).to_be_visible()
    shoot(page, "login-picker")
    sign_in(page, "Norbert Nord")
    expect(page.get_by_role("link", name="Create goal")).to_be_visible()
    expect(page.locator("#list-status")).to_have_text(re.compile(r"^\d+ goals?\.$"))
    sign_out(page)
    page.goto("/goals/dashboard")  # signed out: back to the picker
    expect(page.get_by_role("heading", name="Sign in to the demo")).to_be_visible()
    assert page.request.get("/api/goals/meta").status == 401


def test_sales_goal_every_seed_step_as_a_manager(page: Page) -> None:
    # 1. Navigate to Goals from the sales menu. 2. Click Create.
    sign_in(page, "Norbert Nord")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Goals").click()
    page.get_by_role("link", name="Create goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    # The manager's team is preselected; "No team" is not offered to a manager.
    expect(page.get_by_label("Team", exact=True)).to_have_value("acme-north")
    expect(page.get_by_label("Team", exact=True).locator("option")).to_have_text(["North"])

    # 3. Choose a category.
    page.get_by_role("radio", name="Sales").check()
    # A first submit with missing details: errors next to the fields, in plain words.
    page.get_by_role("button", name="Create goal").click()
    expect(page.locator("#description-error")).to_have_text("This is required.")
    expect(page.get_by_label("Description")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-error")).not_to_contain_text("semantic")
    shoot(page, "create-field-errors")

    # 4. The details: description, date range by shortcut, metric, aim, team.
    page.get_by_label("Description").fill("North sales this quarter")
    page.get_by_role("button", name="This quarter").click()
    quarter = api(page, "/meta")["periods"]["this_quarter"]
    expect(page.get_by_label("Start date")).to_have_value(quarter["start_date"])
    expect(page.get_by_label("End date")).to_have_value(quarter["end_date"])
    page.get_by_label("Metric").select_option("net")
    page.get_by_label("Aim", exact=True).fill("600000.00")
    # 5. Split into sub-periods (and by team members).
    page.get_by_label("Split into sub-periods (monthly intervals)").check()
    page.get_by_label("Split by team members").check()
    # 6. Additional options: searchable names, never raw ids.
    pick(page, "Brands: include", "bos", "Bosch")
    pick(page, "Customers: exclude", "mueller", "Autohaus Mueller")
    shoot(page, "create-form-sales")
    page.get_by_role("button", name="Create goal").click()
    open_goal_page(page)
    expect(page.get_by_role("heading", name="North sales this quarter")).to_be_visible()
    expect(page.get_by_test_id("setting-aim")).to_have_text("600,000.00 EUR")
    expect(page.get_by_test_id("setting-filters")).to_have_text(
        "Brands: include Bosch; Customers: exclude Autohaus Mueller"
    )
    first = month_label(quarter["start_date"])
    expect(page.get_by_role("textbox", name=f"Aim, {first}")).to_have_value("200000.00")

    # Distribute the first month equally over the four members of North.
    page.get_by_role("button", name=f"Equal split, {first}").click()
    expect(page.locator("#goal-status")).to_have_text(f"Distributed {first} equally.")
    for member in ("Anna Albers", "Bernd Becker", "Clara Claussen", "David Dorn"):
        expect(page.get_by_label(f"Target of {member}, {first}")).to_have_value("50000.00")
    expect(page.locator("tbody tr").first.get_by_test_id("unallocated")).to_have_text("0.00 EUR")
    shoot(page, "goal-grid-distributed")

    # A rejected value stays in its cell with the reason next to it (no silent revert).
    bernd = page.get_by_label(f"Target of Bernd Becker, {first}")
    bernd.fill("12.345")
    page.get_by_role("button", name=f"Save {first}").click()
    expect(bernd).to_have_attribute("aria-invalid", "true")
    expect(bernd).to_have_value("12.345")
    error_id = bernd.get_attribute("aria-describedby")
    assert error_id
    expect(page.locator(f"#{error_id.split()[-1]}")).to_contain_text("decimal")
    shoot(page, "goal-grid-rejected-value")
    bernd.fill("50000.00")

    # Anna's target above her share exceeds the aim: the API's 409 drives the dialog.
    anna = page.get_by_label(f"Target of Anna Albers, {first}")
    anna.fill("80000.00")
    page.get_by_role("button", name=f"Save {first}").click()
    dialog = page.get_by_role("dialog", name="This exceeds the aim")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#exceed-summary")).to_have_text(
        "Goal aim: 600,000.00 EUR → 630,000.00 EUR"
    )
    expect(dialog.get_by_role("listitem")).to_have_text(f"{first}: 200,000.00 EUR → 230,000.00 EUR")
    shoot(page, "goal-exceed-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#goal-status")).to_have_text("Cancelled: nothing was changed.")
    expect(anna).to_have_value("50000.00")

    anna.fill("80000.00")
    page.get_by_role("button", name=f"Save {first}").click()
    dialog.get_by_role("button", name="Update the aim").click()
    expect(page.locator("#goal-status")).to_have_text(f"Saved {first}.")
    expect(anna).to_have_value("80000.00")
    expect(page.get_by_role("textbox", name=f"Aim, {first}")).to_have_value("230000.00")
    expect(page.get_by_test_id("setting-aim")).to_have_text("630,000.00 EUR")

    # Proportional split and copying an interval to the others.
    second = page.locator("tbody tr").nth(1).locator("th strong").inner_text()
    page.get_by_role("button", name=f"Proportional split, {second}").click()
    expect(page.locator("#goal-status")).to_have_text(
        re.compile(f"^Distributed {second} proportionally\\.")
    )
    page.get_by_role("button", name=f"Copy {first} to all other intervals").click()
    confirm_if_asked(page)
    expect(page.locator("#goal-status")).to_have_text(f"Copied {first} to all other intervals.")
    expect(page.get_by_label(f"Target of Anna Albers, {second}")).to_have_value("80000.00")

    # Labelled progress, the per-interval chart against targets, the pace chart with axes.
    progress = page.get_by_role("region", name="Progress")
    expect(progress.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", re.compile(r"of 690,000\.00 EUR")
    )
    expect(progress.get_by_role("img", name=re.compile("^Actual per interval"))).to_be_visible()
    expect(progress.get_by_role("img", name=re.compile("^Cumulative actual"))).to_be_visible()
    expect(progress.locator("svg .axis-title", has_text="Business days")).to_have_count(1)
    expect(page.get_by_role("region", name="Leaderboard").get_by_role("row")).to_have_count(5)
    shoot(page, "goal-page")


def test_activity_goal_per_business_day_as_a_manager(page: Page) -> None:
    sign_in(page, "Sabine Süd")
    page.get_by_role("link", name="Create goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    page.get_by_role("radio", name="Activities").check()
    expect(page.get_by_label("Metric")).to_have_value("count")
    expect(page.get_by_label("Metric")).to_be_disabled()
    expect(page.get_by_label("Aim", exact=True)).to_be_hidden()
    page.get_by_label("Description").fill("South visits per day")
    expect(page.get_by_label("Team", exact=True)).to_have_value("acme-south")
    page.get_by_label("Split by team members").check()
    page.get_by_label("Daily target per business day").check()
    page.get_by_label("Daily target", exact=True).fill("3")
    # A recurrence fills the date range with the current period.
    page.get_by_label("Recurrence").select_option("monthly")
    month = api(page, "/meta")["periods"]["this_month"]
    expect(page.get_by_label("Start date")).to_have_value(month["start_date"])
    expect(page.get_by_label("End date")).to_have_value(month["end_date"])
    until = (dt.date.fromisoformat(month["end_date"]) + dt.timedelta(days=90)).isoformat()
    page.get_by_label("Recurring until (optional)").fill(until)
    page.get_by_role("checkbox", name="Visit", exact=True).check()
    page.get_by_role("checkbox", name="Inbound call", exact=True).check()
    page.get_by_label("Verified only (GPS check-in)").check()
    shoot(page, "create-form-activities")
    page.get_by_role("button", name="Create goal").click()
    open_goal_page(page)

    label = month_label(month["start_date"])
    eva = page.get_by_label(f"Daily target of Eva Eder, {label}")
    expect(eva).to_have_value("3")
    eva.fill("4.5")
    page.get_by_role("button", name=f"Copy Eva Eder's {label} value to the others").click()
    expect(page.locator("#goal-status")).to_have_text(
        f"Copied Eva Eder's {label} value to the others."
    )
    expect(page.get_by_label(f"Daily target of Felix Fuchs, {label}")).to_have_value("4.5")
    expect(page.get_by_test_id("setting-recurs")).to_have_text(
        f"Monthly until {dt.date.fromisoformat(until).day} {MONTHS[dt.date.fromisoformat(until).month - 1]} {until[:4]}"
    )
    expect(page.get_by_test_id("setting-filters")).to_contain_text(
        re.compile("Activity types: (Visit, Inbound call|Inbound call, Visit)")
    )
    shoot(page, "goal-activities")


def test_orders_goal_with_its_own_options(page: Page) -> None:
    sign_in(page, "Alice Admin")
    page.get_by_role("link", name="Create goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    page.get_by_role("radio", name="Orders").check()
    page.get_by_label("Description").fill("Confirmed phone orders")
    page.get_by_role("button", name="This month").click()
    page.get_by_label("Metric").select_option("count")
    page.get_by_label("Aim", exact=True).fill("40")
    page.get_by_label("Team", exact=True).select_option(label="No team (whole organization)")
    page.get_by_label("Ordered only (confirmed orders, no quotes)").check()
    page.get_by_role("checkbox", name="Phone", exact=True).check()
    pick(page, "Wholesaler branches (goals without a team)", "hamburg", "Hamburg")
    page.get_by_role("button", name="Create goal").click()
    open_goal_page(page)
    expect(page.get_by_test_id("setting-aim")).to_have_text("40")
    expect(page.get_by_test_id("setting-filters")).to_contain_text("Channels: Phone")

    # Editing the orders options: channels, "ordered only" and the wholesaler branches.
    goal_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Edit goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("button", name=re.compile("^Remove Hamburg from"))).to_be_visible()
    page.get_by_label("Ordered only (confirmed orders, no quotes)").uncheck()
    page.get_by_role("checkbox", name="Email", exact=True).check()
    pick(page, "Wholesaler branches (goals without a team)", "berlin", "Berlin")
    page.get_by_role("button", name="Save changes").click()
    open_goal_page(page)
    filters = api(page, f"/goals/{goal_id}")["filters"]
    assert "ordered_only" not in filters or filters["ordered_only"] is False
    assert sorted(filters["channels"]) == ["email", "phone"]
    assert sorted(filters["wholesaler_branches"]) == ["acme-wh-berlin", "acme-wh-hamburg"]


def test_edit_every_field_of_an_existing_goal_as_a_manager(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    meta = api(page, "/meta")
    quarter, month = meta["periods"]["this_quarter"], meta["periods"]["this_month"]
    created = page.request.post(
        "/api/goals/goals",
        data={
            "category": "sales",
            "description": "North margin to edit",
            "start_date": quarter["start_date"],
            "end_date": quarter["end_date"],
            "metric": "net",
            "aim": "90000.00",
            "team_id": "acme-north",
            "split_into_subperiods": True,
            "split_by_team_members": True,
        },
    )
    assert created.status == 201, created.text()
    goal_id = created.json()["id"]

    page.goto(f"/goals/{goal_id}")
    open_goal_page(page)
    page.get_by_role("link", name="Edit goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("radio", name="Sales")).to_be_checked()
    expect(page.get_by_role("radio", name="Sales")).to_be_disabled()
    expect(page.get_by_label("Aim", exact=True)).to_have_value("90000.00")
    shoot(page, "edit-form")

    # Every field that PATCH takes for a sales goal, in one go.
    page.get_by_label("Description").fill("North margin, edited")
    page.get_by_label("Start date").fill(month["start_date"])
    page.get_by_label("End date").fill(month["end_date"])
    page.get_by_label("Metric").select_option("margin")
    page.get_by_label("Aim", exact=True).fill("31000.00")
    page.get_by_label("Stretch aim (optional)").fill("35000.00")
    page.get_by_label("Split into sub-periods (monthly intervals)").uncheck()
    page.get_by_label("Split by team members").uncheck()
    pick(page, "Brands: include", "mah", "Mahle")
    pick(page, "Brands: exclude", "feb", "Febi")
    pick(page, "Brand families: include", "oe", "OE")
    pick(page, "Customers: include", "schmidt", "Kfz Schmidt")
    pick(page, "Customer branches: exclude", "mueller-hh", "Autohaus Mueller HH")
    page.get_by_role("button", name="Save changes").click()
    confirm_if_asked(page)
    open_goal_page(page)

    goal = api(page, f"/goals/{goal_id}")
    assert goal["description"] == "North margin, edited"
    assert (goal["start_date"], goal["end_date"]) == (month["start_date"], month["end_date"])
    assert goal["metric"] == "margin"
    assert (goal["aim"], goal["stretch_aim"]) == ("31000.00", "35000.00")
    assert goal["split_into_subperiods"] is False
    assert goal["split_by_team_members"] is False
    assert goal["filters"] == {
        "brands": {"include": ["brand-mahle"], "exclude": ["brand-febi"]},
        "brand_families": {"include": ["family-oe"]},
        "customers": {"include": ["cust-kfz-schmidt"]},
        "customer_branches": {"exclude": ["cust-autohaus-mueller-hh"]},
    }
    expect(page.get_by_test_id("setting-stretch-aim")).to_have_text("35,000.00 EUR")

    # And back: removing a filter and the stretch aim, splitting again.
    page.get_by_role("link", name="Edit goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    page.get_by_role("button", name="Remove Febi from Brands: exclude").click()
    page.get_by_label("Stretch aim (optional)").fill("")
    page.get_by_label("Split by team members").check()
    page.get_by_role("button", name="Save changes").click()
    confirm_if_asked(page)
    open_goal_page(page)
    goal = api(page, f"/goals/{goal_id}")
    assert goal["stretch_aim"] is None
    assert goal["split_by_team_members"] is True
    assert goal["filters"]["brands"] == {"include": ["brand-mahle"]}


def test_an_admin_moves_a_goal_to_another_team(page: Page) -> None:
    sign_in(page, "Alice Admin")
    goal = goal_named(page, "Company revenue this year")
    open_form(page, f"/goals/{goal['id']}/edit")
    page.get_by_label("Team", exact=True).select_option(label="South")
    page.get_by_role("button", name="Save changes").click()
    confirm_if_asked(page)
    open_goal_page(page)
    assert api(page, f"/goals/{goal['id']}")["team_id"] == "acme-south"
    expect(page.get_by_test_id("setting-team")).to_have_text("South")


def test_edit_every_field_of_a_recurring_clone_as_a_manager(page: Page) -> None:
    sign_in(page, "Sabine Süd")
    clones = [g for g in api(page, "/goals?page_size=100") if g["source_goal_id"]]
    assert clones, "the fixture's recurrence run made a clone"
    clone = clones[0]
    source_before = api(page, f"/goals/{clone['source_goal_id']}")

    page.goto(f"/goals/{clone['id']}")
    open_goal_page(page)
    # A future clone has not started: never "On track 0 %".
    expect(page.get_by_role("region", name="Progress").get_by_test_id("status")).to_have_text(
        "Not started"
    )
    expect(page.get_by_test_id("setting-cloned-from")).to_be_visible()
    shoot(page, "goal-recurring-clone")
    page.get_by_role("link", name="Edit goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    expect(page.get_by_label("Recurrence")).to_have_value("monthly")
    start = dt.date.fromisoformat(clone["start_date"])
    quarter_start = start.replace(month=3 * ((start.month - 1) // 3) + 1)
    after = (quarter_start + dt.timedelta(days=100)).replace(day=1)
    quarter_end = after - dt.timedelta(days=1)
    until = (start + dt.timedelta(days=200)).isoformat()

    page.get_by_label("Description").fill("South daily visits, edited clone")
    page.get_by_label("Daily target", exact=True).fill("2")
    page.get_by_label("Recurrence").select_option("quarterly")
    page.get_by_label("Start date").fill(quarter_start.isoformat())
    page.get_by_label("End date").fill(quarter_end.isoformat())
    page.get_by_label("Recurring until (optional)").fill(until)
    page.get_by_label("Split into sub-periods (monthly intervals)").check()
    page.get_by_role("checkbox", name="Inbound call", exact=True).check()
    page.get_by_label("Verified only (GPS check-in)").check()
    pick(page, "Customers: include", "weber", "Werkstatt Weber")
    page.get_by_role("button", name="Save changes").click()
    confirm_if_asked(page)
    open_goal_page(page)
    goal = api(page, f"/goals/{clone['id']}")
    assert goal["description"] == "South daily visits, edited clone"
    assert goal["daily_target"] == "2.00"
    assert (goal["recurrence"], goal["recurring_until"]) == ("quarterly", until)
    assert (goal["start_date"], goal["end_date"]) == (
        quarter_start.isoformat(),
        quarter_end.isoformat(),
    )
    assert goal["split_into_subperiods"] is True
    assert sorted(goal["filters"]["activity_types"]) == ["inbound_call", "visit"]
    assert goal["filters"]["verified_only"] is True
    assert goal["filters"]["customers"]["include"] == ["cust-werkstatt-weber"]

    # The mode: from per business day to a total for the period.
    open_form(page, f"/goals/{clone['id']}/edit")
    page.get_by_label("Total for the period").check()
    page.get_by_role("button", name="Save changes").click()
    confirm_if_asked(page)
    open_goal_page(page)
    assert api(page, f"/goals/{clone['id']}")["goal_mode"] == "total"
    # The clone is independent: the goal it was cloned from did not change.
    source_after = api(page, f"/goals/{clone['source_goal_id']}")
    assert {k: v for k, v in source_after.items() if k != "permissions"} == {
        k: v for k, v in source_before.items() if k != "permissions"
    }


def test_field_errors_of_an_edit_sit_next_to_the_field(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    goal = goal_named(page, "North revenue this quarter")
    open_form(page, f"/goals/{goal['id']}/edit")
    page.get_by_label("Stretch aim (optional)").fill("1.00")
    page.get_by_role("button", name="Save changes").click()
    error = page.locator("#stretch_aim-error")
    expect(error).to_be_visible()
    expect(page.get_by_label("Stretch aim (optional)")).to_have_attribute("aria-invalid", "true")
    assert "stretch_aim" not in error.inner_text()
    shoot(page, "edit-field-error")


def no_write_controls(scope: Page | Locator) -> None:
    writes = r"^(Save|Equal|Proportional|Copy|Delete|Spread the aim|Check the file|Import)"
    expect(scope.get_by_role("button", name=re.compile(writes))).to_have_count(0)
    expect(scope.get_by_label("Targets file to upload (CSV)")).to_be_hidden()
    expect(scope.get_by_label("Split by", exact=True)).to_be_hidden()
    expect(scope.get_by_role("link", name=re.compile("^(Edit goal|Create goal)$"))).to_have_count(0)
    expect(scope.locator("#interval-grid input")).to_have_count(0)


def test_a_rep_sees_no_write_control(page: Page) -> None:
    sign_in(page, "Anna Albers")
    expect(page.locator("#goals-table")).to_have_attribute("data-ready", "true")
    no_write_controls(page)
    shoot(page, "list-rep")
    goal = goal_named(page, "North revenue this quarter")
    assert goal["permissions"] == {"update": False, "delete": False, "allocate": False}
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    expect(page.get_by_text("You can follow this goal")).to_be_visible()
    no_write_controls(page)
    shoot(page, "goal-rep")
    page.goto(f"/goals/{goal['id']}/edit")
    expect(page.get_by_role("alert")).to_have_text("You may follow this goal, but not change it.")


def test_a_manager_sees_no_write_control_on_another_teams_goal(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    goal = goal_named(page, "South daily visits")
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    no_write_controls(page)


def test_list_and_dashboards_show_labelled_figures(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    month = api(page, "/meta")["periods"]["this_month"]
    zero = page.request.post(
        "/api/goals/goals",
        data={
            "category": "orders",
            "description": "North orders, no target yet",
            "start_date": month["start_date"],
            "end_date": month["end_date"],
            "metric": "count",
            "aim": "0",
            "team_id": "acme-north",
        },
    )
    assert zero.status == 201, zero.text()
    page.reload()
    table = page.locator("#goals-table")
    expect(table).to_have_attribute("data-ready", "true")
    row = table.get_by_role("row", name=re.compile("North revenue this quarter"))
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuetext", re.compile(r"EUR"))
    expect(row.get_by_test_id("status")).not_to_have_text("…")
    # A target of 0 is not "Achieved"; a count is a whole number.
    zero_row = table.get_by_role("row", name=re.compile("North orders, no target yet"))
    expect(zero_row.get_by_test_id("status")).to_have_text("No target")
    expect(zero_row.get_by_role("cell").nth(4)).to_have_text("0")
    shoot(page, "list")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.locator("#dashboard-status")).to_contain_text("Figures for North as of")
    team = page.get_by_role("region", name="Team goals")
    card = team.get_by_role("article", name="North revenue this quarter")
    expect(card.get_by_test_id("target")).to_have_text("600,000.00 EUR")
    expect(card.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", re.compile(r"of 600,000\.00 EUR")
    )
    expect(card.get_by_role("img")).to_have_attribute("aria-label", re.compile("business days"))
    expect(card.locator("svg .axis-title")).to_have_count(2)
    shoot(page, "dashboard-team")

    sign_out(page)
    sign_in(page, "Anna Albers")
    page.goto("/goals/dashboard")
    mine = page.get_by_role("region", name="My goals")
    expect(mine.locator("goals-widget")).to_have_attribute("data-ready", "true")
    card = mine.get_by_role("article", name="North revenue this quarter")
    expect(card.get_by_test_id("target")).to_have_text(re.compile(r"^\d{2,3},\d{3}\.\d{2} EUR$"))
    shoot(page, "dashboard-me")
    # The embedded widget on the host's own page (goals/macros.html).
    page.goto("/")
    expect(
        page.get_by_role("region", name="My goals today").locator("goals-widget")
    ).to_have_attribute("data-ready", "true")
    shoot(page, "host-page-embedded-widget")


def assert_accessible(page: Page, name: str) -> None:
    """axe-core (through axe-playwright-python) finds no serious or critical violation."""
    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    shoot(page, f"a11y-{name}")
    assert not serious, results.generate_report()


def create_goal(page: Page, description: str, **fields: Any) -> dict[str, Any]:
    """A sales goal of North for this quarter, monthly, through the API as the signed-in user."""
    quarter = api(page, "/meta")["periods"]["this_quarter"]
    body = {
        "category": "sales",
        "description": description,
        "start_date": quarter["start_date"],
        "end_date": quarter["end_date"],
        "metric": "net",
        "aim": "3000.00",
        "team_id": "acme-north",
        "split_into_subperiods": True,
        **fields,
    }
    created = page.request.post("/api/goals/goals", data=body)
    assert created.status == 201, created.text()
    return created.json()


def interval_aims(page: Page, goal_id: int) -> list[str]:
    return [i["aim"] for i in api(page, f"/goals/{goal_id}/intervals")]


def distribute_equally(page: Page, goal_id: int, interval_id: int) -> None:
    path = f"/api/goals/goals/{goal_id}/intervals/{interval_id}/allocations/distribute"
    response = page.request.post(path, data={"strategy": "equal"})
    assert response.ok, response.text()


def test_seasonality_split_with_profile_weights(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    goal = create_goal(page, "North seasons by weights")
    labels = [month_label(i["start_date"]) for i in api(page, f"/goals/{goal['id']}/intervals")]
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    planning = page.get_by_role("region", name="Plan the targets")
    planning.get_by_label("Split by").select_option("profile")
    weights = planning.get_by_label("Weights, one per interval in date order")
    # A list of the wrong length: the API's reason next to the input, nothing written.
    weights.fill("1 2")
    planning.get_by_role("button", name="Spread the aim").click()
    expect(weights).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#season-weights-error")).to_have_text(
        "One weight per interval: this goal has 3, not 2."
    )
    expect(weights).to_have_value("1 2")
    assert interval_aims(page, goal["id"]) == ["1000.00", "1000.00", "1000.00"]
    assert_accessible(page, "goal-seasonality-error")
    # A weight that is not a number is named by its position.
    weights.fill("1 x 3")
    planning.get_by_role("button", name="Spread the aim").click()
    expect(page.locator("#season-weights-error")).to_have_text(
        "Weight 2: Enter a number, e.g. 1500 or 1500.50."
    )

    weights.fill("1, 2; 3")
    planning.get_by_role("button", name="Spread the aim").click()
    expect(page.locator("#goal-status")).to_have_text(
        "Spread the aim over the intervals by your weights."
    )
    assert interval_aims(page, goal["id"]) == ["500.00", "1000.00", "1500.00"]
    for label, aim in zip(labels, ("500.00", "1000.00", "1500.00"), strict=True):
        expect(page.get_by_role("textbox", name=f"Aim, {label}")).to_have_value(aim)
    expect(page.get_by_test_id("setting-aim")).to_have_text("3,000.00 EUR")

    # All weights 0: the API falls back to equal and the page says so.
    weights.fill("0 0 0")
    planning.get_by_role("button", name="Spread the aim").click()
    expect(page.locator("#goal-status")).to_contain_text("equally")
    expect(page.locator("#goal-status")).not_to_have_text(
        "Spread the aim over the intervals equally."
    )
    assert interval_aims(page, goal["id"]) == ["1000.00", "1000.00", "1000.00"]


def test_seasonality_split_below_members_targets_asks_to_confirm(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    goal = create_goal(page, "North seasons over members", split_by_team_members=True)
    intervals = api(page, f"/goals/{goal['id']}/intervals")
    distribute_equally(page, goal["id"], intervals[0]["id"])  # 4 × 250.00 in the first month
    first = month_label(intervals[0]["start_date"])
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    planning = page.get_by_role("region", name="Plan the targets")
    planning.get_by_label("Split by").select_option("profile")
    planning.get_by_label("Weights, one per interval in date order").fill("1 1 2")
    planning.get_by_role("button", name="Spread the aim").click()
    dialog = page.get_by_role("dialog", name="This exceeds the aim")
    expect(dialog).to_be_visible()
    # The first month keeps what its members hold (1,000.00): the goal aim has to rise.
    expect(dialog.locator("#exceed-summary")).to_have_text("Goal aim: 3,000.00 EUR → 3,250.00 EUR")
    expect(dialog.get_by_role("listitem")).to_have_count(2)
    expect(dialog.get_by_role("listitem").first).not_to_contain_text(first)
    assert_accessible(page, "goal-seasonality-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#goal-status")).to_have_text("Cancelled: nothing was changed.")
    assert interval_aims(page, goal["id"]) == ["1000.00", "1000.00", "1000.00"]

    planning.get_by_role("button", name="Spread the aim").click()
    dialog.get_by_role("button", name="Update the aim").click()
    expect(page.locator("#goal-status")).to_have_text(
        "Spread the aim over the intervals by your weights."
    )
    assert interval_aims(page, goal["id"]) == ["1000.00", "750.00", "1500.00"]
    assert api(page, f"/goals/{goal['id']}")["aim"] == "3250.00"
    expect(page.get_by_test_id("setting-aim")).to_have_text("3,250.00 EUR")


def created_yesterday(database: Path, goal_id: int) -> None:
    """Move a goal's creation one day back, as if it had been set up yesterday: a goal's
    original aims are what stood at the end of its creation day (docs/planning.md)."""
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE goals_goal SET created_at = ? WHERE id = ?",
            (yesterday.strftime("%Y-%m-%d %H:%M:%S.%f"), goal_id),
        )
    connection.close()


def test_original_aim_shown_beside_the_current_after_a_re_target(
    page: Page, demo_database: Path
) -> None:
    sign_in(page, "Norbert Nord")
    goal = create_goal(page, "North re-targeted")
    created_yesterday(demo_database, goal["id"])
    intervals = api(page, f"/goals/{goal['id']}/intervals")
    first = month_label(intervals[0]["start_date"])  # a quarter's first month has started
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    expect(page.locator("#interval-grid [data-testid='original']")).to_have_count(0)
    aim = page.get_by_role("textbox", name=f"Aim, {first}")
    aim.fill("800.00")
    page.get_by_role("button", name=f"Save {first}").click()
    expect(page.locator("#goal-status")).to_have_text(f"Saved {first}.")
    stored = api(page, f"/goals/{goal['id']}/intervals")[0]
    assert (stored["aim"], stored["original_aim"]) == ("800.00", "1000.00")
    note = page.locator(f"#original-{intervals[0]['id']}")
    expect(note).to_have_text("(originally 1,000.00 EUR)")
    # Text, not colour: the input is described by the note.
    expect(aim).to_have_attribute("aria-describedby", re.compile(f"original-{intervals[0]['id']}"))
    today = dt.date.today().isoformat()
    for interval in intervals[1:]:
        if interval["start_date"] > today:  # not started: its plan is still the plan
            expect(page.locator(f"#original-{interval['id']}")).to_have_count(0)
    # A rep sees the same, read-only.
    sign_out(page)
    sign_in(page, "Anna Albers")
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    row = page.locator(f"tr[data-interval-id='{intervals[0]['id']}']")
    expect(row.get_by_role("cell").first).to_have_text("800.00 EUR(originally 1,000.00 EUR)")
    assert_accessible(page, "goal-original-aims")


def csv_upload(page: Page, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    planning = page.get_by_role("region", name="Plan the targets")
    planning.get_by_label("Targets file to upload (CSV)").set_input_files(str(path))
    planning.get_by_role("button", name="Check the file").click()


def member_targets(page: Page, goal_id: int, interval_id: int) -> dict[str, str]:
    data = api(page, f"/goals/{goal_id}/intervals/{interval_id}/allocations")
    return {a["user_id"]: a["target"] for a in data["allocations"]}


def test_csv_download_then_upload_with_a_preview_then_import(page: Page, tmp_path: Path) -> None:
    sign_in(page, "Norbert Nord")
    goal = create_goal(page, "North targets by file", split_by_team_members=True)
    interval = api(page, f"/goals/{goal['id']}/intervals")[0]
    distribute_equally(page, goal["id"], interval["id"])
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    planning = page.get_by_role("region", name="Plan the targets")
    with page.expect_download() as download:
        planning.get_by_role("link", name="Download the targets (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert download.value.suggested_filename == f"goal-{goal['id']}-targets.csv"
    lines = text.splitlines()
    assert lines[0] == "interval_start,user_id,target"
    start = interval["start_date"]
    assert f"{start},acme-rep-anna,250.00" in lines

    edited = [
        line.replace(",250.00", ",300.00")
        if line.startswith(f"{start},acme-rep-anna")
        else line.replace(",250.00", ",200.00")
        if line.startswith(f"{start},acme-rep-bernd")
        else line
        for line in lines
    ]
    csv_upload(page, tmp_path, "edited.csv", "\n".join(edited) + "\n")
    changes = planning.locator("#csv-changes")
    expect(changes.locator("tbody tr")).to_have_count(2)
    expect(changes).to_contain_text("Anna Albers")
    expect(changes).to_contain_text("Bernd Becker")
    expect(changes.locator("tbody tr", has_text="Anna Albers")).to_contain_text("300.00 EUR")
    expect(planning.locator("#csv-summary")).to_contain_text("2 values change")
    # A dry run wrote nothing.
    assert member_targets(page, goal["id"], interval["id"])["acme-rep-anna"] == "250.00"
    assert_accessible(page, "goal-csv-preview")
    # The screenshot docs/screenshots/planning.png is copied from.
    planning.screenshot(path=str(SCREENSHOTS / "goal-planning.png"))

    planning.get_by_role("button", name="Import").click()
    expect(page.locator("#goal-status")).to_have_text("Imported the file: 2 values changed.")
    targets = member_targets(page, goal["id"], interval["id"])
    assert (targets["acme-rep-anna"], targets["acme-rep-bernd"]) == ("300.00", "200.00")
    first = month_label(start)
    expect(page.get_by_label(f"Target of Anna Albers, {first}")).to_have_value("300.00")

    # Above the interval's aim: the 409 asks first; confirmed, the preview shows the cascade.
    csv_upload(
        page, tmp_path, "more.csv", f"interval_start,user_id,target\n{start},acme-rep-anna,900.00\n"
    )
    dialog = page.get_by_role("dialog", name="This exceeds the aim")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Update the aim").click()
    expect(changes).to_contain_text("The interval")
    assert member_targets(page, goal["id"], interval["id"])["acme-rep-anna"] == "300.00"
    planning.get_by_role("button", name="Import").click()
    expect(page.locator("#goal-status")).to_contain_text("Imported the file:")
    assert member_targets(page, goal["id"], interval["id"])["acme-rep-anna"] == "900.00"


def test_a_malformed_csv_shows_its_row_errors_and_writes_nothing(
    page: Page, tmp_path: Path
) -> None:
    sign_in(page, "Norbert Nord")
    goal = create_goal(page, "North file with mistakes", split_by_team_members=True)
    interval = api(page, f"/goals/{goal['id']}/intervals")[0]
    distribute_equally(page, goal["id"], interval["id"])
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    start = interval["start_date"]
    csv_upload(
        page,
        tmp_path,
        "broken.csv",
        "interval_start,user_id,target\n"
        f"{start},acme-rep-anna,260.00\n"
        "2001-01-15,acme-rep-bernd,10.00\n"
        f"{start},acme-rep-clara,12.345\n",
    )
    errors = page.locator("#csv-errors")
    expect(errors).to_be_visible()
    third = errors.locator("tbody tr", has=page.locator("td", has_text=re.compile(r"^3$")))
    expect(third).to_contain_text("interval_start")
    fourth = errors.locator("tbody tr", has=page.locator("td", has_text=re.compile(r"^4$")))
    expect(fourth).to_contain_text("target")
    expect(
        page.get_by_role("region", name="Plan the targets").get_by_role("alert")
    ).to_contain_text("The file was not imported")
    expect(page.get_by_role("button", name="Import")).to_be_hidden()
    assert member_targets(page, goal["id"], interval["id"])["acme-rep-anna"] == "250.00"
    assert_accessible(page, "goal-csv-errors")


def test_shortfall_policy_saved_through_the_form(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    goal = create_goal(page, "North carry-forward")
    open_form(page, f"/goals/{goal['id']}/edit")
    policy = page.get_by_label("When an interval ends below its aim")
    expect(policy).to_have_value("none")
    policy.select_option("spread_remaining")
    page.get_by_role("button", name="Save changes").click()
    open_goal_page(page)
    assert api(page, f"/goals/{goal['id']}")["shortfall_policy"] == "spread_remaining"
    expect(page.get_by_test_id("setting-shortfall")).to_have_text(
        "Spread over the remaining intervals"
    )
    open_form(page, f"/goals/{goal['id']}/edit")
    expect(page.get_by_label("When an interval ends below its aim")).to_have_value(
        "spread_remaining"
    )
    # Activities have no shortfall to carry: the field is not offered.
    open_form(page, "/goals/new")
    page.get_by_role("radio", name="Activities").check()
    expect(page.get_by_label("When an interval ends below its aim")).to_be_hidden()


def test_breakdown_shows_names(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    goal = goal_named(page, "North revenue this quarter")
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    page.get_by_role("link", name="Breakdown").click()
    section = page.get_by_role("region", name="Breakdown")
    expect(section.locator("#breakdown")).to_have_attribute("data-ready", "true")
    expect(section.get_by_label("By")).to_have_value("brand")
    table = section.locator("#breakdown-period")
    data = api(page, f"/goals/{goal['id']}/breakdown?by=brand")
    ids = [r["id"] for r in data["period"]["rows"]]
    assert ids, "the demo has sales by brand"
    expect(table.locator("tbody tr")).to_have_count(len(ids))
    names = table.locator("tbody th").all_inner_texts()
    assert not any(n.startswith("brand-") for n in names), names
    assert "Bosch" in names
    expect(table.locator("tbody tr").first).to_have_attribute("data-id", ids[0])
    section.get_by_label("By").select_option("customer")
    expect(table.locator("tbody th").first).not_to_have_text(re.compile("^cust-"))
    expect(table.locator("tbody tr").first).to_have_attribute(
        "data-id",
        api(page, f"/goals/{goal['id']}/breakdown?by=customer")["period"]["rows"][0]["id"],
    )
    assert_accessible(page, "goal-breakdown")


def test_leaderboard_order_comes_from_the_endpoint(page: Page) -> None:
    sign_in(page, "Norbert Nord")
    goal = goal_named(page, "North revenue this quarter")
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    board = api(page, f"/goals/{goal['id']}/leaderboard")
    rows = page.get_by_role("region", name="Leaderboard").locator("tbody tr")
    expect(rows).to_have_count(len(board["members"]))
    assert [r.get_attribute("data-user-id") for r in rows.all()] == [
        m["user_id"] for m in board["members"]
    ]
    ranks = [str(m["rank"]) if m["rank"] is not None else "—" for m in board["members"]]
    assert [r.locator("td").first.inner_text() for r in rows.all()] == ranks
    expect(rows.first.locator("th")).not_to_have_text(re.compile("^acme-"))

    # Ranked over one interval: the endpoint's interval_id.
    interval = api(page, f"/goals/{goal['id']}/intervals")[0]
    section = page.get_by_role("region", name="Leaderboard")
    section.get_by_label("Ranked over").select_option(month_label(interval["start_date"]))
    expect(section.locator("#leaderboard")).to_have_attribute("data-scope", str(interval["id"]))
    board = api(page, f"/goals/{goal['id']}/leaderboard?interval_id={interval['id']}")
    assert [r.get_attribute("data-user-id") for r in rows.all()] == [
        m["user_id"] for m in board["members"]
    ]
    targets = [r.locator("td").nth(1).inner_text() for r in rows.all()]
    assert targets == [
        f"{float(m['target']):,.2f} EUR" if m["target"] is not None else "—"
        for m in board["members"]
    ]


def test_count_figures_are_whole_numbers(page: Page) -> None:
    sign_in(page, "Alice Admin")
    page.goto("/goals/dashboard")
    team = page.get_by_role("region", name="Team goals")
    expect(team.locator("goals-widget")).to_have_attribute("data-ready", "true")
    card = team.get_by_role("article", name="Confirmed web and shop orders this month")
    for figure in ("target", "actual", "forecast"):
        expect(card.get_by_test_id(figure)).to_have_text(re.compile(r"^(\d{1,3}(,\d{3})*|—)$"))
    expect(card.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", re.compile(r"^\d+ of \d+")
    )
    goal = goal_named(page, "Confirmed web and shop orders this month")
    page.goto(f"/goals/{goal['id']}")
    open_goal_page(page)
    progress = page.get_by_role("region", name="Progress")
    for figure in ("target", "actual", "expected", "forecast"):
        expect(progress.get_by_test_id(figure)).to_have_text(re.compile(r"^(\d{1,3}(,\d{3})*|—)$"))
    # The one formatting rule every page uses (api.js fmt): counts and quantities whole, rounded
    # half away from zero; money with 2 decimals and the currency; rates (daily targets) as given.
    shown = page.evaluate(
        """async () => {
            const { fmt, fmtNumber } = await import("/goals/static/goals/api.js");
            return [fmt("36.67", "count"), fmt("36.5", "count"), fmt("-2.5", "count"),
                    fmt("1234.49", "quantity"), fmt("1234.5", "net"), fmtNumber("1.25")];
        }"""
    )
    assert shown == ["37", "37", "-3", "1,234", "1,234.50 EUR", "1.25"]


PAGES = [
    ("list", "/goals/"),
    ("create", "/goals/new"),
    ("dashboard", "/goals/dashboard"),
    ("goal", "goal"),
    ("edit", "edit"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[n for n, _ in PAGES])
def test_accessibility_of_each_page(page: Page, name: str, path: str) -> None:
    """axe-core (through axe-playwright-python) finds no serious or critical violation."""
    sign_in(page, "Norbert Nord")
    if path in ("goal", "edit"):
        goal = goal_named(page, "North revenue this quarter")
        path = f"/goals/{goal['id']}" + ("/edit" if path == "edit" else "")
    page.goto(path)
    page.wait_for_load_state("networkidle")
    if name == "create":
        page.get_by_role("radio", name="Sales").check()
    if name == "goal":
        expect(page.locator("#breakdown")).to_have_attribute("data-ready", "true")
    assert_accessible(page, name)


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
    shoot(page, "api-docs-offline")
    assert outside == [], outside
