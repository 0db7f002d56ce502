"""Open a report in headless Chromium and say what happened: errors, plots drawn, requests.

No browser driver is needed: a probe script is injected into a copy of the page
(error listeners first in ``<head>``, a census of the plot containers after
``load``), Chromium runs it with ``--dump-dom`` and a virtual-time budget, and the
probe's findings are read back out of the dumped DOM. Host names resolve nowhere,
so the page works offline or reports the request it tried.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
_FIRST = """<script>
window.__probe = {errors: [], requests: []};
window.addEventListener("error", function (e) {
  var t = e.target, resource = t && t !== window;
  window.__probe.errors.push(resource ? "resource: " + (t.src || t.href) : String(e.message));
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.__probe.errors.push("rejection: " + String(e.reason));
});
(function () { var original = console.error; console.error = function () {
  window.__probe.errors.push("console: " + Array.prototype.join.call(arguments, " "));
  return original.apply(console, arguments); }; })();
</script>
"""
_LAST = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var p = window.__probe;
  p.plots = Array.prototype.map.call(document.querySelectorAll(".plotly-graph-div"), function (d) {
    return {id: d.id, svg: d.querySelectorAll(".main-svg").length,
            traces: d.querySelectorAll("g.trace").length,
            data: (d._fullData || []).length};
  });
  var divs = document.querySelectorAll(".plotly-graph-div");
  p.colours = Array.prototype.map.call(divs, function (d) {
    return (d._fullData || []).map(function (t) {
      var c = (t.line && t.line.color) || (t.marker && t.marker.color) || "";
      return [t.name || "", typeof c === "string" ? c : ""];
    });
  });
  p.choices = Array.prototype.map.call(document.querySelectorAll("li.choice"), function (li) {
    return {constraint: li.dataset.constraint, scheme: li.dataset.scheme, text: li.textContent};
  });
  var table = document.querySelector("table.summary");
  p.table = table ? Array.prototype.map.call(table.querySelectorAll("tr"), function (tr) {
    return Array.prototype.map.call(tr.children, function (c) { return c.textContent.trim(); });
  }) : [];
  p.pwned = window.__pwned || 0;
  p.requests = performance.getEntriesByType("resource").map(function (r) { return r.name; });
  var out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify(p);
  document.body.appendChild(out);
}, 500); });
</script>
"""


def _run(args: list[str], profile: Path, timeout: float) -> subprocess.CompletedProcess:
    assert CHROMIUM is not None
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def inspect(report: Path, workdir: Path, timeout: float = 60.0) -> dict:
    """Load ``report`` in Chromium; the probe's findings: errors, plots, requests, each
    plot's trace colours as drawn (``colours``: [name, colour] per trace), the verdict's
    picks (``choices``) and the first summary table's cells (``table``)."""
    page = report.read_text(encoding="utf-8")
    head = page.index("<head>") + len("<head>")
    body_end = page.rindex("</body>")
    probed = page[:head] + _FIRST + page[head:body_end] + _LAST + page[body_end:]
    copy = workdir / f"probed-{report.name}"
    copy.write_text(probed, encoding="utf-8")
    done = _run(
        ["--virtual-time-budget=20000", "--dump-dom", copy.resolve().as_uri()],
        workdir / "chromium-profile",
        timeout,
    )
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', done.stdout, re.S)
    if not found:
        raise AssertionError(
            f"the probe did not report (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    return json.loads(html.unescape(found.group(1)))


def screenshot(
    report: Path,
    png: Path,
    workdir: Path,
    size: tuple[int, int] = (1400, 2400),
    timeout: float = 60.0,
) -> Path:
    """A PNG of the page's top ``size`` pixels, after the plots have drawn."""
    _run(
        [
            "--hide-scrollbars",
            f"--window-size={size[0]},{size[1]}",
            "--virtual-time-budget=20000",
            f"--screenshot={png.resolve()}",
            report.resolve().as_uri(),
        ],
        workdir / "chromium-profile",
        timeout,
    )
    if not png.exists():
        raise AssertionError(f"Chromium wrote no screenshot at {png}")
    return png
