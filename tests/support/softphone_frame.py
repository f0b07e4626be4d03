"""Commands sent from the softphone frame, for browser tests that then move the
simulated phone on."""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from playwright.sync_api import FrameLocator, Response


@contextmanager
def sent_to_the_phone(frame: FrameLocator, pending: str) -> Iterator[None]:
    """After the block, whose click or key sends a call command, the phone system has it.

    The frame marks a command pending as soon as it is recorded, which is before the
    connector hands it to the phone system (record, then send): a test that moved the
    phone on at the mark could move it on before the command arrived, and wait forever
    for a confirmation. The connector answers after the hand-over."""
    with frame.owner.page.expect_response(_is_call_command) as answered:
        yield
    assert answered.value.status == 202, answered.value.text()
    frame.locator(f".call[data-pending~={pending}]").wait_for()


def _is_call_command(response: Response) -> bool:
    return response.request.method == "POST" and urlsplit(response.url).path.endswith(
        "/commands"
    )
