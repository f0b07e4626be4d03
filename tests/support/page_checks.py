"""What every browser test asks of a page: that axe-core finds nothing serious on it,
and that it is no wider than its window."""

from collections.abc import Sequence

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page


def checked_for_access_and_width(
    page: Page, width: int, frames: Sequence[str] = ("softphone.html",)
) -> None:
    """No serious or critical axe-core violation on the page or its frames (the
    console's softphone), and nothing wider than the window."""
    inner = [frame for frame in page.frames if any(name in frame.url for name in frames)]
    assert len(inner) == len(frames), f"a frame of {frames} is missing"
    for target in (page, *inner):
        results = Axe().run(target)
        serious = [
            (v["id"], v["impact"], v["help"])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], serious
    scroll, client, widest = page.evaluate(
        """[document.documentElement.scrollWidth, document.documentElement.clientWidth,
        Array.from(document.querySelectorAll('body *'))
          .filter(e => e.getBoundingClientRect().right > innerWidth)
          .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)]"""
    )
    assert scroll <= client, f"{scroll - client}px wider than {width}px: {widest}"
