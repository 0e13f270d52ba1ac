"""Open every page of the built book in headless Chromium and check it (CI's book step).

    python docs/browser_check.py [docs/_build/html]

Serves the book on localhost, with every other host unreachable (the book must work
offline), and for each page checks that it loads without a console error, that every image
has loaded, that every internal link points at a page (and anchor) that exists, and on the
proof pages that MathJax has typeset the math (rendered ``mjx-container`` elements, no raw
``$…$`` or ``\\(…\\)`` left in the text).  A page whose MathJax check fails
is loaded once more before the failure counts (a headless browser under load has slow
moments; a page that really lacks its math fails twice).  Saves screenshots of the landing page and of one
proof page to ``docs/_build/screenshots/``.  Exit status 0 when every page passes.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``; nothing is downloaded at run time) and ``selenium`` (the
``docs`` extra).
"""
from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PROOF_PAGE = "proofs/gd_step.html"
RAW_MATH = re.compile(r"(?<!\\)\$[^$\s][^$]*\$|\\\(|\\\[")


class _Links(HTMLParser):
    """The hrefs of <a> and the ids of every element of a page."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return p


def broken_links(root: Path) -> list:
    """Internal links (relative hrefs) whose page or anchor does not exist."""
    pages = {p: _parse(p) for p in root.rglob("*.html")}
    bad = []
    for page, parsed in pages.items():
        for href in parsed.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                bad.append(f"{page.relative_to(root)}: {href} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    bad.append(f"{page.relative_to(root)}: {href} (no such anchor)")
    return bad


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):   # the browser moved on mid-reply
            super().handle_error(request, client_address)


def _serve(root: Path):
    handler = functools.partial(_Quiet, directory=str(root))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):    # offline: only the book's server
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


WAIT_FOR_MATHJAX = (
    "const done = arguments[arguments.length - 1]; const url = arguments[0]; const start = Date.now();"
    "(function wait() {"
    "  const here = document.readyState === 'complete' && location.href === url;"
    "  if (here && !document.querySelector('script[src*=\"mathjax\"]')) done('no MathJax on this page');"
    "  else if (here && window.MathJax && MathJax.startup && MathJax.startup.promise)"
    "    Promise.race([MathJax.startup.promise.then(() => 'typeset'),"
    "                  new Promise(r => setTimeout(() => r('MathJax did not finish in 30 s'), 30000))])"
    "      .then(done).catch(e => done('error: ' + e));"
    "  else if (Date.now() - start > 20000) done(here ? 'no MathJax after 20 s' : 'page did not load in 20 s');"
    "  else setTimeout(wait, 50);"
    "})();")


def check_page(driver, url: str, proof: bool) -> list:
    """Problems of one loaded page."""
    from selenium.common.exceptions import TimeoutException
    driver.get(url)
    problems = []
    driver.set_script_timeout(60)
    # Wait until this page (not the previous one) has finished loading, then for MathJax, which
    # loads asynchronously.  A page without the MathJax script is reported only once it has
    # loaded completely: a check that ran on a half-loaded page once reported a proof page
    # that does carry the script as "no MathJax".
    try:
        ready = driver.execute_async_script(WAIT_FOR_MATHJAX, url)
    except TimeoutException:                               # the browser stalled: say where it was
        state = driver.execute_script("return [document.readyState, location.href, !!window.MathJax];")
        ready = f"MathJax wait timed out after 60 s (readyState, location, MathJax: {state})"
    if not proof and ready.startswith("error"):
        problems.append(f"MathJax failed: {ready}")
    if proof and ready != "typeset":
        problems.append(f"MathJax did not typeset: {ready}")
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            problems.append(f"console: {entry.get('message', '')[:200]}")
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);")
    problems += [f"image did not load: {src}" for src in broken]
    if proof:
        rendered = driver.execute_script("return document.querySelectorAll('mjx-container').length;")
        if not rendered:
            problems.append("no typeset math (mjx-container) on a proof page")
        text = driver.execute_script(
            "const c = document.querySelector('main') || document.body; const clone = c.cloneNode(true);"
            "clone.querySelectorAll('mjx-container, pre, code, script, style').forEach(e => e.remove());"
            "return clone.innerText;")
        raw = RAW_MATH.findall(text)
        if raw:
            problems.append(f"raw math left in the text: {raw[:3]}")
    return problems


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "docs/_build/html").resolve()
    if not (root / "docs" / "index.html").is_file():
        print(f"error: {root} holds no built book (docs/index.html); build it with `bash docs/build`",
              file=sys.stderr)
        return 2
    problems = [f"link: {b}" for b in broken_links(root)]
    shots = root.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    server = _serve(root)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    pages = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                   if not p.relative_to(root).as_posix().startswith(("_static/", "_sources/")))
    driver = _browser()
    try:
        for page in pages:
            found = check_page(driver, urljoin(base, page), proof=page.startswith("proofs/"))
            if any("MathJax" in f for f in found):           # a headless browser's slow moment: once more
                print(f"{page}: {found[0]} — loading it once more", file=sys.stderr)
                found = check_page(driver, urljoin(base, page), proof=page.startswith("proofs/"))
            problems += [f"{page}: {p}" for p in found]
            if page == "docs/index.html":
                driver.save_screenshot(str(shots / "landing.png"))
            if page == PROOF_PAGE:                          # at Step 1: its heading and typeset matrices
                driver.execute_script(
                    "const h = document.querySelector('#step-1-the-constructed-layer-takes-one-gd-step-prop-1');"
                    "const m = Array.from(document.querySelectorAll('mjx-container'))"
                    "  .find(e => h.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING);"
                    "m.scrollIntoView(); window.scrollBy(0, -60);")
                driver.save_screenshot(str(shots / "proof-gd_step.png"))
    finally:
        driver.quit()
        server.shutdown()
    for p in problems:
        print(p)
    print(f"{len(pages)} pages checked in headless Chromium: "
          + ("all load cleanly, with their images, links and math" if not problems else f"{len(problems)} problems")
          + f"; screenshots in {shots}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
