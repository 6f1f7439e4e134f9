"""``document:search`` in the database: how a query's cost grows with the collection.

    .venv/bin/python bench/search.py [--sizes 10000,100000] [--repeat 30]
    DATABASE_URL=postgres://root@127.0.0.1:5432/<yours> .venv/bin/python bench/search.py

One process, one event loop: ``app.funnel.execute`` of ``document:search`` (rights, events, the hop
to the ORM, SQL, the result). The database is ``DATABASE_URL`` when it names PostgreSQL (its
``bench_search`` index is created, then deleted), otherwise a migrated SQLite database of the
benchmarks' own. One collection per size, all in the same table, with the documents
``{"code": "c<n>", "age": n % 100, "group": "g<n % 1000>", "country": <one of 20>}``.

Queries: an equality on a unique field (``term``: 1 hit), a range (2% of the documents: the first 10
hits sorted by ``_id``, and the total), a ``bool`` (``filter`` term + range, ``must_not`` term), and
a ``terms`` aggregation (``size: 0``). Printed: p50 per query and size, the ratio of the largest
size to the smallest, and the plans of the equality and the range. The collections declare their
fields in a mapping (``code``, ``group``, ``country``: keyword; ``age``: integer), as a Kuzzle user
would, so each of these fields has its index (``kuzzle_events.documents.field_indexes``). Target:
the equality's ratio <= 2 on PostgreSQL (the GIN index answers it); SQLite's equality reads the
collection's rows (an array may hold the value), so its figures have no target. Exit status 1 when
the target is missed.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import bench_database, print_environment  # noqa: E402

INDEX = "bench_search"
COUNTRIES = [f"country-{n}" for n in range(20)]
QUERIES: dict[str, dict[str, Any]] = {
    "equality (term)": {"query": {"term": {"code": "c4242"}}},
    "range (2%, 10 hits by _id)": {"query": {"range": {"age": {"gte": 30, "lt": 32}}}, "sort": "_id"},
    "bool (filter + must_not)": {
        "query": {
            "bool": {
                "filter": [{"term": {"country": "country-3"}}, {"range": {"age": {"gte": 10, "lt": 60}}}],
                "must_not": [{"term": {"group": "g3"}}],
            }
        }
    },
    "terms aggregation (size 0)": {"aggs": {"countries": {"terms": {"field": "country", "size": 20}}}},
}
TARGET = 2.0
MAPPING = {
    "properties": {
        "code": {"type": "keyword"},
        "age": {"type": "integer"},
        "group": {"type": "keyword"},
        "country": {"type": "keyword"},
    }
}


def load(size: int) -> None:
    """A collection ``c<size>`` of ``size`` documents, written in batches (bulk inserts)."""
    from django.db import connection

    from kuzzle_events.documents.collections import create_collection
    from kuzzle_events.models import Collection, Document
    from kuzzle_events.security.tokens import now_ms

    # Declared as a Kuzzle user would: the mapped fields get their indexes.
    create_collection(INDEX, f"c{size}", MAPPING)
    target = Collection.objects.get(index_id=INDEX, name=f"c{size}")
    Document.objects.filter(collection=target).delete()
    now = now_ms()
    batch = 5000
    for start in range(0, size, batch):
        rows = [
            Document(
                collection=target,
                key=f"d{n:08}",
                source={"code": f"c{n}", "age": n % 100, "group": f"g{n % 1000}", "country": COUNTRIES[n % 20]},
                author="-1",
                created_at=now,
            )
            for n in range(start, min(start + batch, size))
        ]
        Document.objects.bulk_create(rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE kuzzle_events_document")


def plan(size: int, name: str) -> str:
    from kuzzle_events.documents.search import select

    query = QUERIES[name]["query"]
    return str(select(INDEX, f"c{size}", query).order_by("key")[:10].explain())


async def measure(sizes: list[int], repeat: int) -> dict[tuple[str, int], float]:
    from kuzzle_events import Application, KuzzleRequest
    from kuzzle_events.core.request import Connection

    app = Application()
    await app.start()
    connection = Connection(protocol="websocket")

    async def search(size: int, body: dict[str, Any]) -> float:
        args: dict[str, Any] = {"size": 0} if "aggs" in body else {}
        request = KuzzleRequest(
            {"controller": "document", "action": "search", "index": INDEX, "collection": f"c{size}", "body": body, **args},
            connection=connection,
        )
        started = time.perf_counter()
        await app.funnel.execute(request)
        elapsed = time.perf_counter() - started
        assert request.error is None, request.error
        return elapsed

    p50: dict[tuple[str, int], float] = {}
    for name, body in QUERIES.items():
        for size in sizes:
            for _ in range(3):
                await search(size, body)  # warm-up: caches, connection
            times = [await search(size, body) for _ in range(repeat)]
            p50[(name, size)] = statistics.median(times) * 1000
            print(f"{name:<30} {size:>9,} documents: p50 {p50[(name, size)]:8.2f} ms")
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="collection sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=30, help="timed searches per query and size")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = bench_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    vendor = connection.vendor
    print_environment(["Django", "psycopg"])
    print(f"database: {vendor} ({connection.settings_dict['NAME']})")
    from kuzzle_events.models import Index

    try:
        for size in sizes:
            started = time.perf_counter()
            load(size)
            print(f"loaded {size:,} documents in {time.perf_counter() - started:.1f} s")
        for name in ("equality (term)", "range (2%, 10 hits by _id)"):
            print(f"\nplan of the {name} on {sizes[-1]:,} documents:\n{plan(sizes[-1], name)}\n")
        p50 = asyncio.run(measure(sizes, args.repeat))
    finally:
        Index.objects.filter(name=INDEX).delete()
    small, large = sizes[0], sizes[-1]
    print(f"\n{vendor}: p50 in ms, ratio {large:,} / {small:,} documents")
    print(f"| query | {' | '.join(f'{s:,}' for s in sizes)} | ratio | target |")
    print(f"|---|{'---|' * len(sizes)}---|---|")
    missed = False
    for name in QUERIES:
        ratio = p50[(name, large)] / p50[(name, small)]
        target = f"<= {TARGET}" if name.startswith("equality") and vendor == "postgresql" else "-"
        missed |= target != "-" and ratio > TARGET
        cells = " | ".join(f"{p50[(name, s)]:.2f}" for s in sizes)
        print(f"| {name} | {cells} | {ratio:.2f}x | {target} |")
    print(f"\ncommand: {' '.join(sys.argv)}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
