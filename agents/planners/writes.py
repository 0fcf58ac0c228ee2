"""What one batch of the rules planner writes: new notes in order, then changes; one profile write per account.

Every write is built by the note schema's one writer (`agents.notes`), as the LLM's tools build theirs; only the
timing differs: here the whole batch goes to the store in one transaction (`memory.batch`), the group commit that
makes a backfill fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import JsonValue

from ticket_enricher.agents.notes import PROFILE_KEY, new_profile, profile_metadata
from ticket_enricher.agents.planners.state import AccountState
from ticket_enricher.memory.batch import Change, NewMemory, planned_id
from ticket_enricher.memory.store import EntityScope


@dataclass
class PendingProfile:
    """An account's profile write of this batch, built once from the account's state when the batch is written:
    as if every event's write had been merged in order (top-level keys, the last `last_cleared`, the last guard)."""

    state: AccountState
    vocabulary: tuple[str, ...]
    create: bool  # the profile did not exist when the batch began: a merging insert, else a change
    last_cleared: dict[str, JsonValue] | None = None

    def write(self) -> NewMemory | Change:
        tags = self.state.tags
        if tags.evaluated_through is None:
            raise ValueError(f"the profile of {self.state.account_id} reflects no event")
        metadata = profile_metadata(tags.tags, tags.evaluated_through, self.vocabulary, self.last_cleared)
        if self.create or self.state.profile_id is None:
            return new_profile(self.state.account_id, metadata)
        return Change(self.state.profile_id, metadata, ("evaluated_through", tags.evaluated_through.isoformat()))


@dataclass
class Writes:
    new: list[NewMemory] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    profiles: dict[str, PendingProfile] = field(default_factory=dict)
    notes_added: int = 0

    def profile(self, state: AccountState, vocabulary: tuple[str, ...],
                cleared: dict[str, JsonValue] | None) -> None:
        pending = self.profiles.get(state.account_id)
        if pending is None:
            pending = self.profiles[state.account_id] = PendingProfile(state, vocabulary, state.profile_id is None)
            if pending.create:
                state.profile_id = planned_id(EntityScope(user_id=state.account_id), PROFILE_KEY)
        if cleared:
            pending.last_cleared = cleared

    def __bool__(self) -> bool:
        return bool(self.new or self.changes or self.profiles)

    def all(self) -> tuple[list[NewMemory], list[Change]]:
        profiles = [p.write() for p in self.profiles.values()]
        new = self.new + [w for w in profiles if isinstance(w, NewMemory)]
        return new, self.changes + [w for w in profiles if isinstance(w, Change)]
