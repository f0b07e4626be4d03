"""What every webhook adapter does once a delivery is checked and translated."""

from calldesk.domain.signals import CallSignal
from calldesk.ports.telephony import RejectionReason, SignalSink, VendorEventRejected


def hand_over(sink: SignalSink, signals: tuple[CallSignal, ...]) -> tuple[CallSignal, ...]:
    """Give each signal to calldesk; a delivery none of whose signals was news is a replay.

    A vendor retries a webhook it thinks failed, and an attacker may resend a signed one:
    either way nothing is recorded twice, and the sender is told so.
    """
    news = [sink(signal) for signal in signals]
    if signals and not any(news):
        raise VendorEventRejected(
            RejectionReason.REPLAYED,
            f"event {signals[0].vendor_event_id} of call {signals[0].vendor_call_id} "
            "was heard before; nothing was recorded",
        )
    return signals
