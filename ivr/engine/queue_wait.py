"""What a caller waiting in a queue hears: announcements in turn, an offer to leave the
queue for a callback once the wait is long, or leaving at once when the queue is too slow.

Pure, like the rest of the engine: Twilio's ``waitUrl`` parameters come in as numbers.
"""

from __future__ import annotations

from datetime import datetime

from ivr.engine.run import Run
from ivr.engine.state import CallState
from ivr.engine.steps import Gather, LeaveQueue, Pause, Step
from ivr.flows.model import Flow
from ivr.flows.nodes import QueueNode

QUEUE_KEY_ROUTE = "/voice/queue/key"


def wait_steps(
    flow: Flow, state: CallState, node: QueueNode, waited: int, average: int, now: datetime
) -> list[Step]:
    """The steps for one ``waitUrl`` request: ``waited`` s in the queue, ``average`` s usual."""
    # The queue's average wait says a long wait is coming; this caller's own wait says it is
    # already here, even when the average is short.
    too_long = node.max_wait is not None and max(average, waited) > node.max_wait
    if too_long and node.on_leave is not None:
        return [LeaveQueue()]
    run = Run(flow, state, now)
    announcement = (
        run.prompts([node.wait[(waited // node.wait_pause) % len(node.wait)]]) if node.wait else []
    )
    if node.leave_key is not None and node.on_leave is not None and waited >= node.leave_after:
        prompts = (*announcement, *run.prompts(node.leave_offer))
        return [
            Gather(
                prompts=prompts,
                lang=state.lang,
                timeout=node.wait_pause,
                num_digits=1,
                # The wait so far rides in the URL: a wrong key is answered with the same
                # offer, whether or not the key's request carries QueueTime.
                action=f"{QUEUE_KEY_ROUTE}?waited={waited}",
            )
        ]
    return [*announcement, Pause(node.wait_pause)]


def wants_to_leave(node: QueueNode, digits: str) -> bool:
    """Did the waiting caller press the queue's leave key?"""
    return node.leave_key is not None and digits[:1] == node.leave_key
