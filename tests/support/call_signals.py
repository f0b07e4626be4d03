"""Plausible vendor scripts: what one phone system could say about one call, in order.

A script rings (queued and offered to one or two agents, or dialed out), is perhaps
answered and talked over (holds, mutes, digits, consultations, media trouble), and is
perhaps ended, sometimes twice, as vendors do (cti-anchors P2). Vendor events it has no
kind for are sprinkled in, and the vendor's clock may run backwards between two events
(P4). Tests deliver the script late, twice or never; this module only writes it.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from calldesk.domain.signals import CallSignal, Direction, Party, SignalKind

K = SignalKind
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
VENDOR, CALL_ID = "sim", "c-1"
AGENTS = ("a-1", "a-2")
TARGETS = ("t-1", "t-2")
#: Command ids a vendor may echo; tests let agents use the same ones.
COMMAND_IDS = ("cmd-1", "cmd-2", "cmd-3")
OFFER_ENDS = (K.OFFER_REJECTED, K.OFFER_TIMED_OUT, K.ANSWERED_ELSEWHERE)
ENDINGS = (K.ENDED, K.ABANDONED, K.FAILED, K.TRANSFERRED)
MID_CALL = (
    K.HELD,
    K.RESUMED,
    K.MUTED,
    K.UNMUTED,
    K.DIGITS_SENT,
    K.CONSULT_STARTED,
    K.PARTY_JOINED,
    K.PARTY_LEFT,
    K.CONFERENCED,
    K.MEDIA_TROUBLE,
    K.MEDIA_RESTORED,
)

Step = tuple[SignalKind, dict[str, Any]]

SOMETIMES = st.sampled_from((False, False, True))
USUALLY = st.sampled_from((True, True, False))


def maybe(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from((None, *values))


@st.composite
def inbound_ringing(draw: st.DrawFn) -> tuple[list[Step], str | None]:
    """Queued or not; offered, and offered again when every offer of a round ended."""
    steps: list[Step] = []
    if draw(USUALLY):
        steps.append((K.QUEUED, {}))
    for _ in range(2):
        offered = draw(st.sampled_from([("a-1",), ("a-2",), AGENTS]))
        steps += [(K.OFFERED, {"agent": agent}) for agent in offered]
        ended = [agent for agent in offered if draw(st.booleans())]
        for agent in ended:
            kind = draw(st.sampled_from(OFFER_ENDS))
            steps.append((kind, {"agent": draw(st.sampled_from((agent, None)))}))
        if len(ended) < len(offered):
            break
    return steps, draw(maybe(AGENTS))


@st.composite
def outbound_ringing(draw: st.DrawFn) -> tuple[list[Step], str | None]:
    steps: list[Step] = [(K.DIALING, {"agent": "a-1", "command_id": draw(maybe(("d-1",)))})]
    if draw(st.booleans()):
        steps.append((K.REMOTE_RINGING, {}))
    return steps, draw(maybe(("a-1",)))


@st.composite
def mid_call_episode(draw: st.DrawFn) -> list[Step]:
    """A hold, a mute, digits, a consultation, media trouble, or one stray flag signal."""
    echoed = {"command_id": draw(maybe(COMMAND_IDS))}
    target = {"target": draw(maybe(TARGETS))}
    episodes: dict[str, list[Step]] = {
        "hold": [(K.HELD, echoed), (K.RESUMED, {})],
        "mute": [(K.MUTED, echoed), (K.UNMUTED, {})],
        "digits": [(K.DIGITS_SENT, {**echoed, "digits": "12#"})],
        "consult": [
            (K.CONSULT_STARTED, {**echoed, **target}),
            (K.PARTY_JOINED, target),
            draw(st.sampled_from([(K.CONFERENCED, {}), (K.PARTY_LEFT, target)])),
        ],
        "media": [(K.MEDIA_TROUBLE, {}), (K.MEDIA_RESTORED, {})],
        "stray": [(draw(st.sampled_from(MID_CALL)), {**echoed, **target})],
    }
    steps = episodes[draw(st.sampled_from(sorted(episodes)))]
    # An episode may stop short: the hold never resumed, the party never left.
    return steps[: draw(st.integers(1, len(steps)))] if draw(SOMETIMES) else steps


@st.composite
def ending(draw: st.DrawFn) -> Step:
    return draw(st.sampled_from(ENDINGS)), {
        "ended_by": draw(maybe(tuple(Party))),
        "reason": draw(maybe(("normal", "busy"))),
    }


@st.composite
def scripts(draw: st.DrawFn) -> list[CallSignal]:
    """One call's signals in the order the phone system would send them."""
    direction = draw(st.sampled_from(Direction))
    ringing = inbound_ringing() if direction is Direction.INBOUND else outbound_ringing()
    steps, answerer = draw(ringing)
    if draw(USUALLY):
        if draw(st.booleans()):
            steps.append((K.ANSWERING, {"agent": answerer}))
        steps.append((K.CONNECTED, {"agent": answerer}))
        for episode in draw(st.lists(mid_call_episode(), max_size=4)):
            steps += episode
    steps += draw(st.lists(ending(), max_size=2))
    for n in range(draw(st.integers(0, 2))):
        unknown = (K.UNKNOWN, {"vendor_kind": "x-whisper", "raw": {"n": n}})
        steps.insert(draw(st.integers(0, len(steps))), unknown)
    told = direction if draw(st.booleans()) else None
    gaps = draw(st.lists(st.integers(-10, 30), min_size=len(steps), max_size=len(steps)))
    signals, at = [], START
    for n, ((kind, fields), gap) in enumerate(zip(steps, gaps, strict=True)):
        at += timedelta(seconds=gap)
        signals.append(CallSignal(VENDOR, f"ev-{n}", CALL_ID, kind, at, told, **fields))
    return signals
