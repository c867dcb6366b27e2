"""The Content-Security-Policy in Chromium: what it refuses is reported and fails tests,
and every page of the site (demo data) loads without a violation.

Every browser test runs under the app's real policy and fails on any violation its pages
report (conftest: ``pytest_runtest_call``, ``support.CspViolations``). The first test
proves that hook sees violations through each of its channels.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from labelhub.workspaces.models import Role
from tests.browser.support import ADMIN_EMAIL, CspViolations, run_in_thread, sign_in
from tests.console_pages import ANONYMOUS_ROUTES, ERROR_PAGES, demo_pages
from tests.factories import PASSWORD, make_member, make_workspace

pytestmark = pytest.mark.browser


def _inject(page: Page, body: str) -> None:
    """Run ``body`` in the page; the policy does not apply to this call, only to what it adds."""
    page.evaluate(f"() => {{ {body} }}")


def _reports(page: Page, csp: CspViolations, *, take: bool = True) -> list[str]:
    """Wait (up to 5 s) until two channels reported, then take them (or leave them)."""
    for _ in range(100):
        if len(csp.seen) >= 2:
            break
        page.wait_for_timeout(50)  # lets Playwright deliver the events it holds
    return csp.take() if take else list(csp.seen)


def test_violations_are_detected_and_fail_the_test(new_page, csp_violations):
    run_in_thread(lambda: make_member(make_workspace("CSP"), Role.ADMIN, email="csp@browser.test"))
    page = new_page("admin")
    sign_in(page, "csp@browser.test", PASSWORD)
    expect(page).to_have_url("/")

    # an inline script without the nonce (what an HTML injection would add) does not run
    _inject(
        page,
        "const s = document.createElement('script');"
        "s.textContent = 'window.__injected = true';"
        "document.body.append(s);",
    )
    seen = _reports(page, csp_violations)
    assert page.evaluate("window.__injected") is None
    assert any(v.startswith("console") and "inline script" in v for v in seen), seen
    assert any(
        v.startswith("securitypolicyviolation") and "script-src-elem blocked inline" in v
        for v in seen
    ), seen

    # a style attribute, and eval, are refused too; an uncaught EvalError is reported
    _inject(page, "document.body.setAttribute('style', 'background: red');")
    seen = _reports(page, csp_violations)
    assert any("style-src-attr blocked inline" in v for v in seen), seen
    _inject(page, "setTimeout(() => eval('1 + 1'));")
    seen = _reports(page, csp_violations)
    assert any(v.startswith("page error") and "EvalError: Evaluating" in v for v in seen), seen

    # the check after each test fails it, listing what was refused
    _inject(
        page,
        "document.body.append(Object.assign(document.createElement('script'), {textContent: '1'}))",
    )
    _reports(page, csp_violations, take=False)
    with pytest.raises(pytest.fail.Exception, match="script-src-elem blocked inline"):
        csp_violations.assert_none()

    # a script with the page's nonce runs and reports nothing
    _inject(
        page,
        "const s = document.createElement('script');"
        "s.nonce = document.querySelector('script[nonce]').nonce;"
        "s.textContent = 'window.__nonced = true';"
        "document.body.append(s);",
    )
    assert page.evaluate("window.__nonced") is True
    assert csp_violations.take() == []


def test_api_docs_render_and_call_the_api_under_the_policy(new_page, screenshot, csp_violations):
    page = new_page("visitor")
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LabelHub API")
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/me/").first
    operation.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    expect(
        page.locator(".live-responses-table tr.response .response-col_status").first
    ).to_contain_text("401")
    operation.scroll_into_view_if_needed()
    screenshot(page, "api-docs", full_page=False)  # the whole page is 13,000 px tall


def test_every_page_loads_without_a_violation(new_page, demo_data, screenshot, csp_violations):
    pages = run_in_thread(demo_pages)
    admin, visitor = new_page("admin"), new_page("visitor")
    sign_in(admin, ADMIN_EMAIL)
    expect(admin).to_have_url("/")
    visited = []
    for route, paths in pages.items():
        page = visitor if route in ANONYMOUS_ROUTES else admin
        for path in [*paths, *(ERROR_PAGES if route == "" else [])]:
            page.goto(path)
            page.wait_for_load_state("load")
            # a violation names the page it happened on: check each before the next
            assert csp_violations.take() == [], path
            visited.append(path)
    assert len(visited) >= 40
    screenshot(admin, "last-page")
