"""Reads of cases, always starting from the person asking (docs/support.md).

`access_case` is the one way from a case id to a case: an agent reaches the cases of
their teams, a customer their own; anything else is the same NotFound as a missing case.
Every queue of the console is one ordered index scan per team, and its counts are sums
of maintained counters (CaseCounter), never a COUNT over the queue.
"""

import math
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.models import Role, User
from messagecenter.bidi import neutralise
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.models import (
    Attachment,
    Conversation,
    HiddenMessage,
    Kind,
    Message,
)
from messagecenter.errors import InvalidInput, NotFound
from messagecenter.marketplace.models import Order
from messagecenter.rows import MAX_ID, CompiledQuery, parse_id, unique_row
from messagecenter.support.models import (
    UNASSIGNED,
    CannedResponse,
    Case,
    CaseCounter,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseNote,
    CasePriority,
    CaseStatus,
    ChatAvailability,
    ClaimStage,
    Report,
    ReportFiling,
    Team,
    TeamMember,
)

STAFF_ROLES = (Role.AGENT, Role.ADMIN)

# The console's queues, in the order of its tabs.
UNASSIGNED_VIEW = "unassigned"
MINE = "mine"
TEAM = "team"
WAITING = "waiting"
SOLVED = "solved"
QUEUE_VIEWS: dict[str, str] = {
    UNASSIGNED_VIEW: "Unassigned",
    MINE: "Mine",
    TEAM: "My team's",
    WAITING: "Waiting on customer",
    SOLVED: "Solved",
}


# The nudge an open queue page follows (web/static/web/console_queue.js): a change to one
# of the team's cases was committed.
QUEUE_CHANGED = "queue.changed"


def queue_watchers_among(team_id: int, user_ids: Collection[int]) -> set[int]:
    """Of these people, those who see the team's queues: its agents and the admins."""
    return set(
        User.objects.filter(pk__in=user_ids, is_active=True)
        .filter(Q(role=Role.ADMIN) | Q(role=Role.AGENT, team_memberships__team_id=team_id))
        .values_list("pk", flat=True)
        .distinct()
    )


def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def team_ids(user: User) -> list[int]:
    """The teams whose cases the person works on: an agent's own; an admin supervises
    every team; anyone else none."""
    if user.role == Role.ADMIN:
        return [team.pk for team in _EVERY_TEAM()]
    if user.role != Role.AGENT:
        return []
    return [membership.team_id for membership in _MEMBERSHIPS(user.pk)]


# Every console request asks this first: compiled once (rows.CompiledQuery).
_EVERY_TEAM = CompiledQuery(lambda: Team.objects.order_by("pk"))
_MEMBERSHIPS = CompiledQuery(
    lambda agent_id: TeamMember.objects.filter(agent_id=agent_id).order_by("team_id")
)


def access_case(user: User, case_id: Any, *, for_agent: bool = False) -> Case:
    """The case, if the person may see it: an agent or admin, a case of their teams; a
    customer, their own (`for_agent`: agents only, as every console action asks)."""
    number = parse_id(_case_number(case_id), code="case_not_found")
    cases = Case.objects.select_related(
        "team", "assignee", "customer", "customer__storefront", "order", "product"
    ).filter(pk=number)
    if is_staff(user):
        if user.role != Role.ADMIN:
            cases = cases.filter(team__members__agent=user)
    elif for_agent:
        raise NotFound("No such case.", code="case_not_found")
    else:
        # A report is not its first reporter's to open: others may have joined it, and a
        # reporter never learns who (docs/safety.md#reports). Reporters read their filings.
        cases = cases.filter(customer=user).exclude(kind=CaseKind.REPORT)
    case = unique_row(cases)
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    return case


def _case_number(value: Any) -> Any:
    """ "CS-12" as people quote it, or 12."""
    if isinstance(value, str) and value.upper().startswith("CS-"):
        return value[3:]
    return value


def every_team() -> list[Team]:
    """Every team, by name: where a case may be transferred (actions.transfer_case)."""
    return list(Team.objects.order_by("name", "pk"))


def teams_of(user: User) -> list[Team]:
    return list(Team.objects.filter(pk__in=team_ids(user)).order_by("name"))


def access_team(user: User, team_id: Any) -> Team:
    number = parse_id(team_id, code="team_not_found")
    if number not in team_ids(user):
        raise NotFound("No such team.", code="team_not_found")
    return Team.objects.get(pk=number)


def access_canned_response(user: User, canned_response_id: Any) -> CannedResponse:
    number = parse_id(canned_response_id, code="canned_response_not_found")
    canned = unique_row(
        CannedResponse.objects.select_related("team").filter(pk=number, team_id__in=team_ids(user))
    )
    if canned is None:
        raise NotFound("No such canned response.", code="canned_response_not_found")
    return canned


def internal_name(agent: User) -> str:
    """The name agents know each other by (never shown to customers)."""
    return agent.get_full_name() or agent.username


def author_part(message: Message, case: Case) -> str:
    """Whose words a message of the case is: "marketplace", "customer" (the case's),
    "agent" (agents and admins), or anyone else's role in its conversation — "seller" in a
    claim. One answer for the console page and the API (docs/api.md#agents)."""
    return part_in_case(message.sender, case)


def author_name(message: Message, case: Case) -> str:
    """The name of a message's author for agents: the customer and the seller by the names
    the others read (a seller's is their shop's), agents by the names agents know each
    other by."""
    return name_in_console(message.sender, case)


def part_in_case(person: User | None, case: Case) -> str:
    """A person's part in a case (None: the marketplace's own systems): author_part's
    answer for whoever wrote a message, or did something in its history."""
    if person is None:
        return "marketplace"
    # A report's "customer" is whoever filed it, a buyer or a seller, with no conversation
    # with customer service: named by their role, as everyone else in a case is ("(seller)"
    # for a seller who reported, not "(customer)").
    if person.pk == case.customer_id and case.kind != CaseKind.REPORT:
        return "customer"
    if person.role in (Role.AGENT, Role.ADMIN):
        return "agent"
    return Role(person.role).value


def name_in_console(person: User | None, case: Case) -> str:
    """author_name's answer for a person: customers and sellers by the names the others
    read (a seller by their shop), agents by the names agents know each other by."""
    if person is None:
        return "Marketplace"
    if part_in_case(person, case) == "agent":
        return internal_name(person)
    return person.public_name


def person_in_console(person: User | None, case: Case) -> str:
    """How the console names a person in a case, with their part but for agents and the
    marketplace: "Alice Buyer (customer)", "Acme Kitchen (seller)", "Priya Natarajan" —
    the messages' authors and the history's actors alike, as a line of text writes them (the
    API's history, the transcripts); a page shows person_in_console_html."""
    part = part_in_case(person, case)
    if part in ("marketplace", "agent"):
        return name_in_console(person, case)
    return f"{name_in_console(person, case)} ({part})"


def person_in_console_html(person: User | None, case: Case) -> SafeString:
    """person_in_console for a page: the name and the part each an isolate of their own,
    `<bdi>نور</bdi> <bdi>(customer)</bdi>` — as one run of text a right-to-left name took
    the "(customer)" after it into its run, the part shown at the wrong end."""
    part = part_in_case(person, case)
    if part in ("marketplace", "agent"):
        return format_html("<bdi>{}</bdi>", name_in_console(person, case))
    return format_html("<bdi>{}</bdi> <bdi>({})</bdi>", name_in_console(person, case), part)


# --- queues -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    kind: str | None = None
    priority: int | None = None
    order_number: str | None = None
    # Only cases that have been where they are for at least this many hours.
    older_than_hours: int | None = None

    @classmethod
    def parse(cls, data: Any) -> "QueueFilters":
        """The console's filter form (the API reads its own parameters, support/api.py): a
        refusal names the filter by its label on the page, which an agent reads — an edited
        URL used to answer "older_than_hours is 0 to 8760."."""
        kind = data.get("kind") or None
        if kind is not None and kind not in CaseKind.values:
            raise InvalidInput(
                f"Kind: choose one of {_listed(CaseKind.labels)}.", code="invalid_kind"
            )
        priority = _whole_number(
            data.get("priority"),
            1,
            4,
            f"Priority: choose {_listed(CasePriority.labels)}.",
            code="invalid_priority",
        )
        age = _whole_number(
            data.get("older_than_hours"),
            0,
            24 * 365,
            f"Waiting at least (hours): a whole number of hours from 0 to {24 * 365} (a year).",
            code="invalid_older_than_hours",
        )
        order_number = (data.get("order") or "").strip() or None
        return cls(kind=kind, priority=priority, order_number=order_number, older_than_hours=age)

    @property
    def is_empty(self) -> bool:
        return self == QueueFilters()


def _listed(labels: list[str]) -> str:
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def _whole_number(value: Any, low: int, high: int, refusal: str, *, code: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(refusal, code=code) from None
    if not low <= number <= high:
        raise InvalidInput(refusal, code=code)
    return number


@dataclass(frozen=True)
class QueuePage:
    cases: list[Case]
    next_cursor: str | None


def queue_page(
    agent: User,
    view: str,
    *,
    filters: QueueFilters | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
    teams: list[int] | None = None,
) -> QueuePage:
    """One page of a queue, oldest waiting first (solved: most recently solved first).

    Each team's part is an ordered range scan of case_team_assignee, case_team_status or
    case_assignee; with several teams the parts are merged here (a page from each).
    `teams`: the person's team_ids when the caller has them already (the console page
    reads them once for the queue and the counts)."""
    if view not in QUEUE_VIEWS:
        raise InvalidInput(f"Unknown queue {view!r}.", code="invalid_queue")
    filters = filters or QueueFilters()
    page_size = limit or settings.SUPPORT_QUEUE_PAGE_SIZE
    newest_first = view == SOLVED
    after = _decode_cursor(cursor) if cursor else None
    now = now or timezone.now()
    # The filters that take a person's text or a moment are values of the compiled
    # statement; a kind and a priority (a few of each) are part of its shape.
    values: list[int | str | datetime] = []
    if filters.order_number is not None:
        values.append(filters.order_number)
    if filters.older_than_hours is not None:
        values.append(now - timedelta(hours=filters.older_than_hours))
    if after is not None:
        values += list(after)
    shape = (
        filters.kind,
        filters.priority,
        filters.order_number is not None,
        filters.older_than_hours is not None,
        after is not None,
        page_size + 1,
    )
    found: list[Case] = []
    if view == MINE:
        found += _QUEUE_PART(agent.pk, *values, shape=(MINE, CaseStatus.OPEN, *shape))
    else:
        for team_id in team_ids(agent) if teams is None else teams:
            for status in _VIEW_STATUSES[view]:
                found += _QUEUE_PART(team_id, *values, shape=(view, status, *shape))
    found.sort(key=lambda case: (case.queued_at, case.pk), reverse=newest_first)
    next_cursor = None
    if len(found) > page_size:
        found = found[:page_size]
        last = found[-1]
        next_cursor = f"{last.queued_at.isoformat()}~{last.pk}"
    return QueuePage(found, next_cursor)


_VIEW_STATUSES: dict[str, list[str]] = {
    UNASSIGNED_VIEW: [CaseStatus.OPEN],
    TEAM: [CaseStatus.OPEN],
    WAITING: [CaseStatus.PENDING],
    SOLVED: [CaseStatus.SOLVED, CaseStatus.CLOSED],
}


def _queue_part(owner: int, *values: Any, shape: tuple[Any, ...]) -> QuerySet[Case]:
    """One team's cases of a queue in one status (Mine: the agent's own), filtered, from
    where the last page ended, oldest waiting first (solved: latest first) — compiled
    once per shape (rows.CompiledQuery): Django's compiling of this statement, with its
    five related rows, cost more than the database's answer. `owner` is the team (Mine:
    the agent); `values` the order number, the "waiting since before" moment and the
    cursor's moment and id, those the shape says are given."""
    view, status, kind, priority, by_order, by_age, after, limit = shape
    if view == MINE:
        rows = Case.objects.filter(assignee_id=owner, status=status)
    else:
        rows = Case.objects.filter(team_id=owner, status=status)
        if status == CaseStatus.CLOSED:
            # Merged duplicates are closed and in no queue.
            rows = rows.filter(merged_into__isnull=True)
        if view == UNASSIGNED_VIEW:
            if kind is None and priority is None and not by_order:
                rows = rows.filter(assignee__isnull=True)
            else:
                # A filter's index leads (case_team_kind, case_team_priority,
                # case_order_queue) and "nobody has it" is checked on its rows: SQLite
                # would otherwise take case_team_assignee, as equal a match to it, and
                # walk the whole unassigned queue for the few the filter keeps.
                rows = rows.alias(assignee_key=Coalesce("assignee_id", UNASSIGNED)).filter(
                    assignee_key=UNASSIGNED
                )
    given = iter(values)
    if kind is not None:
        rows = rows.filter(kind=kind)
    if priority is not None:
        rows = rows.filter(priority=priority)
    if by_order:
        rows = rows.filter(order__number=next(given))
    if by_age:
        rows = rows.filter(queued_at__lte=next(given))
    newest_first = view == SOLVED
    if after:
        at, last_id = next(given), next(given)
        if newest_first:
            rows = rows.filter(Q(queued_at__lt=at) | Q(queued_at=at, id__lt=last_id))
        else:
            rows = rows.filter(Q(queued_at__gt=at) | Q(queued_at=at, id__gt=last_id))
    ordering = ("-queued_at", "-id") if newest_first else ("queued_at", "id")
    return rows.select_related(
        "customer", "customer__storefront", "assignee", "order", "team"
    ).order_by(*ordering)[:limit]


_QUEUE_PART = CompiledQuery(_queue_part)


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        timestamp, _, identifier = cursor.rpartition("~")
        at, last_id = datetime.fromisoformat(timestamp), int(identifier)
        if at.tzinfo is None or not 0 < last_id <= MAX_ID:
            raise ValueError(cursor)
        return at.astimezone(UTC), last_id
    except (ValueError, OverflowError):
        raise InvalidInput("The page cursor is not valid.", code="invalid_cursor") from None


def queue_counts(agent: User, teams: list[int] | None = None) -> dict[str, int]:
    """Every queue's count from the maintained counters: one indexed read (two without
    the person's `teams`)."""
    teams = team_ids(agent) if teams is None else teams
    counts = dict.fromkeys(QUEUE_VIEWS, 0)
    rows = [
        (counter.team_id, counter.status, counter.assignee_key, counter.cases)
        for counter in _COUNTERS(agent.pk, *teams, shape=len(teams))
    ]
    team_set = set(teams)
    for team_id, status, assignee_key, cases in rows:
        if status == CaseStatus.OPEN and assignee_key == agent.pk:
            counts[MINE] += cases
        if team_id not in team_set:
            continue
        if status == CaseStatus.OPEN:
            counts[TEAM] += cases
            if assignee_key == UNASSIGNED:
                counts[UNASSIGNED_VIEW] += cases
        elif status == CaseStatus.PENDING:
            counts[WAITING] += cases
        else:
            counts[SOLVED] += cases
    return counts


def _counters(agent_id: int, *teams: int, shape: int) -> QuerySet[CaseCounter]:
    """The counters of the person's teams and of their own open cases (in any team),
    compiled once per number of teams."""
    return CaseCounter.objects.filter(
        Q(team_id__in=teams) | Q(assignee_key=agent_id, status=CaseStatus.OPEN)
    )


_COUNTERS = CompiledQuery(_counters)


def recount() -> dict[tuple[int, str, int], int]:
    """What the counters should say, counted from the cases (tests and the repair
    command compare the two)."""
    counted: dict[tuple[int, str, int], int] = defaultdict(int)
    # A merged duplicate is in no queue and no count.
    for team_id, status, assignee_id in Case.objects.filter(merged_into__isnull=True).values_list(
        "team_id", "status", "assignee_id"
    ):
        counted[(team_id, status, assignee_id or UNASSIGNED)] += 1
    return dict(counted)


def stored_counts() -> dict[tuple[int, str, int], int]:
    return {
        (team_id, status, assignee_key): cases
        for team_id, status, assignee_key, cases in CaseCounter.objects.values_list(
            "team_id", "status", "assignee_key", "cases"
        )
        if cases
    }


# --- one case -----------------------------------------------------------------------------------


def case_messages(case: Case) -> QuerySet[Message]:
    """The case's conversation as the agents see it: every message, oldest first, with
    those of the duplicates merged into it (each message's `case_number` says whose: the
    same one read), and their attachments in a plain list (Message.listed_attachments): one
    more statement for the whole page, whatever the number of messages."""
    return (
        Message.objects.filter(_in_case_conversations(case))
        .annotate(from_case_id=F("conversation__case__id"), is_reported=_IS_REPORTED)
        .select_related("sender", "sender__storefront")
        .prefetch_related(conversation_queries.attachments_in_order())
        .order_by("id")
    )


# Whether anyone hid the message by reporting it, in the statement that reads it (an
# EXISTS on conversations_hiddenmessage's message index): reports are rare, so who did is
# read only when someone did (with_reporters).
_IS_REPORTED = Exists(HiddenMessage.objects.filter(message_id=OuterRef("pk")))


def with_reporters(messages: Iterable[Message]) -> list[Message]:
    """The messages (read with `is_reported`: case_messages, context_messages), each with
    `reporters`: who reported it and when (HiddenMessage rows with their person), first
    first. A reported message is hidden for its reporter only (docs/safety.md#reports), so
    the agent reading the conversation is told whose view it left, as a removed one is
    marked. One statement for the whole page, and none when nobody reported any."""
    messages = list(messages)
    reported = [message.pk for message in messages if getattr(message, "is_reported", False)]
    by_message: dict[int, list[HiddenMessage]] = defaultdict(list)
    if reported:
        for hidden in (
            HiddenMessage.objects.filter(message_id__in=reported)
            .select_related("user", "user__storefront")
            .order_by("hidden_at", "pk")
        ):
            by_message[hidden.message_id].append(hidden)
    for message in messages:
        message.reporters = by_message.get(message.pk, [])  # type: ignore[attr-defined]
    return messages


def _in_case_conversations(case: Case, to_message: str = "") -> Q:
    """The messages of the case's conversation and of the duplicates merged into it, as a
    filter of Message (or, with `to_message` "message__", of rows that point at one)."""
    merged = Q(**{f"{to_message}conversation__case__merged_into": case})
    if case.conversation_id is None:
        return merged
    return Q(**{f"{to_message}conversation_id": case.conversation_id}) | merged


def reported_messages_filter(report_id: int, sender_id: int, to_message: str = "") -> Q:
    """What a report is about, as a filter of Message (or of rows that point at one,
    `to_message` "message__"): the messages reported, and everything the sender wrote in a
    conversation reported as a whole (report_queries.reported_messages)."""
    filed = ReportFiling.objects.filter(report_id=report_id)
    return Q(**{f"{to_message}sender_id": sender_id}) & (
        Q(**{f"{to_message}pk__in": filed.filter(message__isnull=False).values("message_id")})
        | Q(
            **{
                f"{to_message}conversation_id__in": filed.filter(message__isnull=True).values(
                    "conversation_id"
                )
            }
        )
    )


def case_attachment(case: Case, attachment_id: Any) -> Attachment:
    """An attachment of a message the case's console page shows — in its conversation or
    in a duplicate's merged into it, and on a report's case one of the reported messages
    (the report panel) — for a case the caller already reached through access_case, as
    its page does. Any other attachment, even one the agent could open in a conversation of
    their own, is the same NotFound as a missing one: this address is the case's."""
    number = parse_id(attachment_id, code="attachment_not_found", message="No such attachment.")
    shown = _in_case_conversations(case, "message__")
    if case.kind == CaseKind.REPORT:
        reported = Report.objects.filter(pk=case.pk).values_list("sender_id", flat=True)
        sender_id = next(iter(reported[:1]), None)
        if sender_id is not None:
            shown |= reported_messages_filter(case.pk, sender_id, "message__")
    attachment = unique_row(Attachment.objects.filter(shown, pk=number))
    if attachment is None:
        raise NotFound("No such attachment.", code="attachment_not_found")
    return attachment


def case_notes(case: Case) -> QuerySet[CaseNote]:
    """The case's internal notes, with those of the duplicates merged into it."""
    return (
        CaseNote.objects.filter(Q(case=case) | Q(case__merged_into=case))
        .select_related("author")
        .order_by("id")
    )


def merged_cases(case: Case) -> list[Case]:
    """The duplicates merged into this case, oldest first."""
    return list(Case.objects.filter(merged_into=case).order_by("id"))


def case_history(case: Case) -> list[tuple[CaseEvent, str]]:
    """The case's history for agents, each event with its line: two queries. Whoever acted
    is named as the case's messages name them (person_in_console): a seller who responded
    to a claim by their shop, not the account holder's own name."""
    return [
        (event, line.format(who=_actor(event, case), **ours, **theirs))
        for event, line, ours, theirs in _history(case)
    ]


def case_history_html(case: Case) -> list[tuple[CaseEvent, SafeString]]:
    """case_history for the console's page: whoever acted as person_in_console_html names
    them, and each name, subject or file's name people chose (an assignee, a conversation
    opened, a file downloaded) an isolate of its own, so that a right-to-left one keeps its
    words, quotes and part in their places."""
    return [
        (
            event,
            format_html(
                line,
                who=_actor_html(event, case),
                **ours,
                **{name: format_html("<bdi>{}</bdi>", text) for name, text in theirs.items()},
            ),
        )
        for event, line, ours, theirs in _history(case)
    ]


def _actor(event: CaseEvent, case: Case) -> str:
    return person_in_console(event.actor, case) if event.actor is not None else "The marketplace"


def _actor_html(event: CaseEvent, case: Case) -> SafeString:
    if event.actor is None:
        return SafeString("The marketplace")
    return person_in_console_html(event.actor, case)


def _history(case: Case) -> list[tuple[CaseEvent, str, dict[str, str], dict[str, str]]]:
    events = list(
        CaseEvent.objects.filter(case=case)
        .select_related("actor", "actor__storefront")
        .order_by("id")
    )
    # Those assigned, and those a transfer unassigned (not in the new team).
    assignee_ids = {
        event.detail.get(key) for event in events for key in ("assignee", "unassigned")
    } - {None}
    names = {user.pk: internal_name(user) for user in User.objects.filter(pk__in=assignee_ids)}
    return [(event, *_history_line(event, names)) for event in events]


# A status line's reason: the case was closed because its customer was erased
# (actions.close_cases_of_erased).
CLOSED_FOR_ERASURE = "customer_erased"

# Why an erased customer's request takes no answer and does not open again: the 409's
# message (customer_erased), and the console's words in place of the reply box.
CUSTOMER_ERASED = (
    "This customer's account was erased at their request: nobody would read an answer, "
    "and they can no longer reply."
)


# The kinds of case only their customer answers in: closed when the customer is erased
# (actions.close_cases_of_erased), and never answered or opened again after.
ANSWERED_BY_CUSTOMER_ALONE = (CaseKind.REQUEST, CaseKind.APPEAL)


def is_customer_erased(case: Case) -> bool:
    """The customer of a case that only they answer in was erased at their request
    (docs/privacy.md#erasure): an answer would reach nobody, and opening it again would
    put it in the queues to be answered to no one, so both are refused
    (`customer_erased`) and the console offers neither. Not a claim (its seller takes
    part, and reads the claims team's answers) nor a report (the review of someone else,
    whoever reported it). No query for an active customer (the case's customer comes
    with it)."""
    return (
        case.kind in ANSWERED_BY_CUSTOMER_ALONE
        and closed_accounts.closure_of(case.customer) == closed_accounts.Closure.ERASED
    )


def _history_line(
    event: CaseEvent, names: dict[int, str]
) -> tuple[str, dict[str, str], dict[str, str]]:
    """An event's line as a template of ours ("{who} set the status to {status}"), with
    the words of ours it names and those people chose (names, subjects, files' names),
    apart: case_history writes them as they are, case_history_html isolates people's."""
    detail = event.detail
    if event.kind == CaseEventKind.STATUS:
        if detail.get("reason") == CLOSED_FOR_ERASURE:
            return (
                "{who} erased the customer at their request: the case is closed, as "
                "nobody can answer it any more",
                {},
                {},
            )
        return (
            "{who} set the status to {status}",
            {"status": CaseStatus(detail["status"]).label},
            {},
        )
    if event.kind == CaseEventKind.PRIORITY:
        return (
            "{who} set the priority to {priority}",
            {"priority": CasePriority(detail["priority"]).label},
            {},
        )
    if event.kind == CaseEventKind.ASSIGNED:
        return (
            "{who} assigned it to {assignee}",
            {},
            {"assignee": names.get(detail.get("assignee", 0), "someone")},
        )
    if event.kind == CaseEventKind.CONTEXT_OPENED:
        subject = {"subject": detail.get("subject", "")}
        if "attachment" in detail:
            return (
                "{who} downloaded “{attachment}” from the conversation “{subject}”",
                {},
                # Its name as it is served (Attachment.download_name): an event recorded
                # before names were stored without bidirectional controls keeps them.
                {"attachment": neutralise(detail["attachment"]), **subject},
            )
        return "{who} opened the conversation “{subject}”", {}, subject
    if event.kind == CaseEventKind.OPENED:
        if "split_from" in detail:
            return "{who} split it out of CS-{number}", {"number": str(detail["split_from"])}, {}
        by = {"chat": " by chat", "email": " by e-mail"}.get(detail.get("channel", ""), "")
        return "{who} opened the case{by}", {"by": by}, {}
    if event.kind == CaseEventKind.MERGED:
        if "into" in detail:
            return "{who} merged it into CS-{number}", {"number": str(detail["into"])}, {}
        return "{who} merged CS-{number} into it", {"number": str(detail.get("merged"))}, {}
    if event.kind == CaseEventKind.SPLIT:
        return "{who} split a message out into CS-{number}", {"number": str(detail.get("into"))}, {}
    if event.kind == CaseEventKind.CUSTOMER_REPLIED:
        return "{who} replied: the case is open again", {}, {}
    if event.kind == CaseEventKind.ANSWERED:
        if "conversation_id" in detail:
            return (
                "{who} wrote to the buyer and the seller in “{subject}”",
                {},
                {"subject": detail.get("subject", "")},
            )
        return "{who} answered the customer", {}, {}
    if event.kind == CaseEventKind.CLAIM_STAGE:
        outcome = f" ({detail['outcome']})" if detail.get("outcome") else ""
        return (
            "{who} moved the claim to “{stage}”{outcome}",
            {"stage": ClaimStage(detail["stage"]).label, "outcome": outcome},
            {},
        )
    if event.kind == CaseEventKind.UNASSIGNED:
        return "{who} put it back in the queue", {}, {}
    if event.kind == CaseEventKind.TRANSFERRED:
        # The teams by the names they had then; a name is the operator's, isolated like
        # people's (a team may be named in any script).
        theirs = {"from_team": detail.get("from_team", ""), "to_team": detail.get("to_team", "")}
        line = "{who} transferred it from {from_team} to {to_team}"
        if detail.get("unassigned") is not None:
            line += ", unassigning {assignee} (not in that team)"
            theirs["assignee"] = names.get(detail["unassigned"], "someone")
        if detail.get("note_id") is not None:
            line += ", with a note"
        return line, {}, theirs
    return "{who}: {kind}", {"kind": CaseEventKind(event.kind).label.lower()}, {}


def team_agents(case: Case) -> list[User]:
    return list(
        User.objects.filter(team_memberships__team_id=case.team_id, role=Role.AGENT).order_by(
            "first_name", "username"
        )
    )


def canned_responses(agent: User, team_id: int | None = None) -> QuerySet[CannedResponse]:
    teams = team_ids(agent)
    if team_id is not None:
        teams = [team for team in teams if team == team_id]
    return (
        CannedResponse.objects.filter(team_id__in=teams)
        .select_related("team")
        .order_by("team__name", "title")
    )


@dataclass(frozen=True)
class CustomerContext:
    orders: list[Order]
    # The customer's conversations with sellers about the case's order (or the one the
    # case is about): agents read them, each opening leaves an audit line.
    conversations: list[Conversation]
    other_cases: list[Case]


CONTEXT_ORDERS = 10


def customer_context(case: Case, agent: User) -> CustomerContext:
    """Beside a case: the customer's orders, their conversations with sellers about it, and
    their other cases — of the agent's own teams only (an admin's: every team), as a case
    of another team reads as none everywhere else (a report for customer service)."""
    # A seller buys nothing here: the page shows their shop instead (no query for orders
    # they cannot have).
    orders = (
        []
        if case.customer.is_seller
        else list(
            Order.objects.filter(buyer_id=case.customer_id)
            .prefetch_related("shipments", "returns", "refunds", "items")
            .order_by("-placed_at")[:CONTEXT_ORDERS]
        )
    )
    return CustomerContext(
        orders=orders,
        conversations=list(_context_conversations(case)),
        other_cases=list(
            Case.objects.filter(
                customer_id=case.customer_id,
                merged_into__isnull=True,
                team_id__in=team_ids(agent),
            )
            .exclude(pk=case.pk)
            .order_by("-created_at")[:10]
        ),
    )


def _context_conversations(case: Case) -> QuerySet[Conversation]:
    about = Q(pk=case.about_conversation_id) if case.about_conversation_id else Q(pk__in=[])
    if case.order_id is not None:
        about |= Q(order_id=case.order_id)
    return (
        Conversation.objects.filter(about, kind=Kind.BUYER_SELLER, buyer_id=case.customer_id)
        .select_related("storefront", "order")
        .order_by("-last_message_at")
    )


@dataclass(frozen=True)
class AboutConversation:
    """Where the console sends an agent to read the conversation a case is about."""

    # The customer's buyer↔seller conversation: read beside the case
    # (access_context_conversation).
    beside: bool
    # Another case's own conversation (a report of a message in a claim): read on that
    # case's page, when the agent may open it (access_case); None otherwise, and the
    # page then offers no link rather than one that is not found.
    its_case: Case | None


def about_conversation(agent: User, case: Case) -> AboutConversation | None:
    """How the agent reaches the conversation the case is about, if it is about one."""
    conversation = case.about_conversation
    if conversation is None:
        return None
    if conversation.kind == Kind.BUYER_SELLER and conversation.buyer_id == case.customer_id:
        return AboutConversation(beside=True, its_case=None)
    owner = Case.objects.filter(conversation_id=conversation.pk)
    if agent.role != Role.ADMIN:
        owner = owner.filter(team_id__in=team_ids(agent))
    return AboutConversation(beside=False, its_case=owner.only("pk").first())


def access_context_conversation(case: Case, conversation_id: Any) -> Conversation:
    """One of the customer's buyer↔seller conversations about the case, read only."""
    number = parse_id(conversation_id, code="conversation_not_found")
    conversation = unique_row(_context_conversations(case).filter(pk=number))
    if conversation is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    return conversation


def context_messages(conversation: Conversation) -> QuerySet[Message]:
    """Its messages as the console shows them, with their attachments (one more
    statement for the page)."""
    return (
        Message.objects.filter(conversation=conversation)
        .annotate(is_reported=_IS_REPORTED)
        .select_related("sender", "sender__storefront")
        .prefetch_related(conversation_queries.attachments_in_order())
        .order_by("id")
    )


def context_attachment(conversation: Conversation, attachment_id: Any) -> Attachment:
    """An attachment of a message of a context conversation the caller already reached
    through access_context_conversation (its page shows it); any other is not found."""
    number = parse_id(attachment_id, code="attachment_not_found", message="No such attachment.")
    attachment = unique_row(
        Attachment.objects.filter(message__conversation=conversation, pk=number)
    )
    if attachment is None:
        raise NotFound("No such attachment.", code="attachment_not_found")
    return attachment


# --- the customer's side ---------------------------------------------------------------------


def customer_cases(user: User, *, limit: int = 50) -> list[Case]:
    return list(
        Case.objects.filter(customer=user, merged_into__isnull=True)
        .exclude(kind=CaseKind.REPORT)
        .select_related("order")
        .order_by("-created_at", "-id")[:limit]
    )


# The console's line for an appeal while its customer is still suspended: they cannot sign
# in, so they see nothing on the site and every answer reaches them by e-mail
# (docs/safety.md#appeals).
SUSPENDED_CUSTOMER_LINE = (
    "The customer cannot sign in while suspended: they hear from you by e-mail"
)


def console_customer_line(case: Case) -> str:
    """The console's line under a case's title of what its customer sees of it. An appeal's
    customer is suspended — or was: once lifted they sign in and see the case like any
    other. One query for an appeal of an inactive customer, none otherwise."""
    if (
        case.kind == CaseKind.APPEAL
        and closed_accounts.closure_of(case.customer) == closed_accounts.Closure.SUSPENDED
    ):
        return SUSPENDED_CUSTOMER_LINE
    return f"The customer sees: “{customer_status_label(case)}”"


def customer_status_label(case: Case) -> str:
    """What the customer reads: where their case is, in their words."""
    if case.merged_into_id is not None:
        return f"Merged into CS-{case.merged_into_id}"
    if case.kind == CaseKind.CLAIM:
        return {
            CaseStatus.PENDING: "Waiting for the seller's response",
            CaseStatus.OPEN: "An agent is deciding",
            CaseStatus.SOLVED: "Decided",
            CaseStatus.CLOSED: "Closed",
        }[CaseStatus(case.status)]
    if case.status == CaseStatus.OPEN:
        return "Waiting for an agent" if case.assignee_id is None else "An agent is on it"
    if case.status == CaseStatus.PENDING:
        return "Answered — waiting for your reply"
    if case.status == CaseStatus.SOLVED:
        return "Solved"
    return "Closed"


# A list row's short label of a case, in the customer's words (the Message Center's
# Customer service and Claims rows).
ROW_LABELS = {
    CaseStatus.OPEN: "Waiting for us",
    CaseStatus.PENDING: "Answered",
    CaseStatus.SOLVED: "Solved",
    CaseStatus.CLOSED: "Closed",
}


# A claim's row speaks of its stage, which its status follows (claim_actions).
CLAIM_ROW_LABELS = {
    CaseStatus.OPEN: "Agent deciding",
    CaseStatus.PENDING: "Waiting for the seller",
    CaseStatus.SOLVED: "Decided",
    CaseStatus.CLOSED: "Closed",
}


def row_statuses(conversation_ids: list[int]) -> dict[int, tuple[int, str, int | None, str]]:
    """(case id, status, merged into, kind) of the cases of these conversations, in one
    read whatever the number of rows. The ids come from the person's own list rows."""
    return {
        conversation_id: (case_id, status, merged_into_id, kind)
        for conversation_id, case_id, status, merged_into_id, kind in Case.objects.filter(
            conversation_id__in=conversation_ids
        ).values_list("conversation_id", "pk", "status", "merged_into_id", "kind")
    }


def case_for_conversation(user: User, conversation_id: int) -> Case | None:
    """The case behind one of the person's conversations (its status line)."""
    # A merged duplicate's too: its line says where the request went.
    return unique_row(Case.objects.select_related("order").filter(conversation_id=conversation_id))


# --- live chat ---------------------------------------------------------------------------


def chat_agent(team: Team, *, now: datetime | None = None) -> User | None:
    """An agent of the team who takes chats now ("available", and in the console within
    SUPPORT_CHAT_PRESENCE_MINUTES): the one with the fewest open cases. Two reads."""
    now = now or timezone.now()
    online = list(
        User.objects.filter(
            role=Role.AGENT,
            is_active=True,
            team_memberships__team=team,
            chat_availability__is_available=True,
            chat_availability__seen_at__gte=now
            - timedelta(minutes=settings.SUPPORT_CHAT_PRESENCE_MINUTES),
        )
    )
    if not online:
        return None
    open_cases = dict(
        CaseCounter.objects.filter(
            team=team, status=CaseStatus.OPEN, assignee_key__in=[agent.pk for agent in online]
        ).values_list("assignee_key", "cases")
    )
    return min(online, key=lambda agent: (open_cases.get(agent.pk, 0), agent.pk))


def chat_availability(agent: User) -> ChatAvailability | None:
    """The agent's switch: every console page reads it (compiled once)."""
    return next(iter(_CHAT_AVAILABILITY(agent.pk)), None)


_CHAT_AVAILABILITY = CompiledQuery(
    lambda agent_id: ChatAvailability.objects.filter(agent_id=agent_id)[:1]
)


def takes_chats(availability: ChatAvailability | None, *, now: datetime | None = None) -> bool:
    """Whether chats come to this agent now: the rule of chat_agent, for one agent."""
    if availability is None or not availability.is_available:
        return False
    now = now or timezone.now()
    return availability.seen_at >= now - timedelta(minutes=settings.SUPPORT_CHAT_PRESENCE_MINUTES)


# --- the expected response time --------------------------------------------------------------

# How many recent first answers the expectation is measured over.
RESPONSE_SAMPLE = 50
MINIMUM_SAMPLE = 5


def expected_response(team: Team) -> timedelta:
    """What to promise a new customer: how long the team's recent first answers took, at
    the 80th percentile (most customers hear from us sooner), never less than the
    operator's minimum; the operator's target until there are enough answers to measure."""
    rows = list(
        Case.objects.filter(team=team, first_response_at__isnull=False)
        .order_by("-first_response_at")
        .values_list("created_at", "first_response_at")[:RESPONSE_SAMPLE]
    )
    target = timedelta(hours=settings.SUPPORT_RESPONSE_TARGET_HOURS)
    if len(rows) < MINIMUM_SAMPLE:
        return target
    waits = sorted(answered - created for created, answered in rows if answered is not None)
    measured = waits[min(len(waits) - 1, math.ceil(len(waits) * 0.8) - 1)]
    return _rounded_up(max(measured, timedelta(minutes=settings.SUPPORT_RESPONSE_MINIMUM_MINUTES)))


def _rounded_up(duration: timedelta) -> timedelta:
    """To the next 15 minutes under two hours, else the next hour: a promise, not a
    stopwatch."""
    step = timedelta(minutes=15) if duration < timedelta(hours=2) else timedelta(hours=1)
    return math.ceil(duration / step) * step


def describe_duration(duration: timedelta) -> str:
    minutes = round(duration.total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} hours"
    return f"{round(hours / 24)} days"
