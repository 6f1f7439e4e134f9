"""``document:create`` + ``document:get`` through the funnel vs the same two rows through bare Django ORM calls.

    .venv/bin/python bench/documents.py [--pairs 2000] [--rounds 5]

One process, one event loop, a migrated SQLite database of the benchmarks' own. A pair is one
create then one get of the same new document:

- kuzzle_events: ``app.funnel.execute`` of ``document:create`` then ``document:get`` (rights,
  events, generic document events, metadata, one transaction and one thread hop per action);
- bare: ``Document.objects.create`` then ``Document.objects.get``, each in one ``sync_to_async``
  hop (what an async Django view doing the same work would do).

Rounds interleave the two; the ratio is pairs per second of kuzzle_events over bare.
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

from bench.common import bench_database, print_environment  # noqa: E402


async def run(pairs: int, rounds: int) -> None:
    from asgiref.sync import sync_to_async

    from kuzzle_events import Application, KuzzleRequest
    from kuzzle_events.core.request import Connection
    from kuzzle_events.models import Collection, Document, Index

    app = Application()
    await app.start()
    connection = Connection(protocol="websocket")

    async def query(**data: object) -> None:
        request = KuzzleRequest(data, connection=connection)
        await app.funnel.execute(request)
        assert request.error is None, request.error

    await query(controller="index", action="create", index="bench")
    await query(controller="collection", action="create", index="bench", collection="kuzzle")

    def bare_collection() -> Collection:
        return Collection.objects.create(index=Index.objects.get(name="bench"), name="bare")

    bare = await sync_to_async(bare_collection)()
    create = sync_to_async(Document.objects.create)
    get = sync_to_async(Document.objects.get)

    async def kuzzle_round(round_no: int) -> float:
        started = time.perf_counter()
        for n in range(pairs):
            key = f"r{round_no}-{n}"
            await query(controller="document", action="create", index="bench", collection="kuzzle", _id=key,
                        body={"name": "pen", "price": n})  # fmt: skip
            await query(controller="document", action="get", index="bench", collection="kuzzle", _id=key)
        return pairs / (time.perf_counter() - started)

    async def bare_round(round_no: int) -> float:
        started = time.perf_counter()
        for n in range(pairs):
            key = f"r{round_no}-{n}"
            await create(collection=bare, key=key, source={"name": "pen", "price": n}, author="-1", created_at=0)
            await get(collection=bare, key=key)
        return pairs / (time.perf_counter() - started)

    kuzzle_rates, bare_rates = [], []
    for round_no in range(rounds):
        bare_rates.append(await bare_round(round_no))
        kuzzle_rates.append(await kuzzle_round(round_no))
        print(f"round {round_no + 1}: bare {bare_rates[-1]:,.0f} pairs/s, kuzzle_events {kuzzle_rates[-1]:,.0f} pairs/s, "
              f"ratio {kuzzle_rates[-1] / bare_rates[-1]:.2f}x")  # fmt: skip
    ratio = statistics.median(k / b for k, b in zip(kuzzle_rates, bare_rates))
    print(f"\nmedian: bare {statistics.median(bare_rates):,.0f} pairs/s, kuzzle_events "
          f"{statistics.median(kuzzle_rates):,.0f} pairs/s; ratio {ratio:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = bench_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    import django

    django.setup()
    print_environment(["Django", "asgiref"])
    asyncio.run(run(args.pairs, args.rounds))


if __name__ == "__main__":
    main()
