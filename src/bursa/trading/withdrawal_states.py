"""A withdrawal's states (Peatio's) and the one table of the steps between them.

Every change of a withdrawal's state names a ``Step``; ``Withdrawals`` looks the step up in
``TRANSITIONS`` and refuses it from any state the table does not list, whoever asks (the
Management API, a member, an admin, custody's sender, AppLogic through the Management
API). The steps that go through the engine say what they leave the engine's hold as
(``HOLD_AFTER``); a row found behind its hold (a crash between the engine and the row's
commit) is brought up to it by the step that leads there (``FOLLOWS``).

The way through: ``prepared`` → hold → ``accepted`` → process → ``processing`` → sign →
``confirming`` → settle → ``succeed`` (a coin); ``accepted`` → settle → ``succeed`` (fiat).
On the way: skip to ``skipped`` and error to ``errored`` (until an admin's retry, or
fail); at the other ends ``canceled``, ``rejected`` and ``failed``, funds given back.
"""

from enum import StrEnum


class State(StrEnum):
    """Peatio's withdrawal states, in Peatio's order."""

    PREPARED = "prepared"  # recorded, nothing held yet
    REJECTED = "rejected"  # an admin refused it: funds given back
    ACCEPTED = "accepted"  # amount + fee held by the engine
    SKIPPED = "skipped"  # too little in the hot wallet: tried again later
    PROCESSING = "processing"  # coin: waiting for custody to send it
    SUCCEED = "succeed"  # settled: the funds left
    CANCELED = "canceled"  # canceled: funds given back (or never held)
    FAILED = "failed"  # the chain or an admin failed it: funds given back
    ERRORED = "errored"  # something no retry fixes until an admin acts
    CONFIRMING = "confirming"  # signed and sent, waiting for confirmations


class Step(StrEnum):
    """What moves a withdrawal from one state to the next."""

    HOLD = "hold"  # the engine held amount + fee
    CANCEL = "cancel"  # before anything was held, or the engine released the hold
    PROCESS = "process"  # coin: handed to custody's sender
    SKIP = "skip"  # the sender found too little in the hot wallet
    ERROR = "error"  # the sender met something no retry fixes
    SIGN = "sign"  # the sender signed the payment (broadcast follows)
    RETRY = "retry"  # an admin sends a skipped or errored one again
    SETTLE = "settle"  # the engine settled the hold: the funds (and fee) left
    FAIL = "fail"  # the chain or an admin failed it; the engine released the hold
    REJECT = "reject"  # an admin refused it; the engine released the hold


# The one table: each step, the states it may start from, and the state it leads to.
TRANSITIONS: dict[Step, tuple[frozenset[State], State]] = {
    Step.HOLD: (frozenset({State.PREPARED}), State.ACCEPTED),
    Step.CANCEL: (frozenset({State.PREPARED, State.ACCEPTED}), State.CANCELED),
    Step.PROCESS: (frozenset({State.ACCEPTED}), State.PROCESSING),
    Step.SKIP: (frozenset({State.PROCESSING}), State.SKIPPED),
    Step.ERROR: (frozenset({State.PROCESSING, State.SKIPPED}), State.ERRORED),
    Step.SIGN: (frozenset({State.PROCESSING, State.SKIPPED}), State.CONFIRMING),
    Step.RETRY: (frozenset({State.SKIPPED, State.ERRORED}), State.PROCESSING),
    # From accepted: a fiat withdrawal processed; from processing: only a crash between a
    # settle and its row brings a row there with its hold settled.
    Step.SETTLE: (
        frozenset({State.ACCEPTED, State.PROCESSING, State.CONFIRMING}),
        State.SUCCEED,
    ),
    Step.FAIL: (frozenset({State.CONFIRMING, State.SKIPPED, State.ERRORED}), State.FAILED),
    Step.REJECT: (frozenset({State.ACCEPTED}), State.REJECTED),
}

# What each step through the engine leaves the withdrawal's hold as (``withdrawal_holds``).
HOLD_AFTER: dict[Step, str] = {
    Step.HOLD: "held",
    Step.SETTLE: "settled",
    Step.CANCEL: "released",
    Step.FAIL: "released",
    Step.REJECT: "released",
}
# The step a row behind its hold takes to catch up with it.
FOLLOWS: dict[str, Step] = {"held": Step.HOLD, "settled": Step.SETTLE, "released": Step.CANCEL}
# Where nothing moves any more.
FINAL = frozenset({State.SUCCEED, State.CANCELED, State.REJECTED, State.FAILED})


def target(step: Step) -> State:
    """The state ``step`` leads to."""
    return TRANSITIONS[step][1]


def allowed(step: Step, state: str) -> bool:
    """Whether ``step`` may start from ``state``."""
    return state in TRANSITIONS[step][0]
