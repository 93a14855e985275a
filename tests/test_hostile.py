"""Client text is data, never markup (issue 13): the payloads found on main, through the
sanitiser alone and through the whole report path (fixture notebook, report.html, index.html,
report.xlsx)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report.index import REPORT_HTML, REPORT_XLSX, SUMMARY_JSON
from ftcost_helpers.report.runner import run_reports
from ftcost_helpers.report.sanitize import CONTENT_SECURITY_POLICY, finalise_page, sanitize_html

FIXTURE_NOTEBOOK = Path(__file__).parent / "fixtures" / "report_notebook.ipynb"
CLIENTS = project_root() / "params" / "clients"

JAVASCRIPT_LINK = "[pay here](javascript:alert(1))"
MATHML_LINK = r"$$\href{javascript:alert(1)}{x}$$"
STYLE = "<style>.figure .value{visibility:hidden} body::before{content:'PAID IN FULL'}</style>Co"
REMOTE_IMAGE = '<img src="http://127.0.0.1:9/x.png"> ![](http://127.0.0.1:9/y.png)'
FILE_IMAGE = '<img src="/etc/passwd">'
FORMULA = '=HYPERLINK("http://127.0.0.1:9/pay","Pay here")'
HOSTILE_NAMES = [f"{JAVASCRIPT_LINK} {MATHML_LINK} {REMOTE_IMAGE}", f"{STYLE} {FILE_IMAGE}"]
"""Two clients carry every payload between them (each report costs a few seconds)."""


class _Elements(HTMLParser):
    """Every start tag with its attributes, and whether it is inside ``<body>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str], bool]] = []
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_body = self.in_body or tag == "body"
        self.tags.append((tag, {name: value or "" for name, value in attrs}, self.in_body))


def assert_inert(html: str) -> None:
    """No script, event attribute, content style, dangerous link or loaded image."""
    parser = _Elements()
    parser.feed(html)
    for tag, attrs, in_body in parser.tags:
        assert tag not in {"script", "iframe", "object", "embed", "link", "base", "form"}, tag
        assert not (in_body and tag == "style"), "a style element in the body"
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
        for name in ("href", "src", "xlink:href"):
            value = attrs.get(name, "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:text", "file:")), (tag, attrs)
            if name == "href":
                assert not value.startswith("data:"), (tag, attrs)
        if tag == "img" and "src" in attrs:  # an img with no source loads nothing
            assert attrs["src"].startswith("data:image/png;base64,"), attrs
        if tag != "a":
            assert "href" not in attrs, (tag, attrs)


@pytest.mark.parametrize(
    "payload",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVaScRiPt:alert(1)">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
        '<img src="http://127.0.0.1:9/x.png">',
        '<img src="/etc/passwd">',
        '<img src="file:///etc/passwd">',
        '<p onclick="alert(1)" style="display:none">x</p>',
        "<style>body::before{content:'PAID IN FULL'}</style>",
        "<script>alert(1)</script>",
        '<math><mrow href="javascript:alert(1)"><mi>x</mi></mrow></math>',
        "<svg><script>alert(1)</script></svg>",
        '<iframe src="http://127.0.0.1:9/"></iframe>',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        '<form action="http://127.0.0.1:9/"><input name=x></form>',
    ],
)
def test_sanitiser_leaves_nothing_active(payload: str) -> None:
    cleaned = sanitize_html(payload)
    assert_inert(cleaned)
    assert "alert(1)</script>" not in cleaned and "PAID IN FULL" not in cleaned


def test_sanitiser_keeps_what_a_report_needs() -> None:
    chart = '<img src="data:image/png;base64,iVBORw0KGgo=" alt="chart">'
    markup = (
        f'<h2 id="x">Costs</h2><p class="meta"><a href="#summary">up</a> <a href="https://example.org/">source</a></p>'
        '<math display="block"><mfrac><mi>a</mi><mi>b</mi></mfrac></math>'
        f'<table><tr><td class="num" colspan="2">1</td></tr></table><details open><summary>s</summary></details>{chart}'
    )
    cleaned = sanitize_html(markup)
    for kept in ('id="x"', 'href="#summary"', 'href="https://example.org/"', "<mfrac>", 'colspan="2"', chart):
        assert kept in cleaned, kept


def test_finalised_page_has_the_policy_and_its_own_style_only() -> None:
    page = finalise_page(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><style>h1{color:red}</style></head>"
        f"<body><h1>Report</h1>{STYLE}</body></html>"
    )
    assert f'content="{CONTENT_SECURITY_POLICY}"' in page
    assert "<style>h1{color:red}</style>" in page
    assert "PAID IN FULL" not in page
    assert "script-src 'none'" in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY


def _client(folder: Path, stem: str, client: str, model_name: str | None = None) -> Path:
    data = yaml.safe_load((CLIENTS / "example_b.yaml").read_text(encoding="utf-8"))
    data["client"] = client
    if model_name is not None:
        data["base_model"]["name"] = model_name
        data["base_model"]["end_of_life"] = "2026-01-31"  # the audit quotes the model's name
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory: pytest.TempPathFactory) -> dict:
    inputs = tmp_path_factory.mktemp("hostile-inputs")
    out = tmp_path_factory.mktemp("hostile-reports")
    files = [_client(inputs, f"hostile_{i}", name) for i, name in enumerate(HOSTILE_NAMES)]
    files.append(_client(inputs, "hostile_model", FORMULA, model_name=JAVASCRIPT_LINK))
    result = run_reports(files, out, jobs=2, notebooks=[FIXTURE_NOTEBOOK], say=lambda line: None)
    assert not result.failures, result.failures
    return {"result": result, "out": out, "files": files}


def test_every_hostile_report_is_inert(hostile_batch: dict) -> None:
    pages = [folder / REPORT_HTML for folder in hostile_batch["result"].reports.values()]
    assert len(pages) == len(HOSTILE_NAMES) + 1
    for page in [*pages, hostile_batch["out"] / "index.html"]:
        html = page.read_text(encoding="utf-8")
        assert_inert(html)
        assert "Content-Security-Policy" in html, page
        assert html.count("<style") == 1, "a style element besides the page's own"


def test_hostile_names_read_as_written(hostile_batch: dict) -> None:
    """The page's heading is the client's name, character for character."""
    for folder in hostile_batch["result"].reports.values():
        summary = json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))
        parser = _Heading()
        parser.feed((folder / REPORT_HTML).read_text(encoding="utf-8"))
        assert parser.text == summary["client"]


class _Heading(HTMLParser):
    """The text of the first ``<h1>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth, self.text, self.done = 0, "", False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.depth += tag == "h1" and not self.done

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self.depth:
            self.depth, self.done = 0, True

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text += data


def test_excel_holds_client_text_as_text(hostile_batch: dict) -> None:
    from openpyxl import load_workbook

    for folder in hostile_batch["result"].reports.values():
        workbook = load_workbook(folder / REPORT_XLSX)
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                        assert cell.data_type == "s", (sheet.title, cell.coordinate)


@pytest.mark.parametrize(
    "name",
    [
        JAVASCRIPT_LINK,
        MATHML_LINK,
        STYLE,
        REMOTE_IMAGE,
        FILE_IMAGE,
        r"a\*b_c `d` ~e~ |f| &amp;",
        "see www.example.com or https://example.com/x",
    ],
)
def test_client_text_in_markdown_reads_as_written(name: str) -> None:
    """What the notebooks print about a client, rendered as nbconvert renders it, then
    sanitised: the name's own text, nothing more."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from ftcost_helpers.views.notebook import markdown_text

    html = sanitize_html(markdown2html_mistune(f"**{markdown_text(name)}** — programme total"))
    parser = _Text()
    parser.feed(html)
    assert parser.text.strip() == f"{name} — programme total"
    assert_inert(html)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""

    def handle_data(self, data: str) -> None:
        self.text += data
