"""The cascade planner: the rules judge every event, the model judges again the events the rules are unsure of.

`judge(events)`:

1. the rules planner judges the whole batch in one transaction, as it does alone, and reports per tag its decision
   and how sure it is (`Outcome.judgments`, calibrated confidences);
2. an event **escalates** (`escalates`) when the rules judged it and some tag's confidence is below `threshold`
   (unsure), or when it is among the `sample` share of events picked by sha256(event_id) (a redelivery or a replay
   picks the same ones). An event older than what its account's tags reflect gets no judgments (the rules change
   no tag for it) and does not escalate (a replay must not rewrite newer tags), unless its note still carries
   the model's mark: it escalated before and the model never answered (a 429, a crash), and its retry must
   finish the model stage (`tests/test_cascade_kafka.py`);
3. escalated events go to the agent planner (the tool loop, with its turn records): each account's events in
   order, accounts concurrently (at most `concurrency` at once). Events that do not escalate cost no model call.

An escalated event's outcome is the model's (usage, turns, cost, the tags after it) with the rules' judgments,
the changes of both stages (`merged`) and `escalated=True`; `planner` names the stage that judged last (the rules'
name, or the model's). A failure of the model stage is that event's error: the flow delays or dead-letters it,
and its retry runs the rules again (idempotent: the note is found, nothing is written twice) and the model replays
the turns it recorded. The rules never clear or overwrite a tag the model set (`TagRecord.stage == "model"`).
The rules' cached state of an account the model touched is dropped after the model stage: the store is the truth.

**Fingerprints and `judged` (replay --skip-done).** The rules planner inside writes notes under the cascade's
fingerprint, so an event the rules settle alone is done within their one transaction. An escalated event's note is
re-marked with the model's fingerprint before the model runs, and with the cascade's once the model answered: an
event whose model stage failed or never ran (a crash, a dead letter) is not done, and a replay runs it again.
`judged` is therefore the rules planner's check (the note carries the cascade's fingerprint); it costs no model
call. The model's turn records are keyed by the model's own fingerprint, so a retry never pays a turn twice even
when the threshold changed in between. The cascade's fingerprint covers the rules', the model's, `threshold` and
`sample` (`agents.factory.cascade_fingerprint`): change one and a replay with skip_done judges every event again
(the rules all of them, the model the ones that escalate now).

Within one batch the rules judge all of an account's events before the model sees the escalated ones; the
model's changes then stand on top of the rules' (the tags after the batch are the model's for its events).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Collection, Mapping, Sequence

from ticket_enricher.agents.notes import planner_mark
from ticket_enricher.agents.planners import Outcome, Pace, TagJudgment
from ticket_enricher.agents.planners.agent import AgentPlanner
from ticket_enricher.agents.planners.rules import RulesPlanner
from ticket_enricher.core.events import TicketEvent


def sampled(event_id: str, share: float) -> bool:
    """Whether the event is among `share` of all events: the first 8 bytes of sha256(event_id) as a fraction of
    2**64, below `share`. Never change it: which events a sample holds depends on it."""
    digest = hashlib.sha256(event_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def unsure(judgments: Mapping[str, TagJudgment], threshold: float, per_tag: Mapping[str, float] | None = None) -> bool:
    """Some tag's decision has a confidence below its threshold (`per_tag`, else `threshold`; False when the rules
    judged no tag); tags the calibration has no labelled data of do not count (their confidence is borrowed)."""
    limits = per_tag or {}
    return any(j.confidence < limits.get(tag, threshold) for tag, j in judgments.items() if j.calibrated)


def escalates(event_id: str, judgments: Mapping[str, TagJudgment], threshold: float, sample: float,
              per_tag: Mapping[str, float] | None = None) -> bool:
    """Whether the cascade sends the event to the model: the rules judged it, and are unsure or it is sampled."""
    return bool(judgments) and (unsure(judgments, threshold, per_tag) or sampled(event_id, sample))


def merged(rules: Outcome, model: Outcome) -> Outcome:
    """One escalated event's outcome: the model's, with the rules' judgments and the net changes of both stages
    (the rules went from S0 to S1 adding Ra and removing Rr, the model from S1 to S2 adding Ma, removing Mr)."""
    added = [t for t in rules.tags_added if t not in model.tags_removed]
    added += [t for t in model.tags_added if t not in rules.tags_removed and t not in added]
    removed = [t for t in rules.tags_removed if t not in model.tags_added]
    removed += [t for t in model.tags_removed if t not in rules.tags_added and t not in removed]
    return model.model_copy(update={
        "tags_added": added, "tags_removed": removed,
        "memory_ids": list(dict.fromkeys([*rules.memory_ids, *model.memory_ids])),
        "evidence": [*rules.evidence, *model.evidence], "judgments": rules.judgments, "escalated": True,
    })


class CascadePlanner:
    whole_batches = True

    def __init__(self, rules: RulesPlanner, agent: AgentPlanner, *, threshold: float, sample: float,
                 per_tag: Mapping[str, float] | None = None, concurrency: int = 8) -> None:
        """`rules` must carry the cascade's fingerprint (its notes mark events the cascade finished), `agent` the
        model's own; `concurrency`: accounts whose escalated events are with the model at once."""
        self.rules = rules
        self.agent = agent
        self.threshold = threshold
        self.sample = sample
        self.per_tag = dict(per_tag or {})
        self.concurrency = concurrency
        self.fingerprint = rules.fingerprint

    @property
    def name(self) -> str:
        return f"cascade({self.rules.name}→{self.agent.name})"

    async def judged(self, events: Sequence[TicketEvent]) -> set[str]:
        return await self.rules.judged(events)

    async def judge(self, events: Sequence[TicketEvent], pace: Pace | None = None) -> list[Outcome | Exception]:
        # escalated before and the model never answered (a 429, a crash): the note still carries the model's mark.
        # The rules cannot say so again (the account's tags have moved past the event), so the mark decides.
        unfinished = await self.rules.marked(events, self.agent.fingerprint)
        results = await self.rules.judge(events, pace)
        by_account: dict[str, list[int]] = {}
        for i, (event, result) in enumerate(zip(events, results, strict=True)):
            if isinstance(result, Outcome) and (event.event_id in unfinished or escalates(
                    event.event_id, result.judgments, self.threshold, self.sample, self.per_tag)):
                by_account.setdefault(event.account_id, []).append(i)
        if not by_account:
            return results
        gate = asyncio.Semaphore(self.concurrency)

        async def account(indexes: list[int]) -> None:
            async with gate:
                for i in indexes:
                    first = results[i]
                    assert isinstance(first, Outcome)
                    results[i] = await self._escalate(events[i], first)

        try:
            await asyncio.gather(*(account(indexes) for indexes in by_account.values()))
        finally:
            self.rules.release(by_account)  # the model wrote past the rules' cached state of these accounts
        return results

    async def _escalate(self, event: TicketEvent, rules: Outcome) -> Outcome | Exception:
        """The model stage of one event, its note marked as the model's until the model answered."""
        note = rules.memory_ids[0] if rules.memory_ids else None
        try:
            if note is not None:
                await self.agent.store.update(note, metadata=planner_mark(self.agent.fingerprint, self.fingerprint))
            [result] = await self.agent.judge([event])
            if isinstance(result, Exception):
                return result
            if note is not None:
                await self.agent.store.update(note, metadata=planner_mark(self.fingerprint, self.agent.fingerprint))
        except Exception as error:  # noqa: BLE001 - this event's failure: the flow's policy decides what it means
            return error
        return merged(rules, result)

    def release(self, accounts: Collection[str] | None = None) -> None:
        self.rules.release(accounts)
        self.agent.release(accounts)
