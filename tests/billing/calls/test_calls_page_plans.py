"""On PostgreSQL every query of the Calls page (the capped count and the page itself) reads the
partitioned calls table through an index, and a date range or a deeper page reads only the
months it can hold (partition pruning). Plans, not timings: sequential scans are priced out
(``enable_seqscan = off``) so a plan without one proves an index serves the query."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Call
from billing.selectors.calls import CallFilters, call_page
from billing.services.call_partitions import call_partitions_ensure
from portal.models import Account
from tests.billing.call_factories import T0, CallFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}
# The indexes led by account_id, and the number search's.
ACCOUNT_INDEXES = {"call_account_recent", "call_account_dir", "call_account_period"}
TRIGRAM_INDEXES = {"call_from_number_trgm", "call_to_number_trgm"}


@dataclass(frozen=True)
class Scan:
    node: str
    relation: str
    index: str  # the index on billing_call this partition index belongs to ("" for none)


def scans_of(sql: str) -> list[Scan]:
    """The scan nodes on billing_call's partitions in the plan of ``sql``."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        raw = cursor.fetchone()[0]
        plan = json.loads(raw) if isinstance(raw, str) else raw
        cursor.execute("RESET enable_seqscan")

    found: list[tuple[str, str, str]] = []

    def walk(node: dict, relation: str = "") -> None:
        if node.get("Relation Name", "").startswith("billing_call"):
            relation = node["Relation Name"]
            found.append((node["Node Type"], relation, node.get("Index Name", "")))
        elif node.get("Node Type") == "Bitmap Index Scan":
            found.append(("Bitmap Index Scan", relation, node["Index Name"]))
        for child in node.get("Plans", []):
            walk(child, relation)

    walk(plan[0]["Plan"])
    scans = []
    with connection.cursor() as cursor:
        for node, relation, index in found:
            parent = ""
            if index:
                cursor.execute(
                    "SELECT inhparent::regclass::text FROM pg_inherits "
                    "WHERE inhrelid = %s::regclass",
                    [index],
                )
                row = cursor.fetchone()
                parent = row[0] if row else index
            scans.append(Scan(node, relation, parent))
    return scans


def page_scans(account: Account, filters: CallFilters, after: str = "") -> list[list[Scan]]:
    """The scans of each query the page makes on billing_call: the page, then the capped count
    (unless the page holds every call)."""
    with CaptureQueriesContext(connection) as queries:
        call_page(account=account, filters=filters, after=after)
    plans = [
        scans_of(query["sql"])
        for query in queries.captured_queries
        if '"billing_call"' in query["sql"] and query["sql"].startswith("SELECT")
    ]
    assert 1 <= len(plans) <= 2  # the page, and the capped count unless the page holds all
    return plans


def partitions_read(plans: list[list[Scan]]) -> set[str]:
    return {scan.relation for plan in plans for scan in plan if scan.node != "Bitmap Index Scan"}


def number(n: int) -> str:
    """Distinct numbers with their digits spread (as real numbers have), one per ``n``."""
    return f"+1{(n * 982_451_653) % 9_000_000_000 + 1_000_000_000}"


@pytest.fixture
def calls(on_postgres) -> Account:
    """An account with 3,000 calls over October and November 2026, beside another account's."""
    call_partitions_ensure(now=T0)
    account = AccountFactory.create(timezone="UTC")
    other = AccountFactory.create()
    rows = []
    for n in range(3000):
        started = T0 - dt.timedelta(minutes=20 * n)
        rows.append(
            CallFactory.build(
                account=account,
                started_at=started,
                direction=Call.Direction.INBOUND if n % 3 == 0 else Call.Direction.OUTBOUND,
                to_number=number(n),
            )
        )
        rows.append(CallFactory.build(account=other, started_at=started, to_number=number(-n)))
    Call.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        # What autovacuum does after a batch of inserts: move the trigram indexes' pending
        # entries into the index proper (a search reads the whole pending list) and ANALYZE.
        cursor.execute(
            "SELECT gin_clean_pending_list(inhrelid::regclass) FROM pg_inherits "
            "WHERE inhparent::regclass::text = ANY(%s)",
            [sorted(TRIGRAM_INDEXES)],
        )
        cursor.execute("ANALYZE billing_call")
    return account


def populated() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM billing_call")
        return {row[0] for row in cursor.fetchall()}


def assert_indexed(plans: list[list[Scan]], indexes: set[str]) -> None:
    """No sequential scan anywhere; the partitions holding calls read through ``indexes``."""
    holding = populated()
    for plan in plans:
        assert plan, "no scan of billing_call in the plan"
        for scan in plan:
            assert scan.node in INDEX_SCANS | {"Bitmap Index Scan"}, scan
            if scan.relation in holding and scan.node != "Bitmap Heap Scan":
                assert scan.index in indexes, scan


def test_it_reads_the_first_page_through_the_recent_calls_index(calls: Account) -> None:
    plans = page_scans(calls, CallFilters())
    assert_indexed(plans, ACCOUNT_INDEXES)
    assert "call_account_recent" in {scan.index for scan in plans[0]}


def test_it_reads_a_date_range_from_its_month_only(calls: Account) -> None:
    plans = page_scans(calls, CallFilters(date_from=dt.date(2026, 11, 2), date_to=T0.date()))
    assert_indexed(plans, ACCOUNT_INDEXES)
    assert partitions_read(plans) == {"billing_call_y2026m11"}


def test_it_reads_a_deeper_page_from_its_month_and_older_ones_only(calls: Account) -> None:
    page = call_page(account=calls, filters=CallFilters())
    for _ in range(40):  # 40 pages of 50 back: 2,000 calls of 20 minutes, into October
        assert page.older_cursor is not None
        page = call_page(account=calls, filters=CallFilters(), after=page.older_cursor)
    assert page.calls[-1].started_at.month == 10
    first = page
    plans = page_scans(calls, CallFilters(), after=first.older_cursor)
    assert_indexed(plans, ACCOUNT_INDEXES)
    # The DEFAULT partition stays: it may hold calls older than the oldest month.
    newer = {"billing_call_y2026m11", "billing_call_y2026m12", "billing_call_y2027m01"}
    assert partitions_read(plans[:1]) & newer == set()
    assert "billing_call_y2026m10" in partitions_read(plans[:1])


def test_it_reads_a_direction_through_an_index(calls: Account) -> None:
    plans = page_scans(calls, CallFilters(direction="inbound"))
    assert_indexed(plans, ACCOUNT_INDEXES)


def test_it_searches_a_number_through_the_trigram_indexes(calls: Account) -> None:
    plans = page_scans(calls, CallFilters(number=number(1234)[2:]))
    assert_indexed(plans, ACCOUNT_INDEXES | TRIGRAM_INDEXES)
    indexes = {scan.index for plan in plans for scan in plan}
    assert indexes >= TRIGRAM_INDEXES, indexes
