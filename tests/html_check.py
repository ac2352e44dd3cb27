"""Checks of a self-contained HTML report: statically, and in a real headless browser.

``static_problems`` reads the file: no script, nothing that points off the page (every
``src``/``href`` is a ``data:`` URL or an anchor), and every embedded picture decodes
with Pillow. ``browser_check`` opens a copy of the page in headless Chromium with the
network cut off (every host unresolvable, a dead proxy), with a probe appended that
writes, once the page has loaded, how many images decoded and which did not; it returns
that outcome and the console errors.
"""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
from pathlib import Path

from PIL import Image

_ATTR = re.compile(r'\b(?:src|href)="([^"]*)"')
_DATA = re.compile(r"^data:image/(?:jpeg|png|webp);base64,([A-Za-z0-9+/=]+)$")
_PROBE = """<script>
addEventListener('load', () => {
  const imgs = [...document.images];
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = 'PROBE images=' + imgs.length + ' bad=' + JSON.stringify(bad) +
    ' resources=' + JSON.stringify(performance.getEntriesByType('resource').map(r => r.name));
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str | None:
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


def static_problems(text: str) -> list[str]:
    """What makes the page not self-contained, or an embedded picture that does not decode."""
    problems = []
    if "<script" in text.lower():
        problems.append("a script")
    if "@import" in text or "url(" in text:
        problems.append("a CSS reference")
    for value in _ATTR.findall(text):
        if value.startswith("#"):
            continue
        match = _DATA.match(value)
        if match is None:
            problems.append(f"points off the page: {value[:80]}")
            continue
        try:
            Image.open(io.BytesIO(base64.b64decode(match.group(1)))).load()
        except Exception as exc:  # any decoding failure is a finding
            problems.append(f"a picture that does not decode: {exc}")
    return problems


def browser_check(page: Path, workdir: Path) -> tuple[str, list[str]]:
    """(the probe's line, console errors) of ``page`` opened offline in headless Chromium."""
    browser = chromium()
    assert browser is not None
    probed = workdir / f"probed-{page.name}"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        "--virtual-time-budget=10000",
        f"--user-data-dir={workdir / 'chromium-profile'}",
    ]
    done = subprocess.run(
        [browser, *flags, "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    probe = html.unescape(found.group(1)) if found else ""
    errors = [
        line
        for line in done.stderr.splitlines()
        if "CONSOLE" in line and ("ERROR" in line or "Uncaught" in line)
    ]
    return probe, errors


def probe_counts(probe: str) -> tuple[int, str, str]:
    """(images, the bad ones as JSON, the resources fetched as JSON) from the probe's line."""
    match = re.search(r"PROBE images=(\d+) bad=(\[.*?\]) resources=(\[.*\])", probe)
    assert match is not None, probe
    return int(match.group(1)), match.group(2), match.group(3)
