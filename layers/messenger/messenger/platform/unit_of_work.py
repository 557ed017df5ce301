"""A use-case's change and the events it causes, committed together (the transactional outbox).

    with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
        uow.record(MessageSent(...))
        self.store.send(message, ..., uow)

The use-case records the events of its change; the store makes the change through
`messenger.platform.outbox.transact(uow, work)` (Postgres) or `mongo_outbox.transact(uow, work)`
(MongoDB), which writes every event recorded by then into that store's outbox inside the same
transaction. So an event exists exactly when its change committed: a transaction that fails
(a duplicate key, a refused nickname), or whose work reports that nothing changed, drops the
events instead, and recorded events that no transaction took (a change that did not happen) are
dropped too. Leaving the `with` block publishes the committed events right away through the
outbox's fast path (`publish_now`); whatever that could not publish, the scheduled relay does.

Events may also be recorded inside the transaction's work (a decision taken under the lock, the
row as it is after the update): a retried attempt drops what the failed one recorded.

Driver-free, like messenger.platform.publishing: a function that writes MongoDB never loads
psycopg, and the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from messenger.platform.events import OutboundEvent, outbound

if TYPE_CHECKING:
    from types import TracebackType

    from messenger.kernel.events import Event

T = TypeVar("T")
Tx = TypeVar("Tx")


class EventOutbox(Protocol):
    """The fast path after a commit (messenger.platform.outbox.OutboxPublisher for Postgres,
    mongo_outbox.MongoOutboxPublisher for MongoDB; publishing.NoOutbox for readers)."""

    def publish_now(self, events: Sequence[OutboundEvent]) -> bool:
        """Publish events that are already in the outbox; False leaves them to the relay."""


def _always(result: object) -> bool:
    return True


class UnitOfWork:
    """The events of one use-case's change: recorded, committed with it, published after."""

    def __init__(self, outbox: EventOutbox, correlation_id: str | None = None) -> None:
        self.outbox = outbox
        self.correlation_id = correlation_id
        self._pending: list[OutboundEvent] = []
        self._committed: list[OutboundEvent] = []

    def record(self, event: Event) -> None:
        """An event of the change, stamped with the request's correlation id."""
        self._pending.append(outbound(event, self.correlation_id))

    @property
    def committed(self) -> tuple[OutboundEvent, ...]:
        """The events a transaction committed and this unit has not published yet."""
        return tuple(self._committed)

    def transaction(
        self,
        run: Callable[[Callable[[Tx], tuple[T, bool]]], tuple[T, bool]],
        write: Callable[[Tx, Sequence[OutboundEvent]], None],
        work: Callable[[Tx], T],
        changed: Callable[[T], bool] = _always,
    ) -> T:
        """Run `work` in a store's transaction (`run` calls its argument inside the transaction,
        possibly again after a failed attempt) and `write` the recorded events there, unless
        `changed(result)` says nothing changed. For the stores' transact helpers (and fakes)."""
        before = len(self._pending)

        def attempt(tx: Tx) -> tuple[T, bool]:
            del self._pending[before:]  # what a failed attempt recorded is recorded again
            result = work(tx)
            if not changed(result):
                return result, False
            if self._pending:
                write(tx, list(self._pending))
            return result, True

        try:
            result, wrote = run(attempt)
        except BaseException:
            self._pending.clear()  # rolled back: these events never happened
            raise
        if wrote:
            self._committed.extend(self._pending)
        self._pending.clear()
        return result

    def publish(self) -> bool:
        """Publish the committed events now (best effort: False leaves them to the relay)."""
        events, self._committed = self._committed, []
        return self.outbox.publish_now(events) if events else True

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Committed events are published even when the use-case failed afterwards: their change
        # happened. Recorded events no transaction took belong to a change that did not.
        self._pending.clear()
        self.publish()
