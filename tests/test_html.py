"""The HTML runbook in a real browser: copy buttons, ticks, highlights, no network.

Chromium runs headless through Playwright, against the page served from a
local http.server: the clipboard needs a secure context, and localhost is one.
Chromium and the playwright package are required; CI installs both (the
system's Chromium is used, Playwright never downloads a browser).
"""

import functools
import json
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from markupsafe import escape

from handmig.model import (
    Bookkeeping,
    Flag,
    Header,
    MigrationSection,
    OnlineChange,
    OperationStep,
    PostStep,
    Runbook,
    Statement,
)
from handmig.render import render
from tests.test_cli import sample

SCREENSHOT = "/tmp/handmig-html.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def runbook_files(tmp_path_factory):
    """Write the plan to shop.0010 on an empty SQLite database as HTML, JSON, Markdown."""
    root = tmp_path_factory.mktemp("html")
    env = {"HANDMIG_SAMPLE_DB_NAME": str(root / "sample.sqlite3")}
    outputs = {}
    for fmt, name in (
        ("html", "runbook.html"),
        ("json", "runbook.json"),
        ("markdown", "runbook.md"),
    ):
        result = sample(
            "plan", "shop", "0010", "--format", fmt, "-o", str(root / name), env=env
        )
        assert result.returncode == 0, result.stderr
        outputs[fmt] = (root / name).read_text()
    return root, outputs["html"], json.loads(outputs["json"]), outputs["markdown"]


@pytest.fixture(scope="module")
def server(runbook_files):
    """Serve the runbook's directory on 127.0.0.1; yield the page's URL."""
    root = runbook_files[0]

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    """Start the system's Chromium headless; without it, fail under CI (or
    HANDMIG_TEST_BROWSER=1) and skip elsewhere, naming the fix."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[test]'")
    executable = (
        os.environ.get("HANDMIG_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not executable:
        missing = (
            "Chromium is missing: apt-get install chromium (or set HANDMIG_CHROMIUM)"
        )
        # CI asks for the browser and must have it; a newcomer's first run
        # without one still passes, and says what it left out.
        if os.environ.get("HANDMIG_TEST_BROWSER") or os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing + "; HANDMIG_TEST_BROWSER=1 makes it required")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    """Open the runbook in a fresh profile; fail if anything but the server is asked."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    requested = []

    def only_local(route):
        requested.append(route.request.url)
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(server + "/runbook.html")
    yield page
    context.close()
    elsewhere = [url for url in requested if not url.startswith(server + "/")]
    assert elsewhere == [], f"the page asked for {elsewhere}"
    assert requested, "the route saw no request at all"


def _statements(doc):
    """Yield every SQL text of the runbook model, in the order of the runbook."""
    yield from (check["sql"] for check in doc["preflight"])
    for step in doc["before"]:
        yield from (s["sql"] for s in step["guard"] + step["statements"])
    for m in doc["migrations"]:
        yield from (s["sql"] for s in m["guard"])
        if m["begin"]:
            yield m["begin"]["sql"]
        yield from (s["sql"] for s in m["timeouts"])
        for op in m["operations"]:
            yield from (s["sql"] for s in op["statements"])
            yield from (check["sql"] for check in op["verify"])
        yield from (s["sql"] for s in m["deferred"])
        yield from (check["sql"] for check in m["deferred_verify"])
        yield from (s["sql"] for s in m["record"]["statements"])
        if m["commit"]:
            yield m["commit"]["sql"]
        yield from (s["sql"] for s in m["timeouts_reset"])
    for step in doc["after"]:
        yield from (s["sql"] for s in step["statements"])
    yield from (check["sql"] for check in doc["verify"])


def test_page_has_every_step_and_statement_in_order(page, runbook_files):
    _, _, doc, markdown = runbook_files
    numbers = page.locator("li.step[id^='step-'] .step-number").all_inner_texts()
    markdown_steps = markdown.count("\n- [ ] **")
    assert numbers == [f"{n}." for n in range(1, markdown_steps + 1)]
    shown = page.eval_on_selector_all(
        ".code-sql code", "els => els.map(e => e.textContent)"
    )
    assert shown == list(_statements(doc))
    assert page.locator("#step-count").inner_text() == str(markdown_steps)


def test_copy_button_copies_exactly_the_statement(page, runbook_files):
    doc = runbook_files[2]
    # The longest statement with quotes: what escaping would spoil first.
    sql = max((s for s in _statements(doc) if '"' in s), key=len)
    index = page.eval_on_selector_all(
        ".code code", "(els, sql) => els.findIndex(e => e.textContent === sql)", sql
    )
    assert index >= 0
    button = page.locator(".code button.copy").nth(index)
    button.click()
    page.wait_for_function("() => document.querySelector('button.copied') !== null")
    assert page.evaluate("() => navigator.clipboard.readText()") == sql


def test_copy_falls_back_without_the_async_clipboard(page, runbook_files):
    doc = runbook_files[2]
    sql = doc["preflight"][0]["sql"]
    # An insecure origin has no navigator.clipboard: the textarea route copies.
    page.evaluate(
        "() => Object.defineProperty(navigator, 'clipboard', {value: undefined})"
    )
    page.evaluate(
        """() => { window.__copied = null;
        const original = document.execCommand.bind(document);
        document.execCommand = (cmd) => {
            const area = document.querySelector('textarea');
            window.__copied = area.value.substring(area.selectionStart, area.selectionEnd);
            return original(cmd);
        }; }"""
    )
    page.locator("li.preflight .code button.copy").first.click()
    page.wait_for_function("() => window.__copied !== null")
    assert page.evaluate("() => window.__copied") == sql


def test_ticks_survive_a_reload(page):
    for step in ("step-3", "step-10"):
        page.locator(f"#tick-{step}").check()
    page.reload()
    ticked = page.eval_on_selector_all(
        "input.step-tick", "els => els.filter(e => e.checked).map(e => e.dataset.key)"
    )
    assert ticked == ["step-3", "step-10"]
    assert page.locator("li.step.done").count() == 2
    assert "done" in page.locator("#step-3").get_attribute("class").split()
    assert page.locator("#done-count").inner_text() == "2"


def test_danger_flags_and_python_steps_stand_out(page, runbook_files):
    doc = runbook_files[2]
    ops = [op for m in doc["migrations"] for op in m["operations"]]
    python_ops = [op for op in ops if op["python"] and not op["python"]["noop"]]
    assert python_ops, "the sample plan has no Python step"
    for op in python_ops:
        step = page.locator("li.step", has_text=op["description"]).first
        classes = step.get_attribute("class").split()
        assert "python-step" in classes
        assert op["python"]["callable"] in step.inner_text()
    dangers = [f for op in ops for f in op["flags"] if f["level"] == "danger"]
    assert dangers, "the sample plan has no danger flag"
    for flag in dangers:
        shown = page.locator(".flag.flag-danger", has_text=flag["message"]).first
        assert flag["id"] in shown.inner_text()
        color = shown.evaluate("e => getComputedStyle(e).borderLeftColor")
        plain = page.locator("li.step").first.evaluate(
            "e => getComputedStyle(e).borderLeftColor"
        )
        assert color != plain
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_page_names_nothing_outside_itself(runbook_files):
    text = runbook_files[1]
    assert "http://" not in text and "https://" not in text
    assert " src=" not in text and "<link" not in text
    assert "default-src 'none'" in text


def test_sql_is_escaped_in_html_and_untouched_elsewhere():
    tricky = "SELECT '<b>&amp;</b>' AS \"x\" WHERE 1 < 2;"
    statement = Statement(
        sql=tricky,
        verb="SELECT",
        lock="ACCESS EXCLUSIVE <table>",
        backup="pg_dump -t 'a&b' > a.sql",
        flags=[Flag("pg-x", "danger", "Drops <data> & more")],
        online=OnlineChange(
            tool="pt-online-schema-change",
            table="shop_book",
            alter="ADD COLUMN x int",
            dry_run="pt-online-schema-change --alter 'ADD COLUMN x int' --dry-run D=db,t=shop_book",
            execute="pt-online-schema-change --alter 'ADD COLUMN x int' --execute D=db,t=shop_book",
        ),
        online_note="Copies <the> table.",
    )
    runbook = _one_statement_runbook(statement)
    page = render(runbook, format="html")
    assert "<b>" not in page and "<data>" not in page and "<the>" not in page
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in page
    for text in (
        statement.backup,
        statement.online.dry_run,
        statement.online.execute,
        tricky,
    ):
        assert str(escape(text)) in page
    assert "ACCESS EXCLUSIVE &lt;table&gt;" in page
    assert "Copies &lt;the&gt; table." in page
    assert tricky in render(runbook, format="markdown")
    assert tricky in render(runbook, format="sql")


def _one_statement_runbook(statement):
    """Return a forward runbook of one migration with ``statement`` as its only SQL."""
    header = Header(
        "1", "5", "default", "mysql", "MySQL", "8.0", None, "2026-01-01T00:00:00+00:00"
    )
    insert = Statement(
        "INSERT INTO django_migrations VALUES ('shop', '0001');", "INSERT"
    )
    section = MigrationSection(
        app="shop",
        name="0001_initial",
        file="shop/migrations/0001_initial.py",
        sha256="0" * 64,
        atomic=True,
        transactional=False,
        replaces=[],
        operations=[
            OperationStep(1, "AddField", "Add field x to book", True, True, [statement])
        ],
        deferred=[],
        record=Bookkeeping("insert", [], [insert]),
        begin=None,
        commit=None,
        statement_count=2,
        # The section shows what its statements back up before it begins.
        backups=[statement.backup] if statement.backup else [],
    )
    post = PostStep("python manage.py migrate", [], [], [], "Run migrate.")
    return Runbook(
        "Apply shop.0001_initial",
        "runbook",
        "forward",
        header,
        [],
        [],
        [section],
        [],
        [],
        post,
    )
