"""Hypothesis strategies for Maximem Synap documents (maximem-synap 0.6.9 ``CreateMemoryRequest``).

A document is a plain dict with the keys of synap-wire-contract.md §2 "Common request body":
``document`` (non-empty text, or a small non-empty JSON object), and optionally
``document_type``, ``document_id``, ``document_created_at`` (timezone-aware ISO 8601),
``user_id``, ``customer_id``, ``mode`` and ``metadata``. Keys left out take the SDK's defaults
(``ai-chat-conversation``, ``long-range``, ``{}``); ``scope`` is never set on a valid document
(decisions.md: no instance has nested scope levels, and a scope on such an instance is an error).

    from hypothesis import given
    from maximem_synap.memories.models import CreateMemoryRequest
    from emulator.strategies import synap

    @given(synap.batches(max_size=20))
    def test_my_ingester(documents):
        my_ingester.send([CreateMemoryRequest(**doc) for doc in documents])

``memories.batch_create(documents)`` also takes the dicts as they are (synap-wire-contract.md
§2.1: "documents may be CreateMemoryRequest objects or plain dicts").

Validity depends on the instance's ``user_context_isolation`` (synap-wire-contract.md §4,
decisions.md "What makes a document invalid"): under :data:`STRICT` (B2B, the default) a
``user_id`` always comes with a ``customer_id``; under :data:`EQUALS_CUSTOMER` (B2C) no document
carries a ``customer_id``. Pass ``isolation=`` to match the instance under test.

Document ids: unique within one list when present. They are drawn by Hypothesis, so the same
id can come up again in a later example; an id already stored for the tenant makes a document
invalid (decisions.md), so run each example against a fresh tenant or pass
``with_document_id=False`` to let the server assign them.

This module imports only the standard library and ``hypothesis``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Optional

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ._common import (
    MAX_TEXT, Flawed, as_tuple, choose_defects, identifiers, json_objects, metadata, text, timestamps,
)

__all__ = [
    "MAX_DOCUMENTS_PER_BATCH",
    "DOCUMENT_TYPES",
    "MODES",
    "STRICT",
    "EQUALS_CUSTOMER",
    "EMPTY_DOCUMENT",
    "USER_WITHOUT_CUSTOMER",
    "CUSTOMER_UNDER_B2C",
    "SCOPE_WITHOUT_NESTING",
    "DEFECTS",
    "Flawed",
    "document",
    "documents",
    "batches",
    "flawed_documents",
]

MAX_DOCUMENTS_PER_BATCH = 100
"""Documents per ``batch_create`` call: 1 to 100 (docs, synap-wire-contract.md §2.1 / open
question 2; decisions.md "More than 100 documents, or none"). The SDK does not check it."""
DOCUMENT_TYPES: tuple[str, ...] = (
    "ai-chat-conversation", "document", "email", "pdf", "image", "audio", "meeting-transcript",
)
"""The SDK's ``DocumentType`` values (synap-wire-contract.md §2); the docs' "coming soon" types
are refused by the SDK."""
MODES: tuple[str, ...] = ("fast", "long-range")
"""The SDK's ``IngestMode`` values (synap-wire-contract.md §2)."""
STRICT = "strict"
"""B2B isolation, the default: ``user_id`` needs ``customer_id`` (synap-wire-contract.md §4)."""
EQUALS_CUSTOMER = "equals_customer"
"""B2C isolation: a ``customer_id`` is refused (synap-wire-contract.md §4; decisions.md)."""
_ISOLATIONS = (STRICT, EQUALS_CUSTOMER)

# -- defects ---------------------------------------------------------------------------------------

EMPTY_DOCUMENT = "empty_document"
"""``document`` is ``""`` or ``{}``. decisions.md "What makes a document invalid": an empty
document. The SDK sends it (synap-wire-contract.md §4 "Not checked locally")."""
USER_WITHOUT_CUSTOMER = "user_without_customer"
"""A ``user_id`` and no ``customer_id`` under :data:`STRICT` isolation: "user_id without
customer_id → HTTP 400" (synap-wire-contract.md §4; decisions.md). Only under STRICT."""
CUSTOMER_UNDER_B2C = "customer_under_b2c"
"""A ``customer_id`` under :data:`EQUALS_CUSTOMER` isolation: decisions.md "under B2C any
``customer_id``" (synap-wire-contract.md §4: ``batch_create`` does not check it locally; the
docs disagree among themselves, open question 8). Only under EQUALS_CUSTOMER."""
SCOPE_WITHOUT_NESTING = "scope_without_nesting"
"""A ``scope`` object (1 to 3 levels such as ``{"customer": "acme", "user": "dana"}``) sent to an
instance without nested scope levels: "Sending scope to an account without nested scoping is an
error, not ignored" (synap-wire-contract.md §4; decisions.md)."""

DEFECTS: tuple[str, ...] = (EMPTY_DOCUMENT, USER_WITHOUT_CUSTOMER, CUSTOMER_UNDER_B2C, SCOPE_WITHOUT_NESTING)
"""The defects :func:`flawed_documents` can make. Each is a per-document failure (decisions.md:
with ``fail_fast=False`` that document comes back ``failed``; with ``fail_fast=True`` the call is
a 400 naming it).

Not offered, from decisions.md's list: an unknown ``document_type`` or ``mode`` —
``CreateMemoryRequest`` refuses them locally (pydantic ``ValidationError``, checked with
maximem-synap 0.6.9), so they never reach the wire; and a ``document_id`` repeated in the batch
or already stored — a relation between documents, not a defect of one document."""

_NEEDS_ISOLATION = {USER_WITHOUT_CUSTOMER: STRICT, CUSTOMER_UNDER_B2C: EQUALS_CUSTOMER}


def _check_isolation(isolation: str) -> None:
    if isolation not in _ISOLATIONS:
        raise ValueError(f"isolation must be {STRICT!r} or {EQUALS_CUSTOMER!r}; got {isolation!r}")


def _pool(values: Optional[Sequence[str]], name: str, prefix: str) -> Optional[SearchStrategy[str]]:
    """Ids to draw from: generated ones for None, the given ones, or None for an empty
    sequence (never set)."""
    if values is None:
        return identifiers(prefix)
    given = as_tuple(values, name)
    return st.sampled_from(given) if given else None


def _owners(
    users: Optional[SearchStrategy[str]], customers: Optional[SearchStrategy[str]], isolation: str
) -> SearchStrategy[dict[str, str]]:
    """``user_id`` / ``customer_id`` as the isolation allows (synap-wire-contract.md §4): under
    STRICT neither (client scope), a customer (customer scope) or both (user scope); under
    EQUALS_CUSTOMER neither or a user."""
    options: list[SearchStrategy[dict[str, str]]] = [st.just({})]
    if isolation == STRICT:
        if customers is not None:
            options.append(st.fixed_dictionaries({"customer_id": customers}))
            if users is not None:
                options.append(st.fixed_dictionaries({"user_id": users, "customer_id": customers}))
    elif users is not None:
        options.append(st.fixed_dictionaries({"user_id": users}))
    return st.one_of(*options)


def _content(max_text: int) -> SearchStrategy[Any]:
    """``document``: non-blank text of up to *max_text* characters or a non-empty JSON object
    (``Union[str, Dict]``, synap-wire-contract.md §2; empty is invalid, decisions.md)."""
    return st.one_of(text(max_size=max_text), json_objects())


def _body(users: Optional[Sequence[str]], customers: Optional[Sequence[str]], isolation: str, max_text: int
          ) -> SearchStrategy[dict[str, Any]]:
    """A valid document without ``document_id``."""
    _check_isolation(isolation)
    if max_text < 1:
        raise ValueError(f"max_text must be at least 1; got {max_text}")
    owners = _owners(_pool(users, "user_ids", "user"), _pool(customers, "customer_ids", "customer"), isolation)
    fields = st.fixed_dictionaries(
        {"document": _content(max_text)},
        optional={
            "document_type": st.sampled_from(DOCUMENT_TYPES),
            "document_created_at": timestamps(),
            "mode": st.sampled_from(MODES),
            "metadata": metadata(),
        },
    )
    return st.builds(lambda body, who: {**body, **who}, fields, owners)


def document(
    *,
    user_ids: Optional[Sequence[str]] = None,
    customer_ids: Optional[Sequence[str]] = None,
    isolation: str = STRICT,
    with_document_id: Optional[bool] = None,
    max_text: int = MAX_TEXT,
) -> SearchStrategy[dict[str, Any]]:
    """One valid document. *user_ids* / *customer_ids*: the ids to draw from (None: generated
    ones such as ``user-k3``; an empty sequence: never set). Under STRICT isolation a
    ``user_id`` comes only with a ``customer_id``; under EQUALS_CUSTOMER there is never a
    ``customer_id`` (synap-wire-contract.md §4). *with_document_id*: True always, False never,
    None sometimes. Optional ``document_type`` and ``mode`` from the SDK's enums,
    ``document_created_at`` with an offset, ``metadata`` (synap-wire-contract.md §2)."""
    return documents(
        user_ids=user_ids, customer_ids=customer_ids, isolation=isolation, min_size=1, max_size=1,
        with_document_id=with_document_id, max_text=max_text,
    ).map(lambda docs: docs[0])


def documents(
    *,
    user_ids: Optional[Sequence[str]] = None,
    customer_ids: Optional[Sequence[str]] = None,
    isolation: str = STRICT,
    min_size: int = 1,
    max_size: int = 10,
    with_document_id: Optional[bool] = None,
    max_text: int = MAX_TEXT,
) -> SearchStrategy[list[dict[str, Any]]]:
    """*min_size* to *max_size* valid documents (as :func:`document`) whose ``document_id``\\ s,
    where present, are unique in the list (decisions.md: a repeated id is invalid).
    ``1 <= min_size <= max_size <= MAX_DOCUMENTS_PER_BATCH``: one ``batch_create`` call's worth."""
    if not 1 <= min_size <= max_size <= MAX_DOCUMENTS_PER_BATCH:
        raise ValueError(
            f"documents needs 1 <= min_size <= max_size <= {MAX_DOCUMENTS_PER_BATCH}; got {min_size}, {max_size}"
        )
    return _documents(
        _ids(user_ids, "user_ids"), _ids(customer_ids, "customer_ids"), isolation, min_size, max_size, with_document_id,
        max_text,
    )


def _ids(values: Optional[Sequence[str]], name: str) -> Optional[tuple[str, ...]]:
    return None if values is None else as_tuple(values, name)


# Cached, so that a strategy built inside each example (``data.draw(documents(...))``) is the
# same object every time and Hypothesis does not redo its first-draw work.
@lru_cache(maxsize=256)
def _documents(
    user_ids: Optional[tuple[str, ...]],
    customer_ids: Optional[tuple[str, ...]],
    isolation: str,
    min_size: int,
    max_size: int,
    with_document_id: Optional[bool],
    max_text: int,
) -> SearchStrategy[list[dict[str, Any]]]:
    bodies = st.lists(_body(user_ids, customer_ids, isolation, max_text), min_size=min_size, max_size=max_size)

    def with_ids(docs: list[dict[str, Any]]) -> SearchStrategy[list[dict[str, Any]]]:
        if with_document_id is False:
            return st.just(docs)
        ids = st.lists(st.uuids(version=4).map(lambda u: f"doc-{u}"), min_size=len(docs), max_size=len(docs), unique=True)
        keep = st.just([True] * len(docs)) if with_document_id else st.lists(st.booleans(), min_size=len(docs), max_size=len(docs))
        return st.builds(
            lambda drawn, mask: [{**doc, "document_id": i} if k else doc for doc, i, k in zip(docs, drawn, mask)], ids, keep
        )

    return bodies.flatmap(with_ids)


def batches(
    *,
    user_ids: Optional[Sequence[str]] = None,
    customer_ids: Optional[Sequence[str]] = None,
    isolation: str = STRICT,
    min_size: int = 1,
    max_size: int = MAX_DOCUMENTS_PER_BATCH,
    with_document_id: Optional[bool] = None,
    max_text: int = MAX_TEXT,
) -> SearchStrategy[list[dict[str, Any]]]:
    """The documents of one valid ``batch_create`` call: 1 to :data:`MAX_DOCUMENTS_PER_BATCH`
    (100) documents by default, ``document_id``\\ s unique (see :func:`documents`)."""
    return documents(
        user_ids=user_ids, customer_ids=customer_ids, isolation=isolation, min_size=min_size, max_size=max_size,
        with_document_id=with_document_id, max_text=max_text,
    )


def flawed_documents(
    defects: Optional[Sequence[str]] = None,
    *,
    user_ids: Optional[Sequence[str]] = None,
    customer_ids: Optional[Sequence[str]] = None,
    isolation: str = STRICT,
) -> SearchStrategy[Flawed]:
    """One document with exactly one defect, as ``Flawed(item, defect)``: from *defects*, or by
    default every defect that applies under *isolation* (USER_WITHOUT_CUSTOMER only under
    STRICT, CUSTOMER_UNDER_B2C only under EQUALS_CUSTOMER; naming one that does not apply, or an
    unknown one, is a ``ValueError``). Otherwise the document is valid; it carries no
    ``document_id``, so it cannot clash with the documents it is sent with."""
    _check_isolation(isolation)
    possible = [d for d in DEFECTS if _NEEDS_ISOLATION.get(d, isolation) == isolation]
    chosen = choose_defects(defects, DEFECTS, possible,
                            lambda d: f"defect {d!r} applies only under isolation {_NEEDS_ISOLATION[d]!r}")
    return _flawed(_ids(user_ids, "user_ids"), _ids(customer_ids, "customer_ids"), isolation, chosen)


@lru_cache(maxsize=256)
def _flawed(
    user_ids: Optional[tuple[str, ...]], customer_ids: Optional[tuple[str, ...]], isolation: str, chosen: tuple[str, ...]
) -> SearchStrategy[Flawed]:
    base = _body(user_ids, customer_ids, isolation, MAX_TEXT)
    # The defects that need an id draw it from the given ones, or generate one where none are.
    users = _pool(user_ids, "user_ids", "user")
    customers = _pool(customer_ids, "customer_ids", "customer")
    users = identifiers("user") if users is None else users
    customers = identifiers("customer") if customers is None else customers
    levels = st.fixed_dictionaries({}, optional={"customer": customers, "team": identifiers("team"), "user": users})
    builders: dict[str, SearchStrategy[dict[str, Any]]] = {
        EMPTY_DOCUMENT: st.builds(lambda doc, empty: {**doc, "document": empty}, base, st.sampled_from(["", {}])),
        USER_WITHOUT_CUSTOMER: st.builds(
            lambda doc, user: {**{k: v for k, v in doc.items() if k != "customer_id"}, "user_id": user}, base, users
        ),
        CUSTOMER_UNDER_B2C: st.builds(lambda doc, customer: {**doc, "customer_id": customer}, base, customers),
        SCOPE_WITHOUT_NESTING: st.builds(lambda doc, scope: {**doc, "scope": scope}, base, levels.filter(bool)),
    }
    return st.sampled_from(chosen).flatmap(lambda defect: builders[defect].map(lambda doc: Flawed(doc, defect)))
