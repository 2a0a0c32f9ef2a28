"""The raw ceiling of the infrastructure for the pipeline's work, done by a minimal script.

For N signings the pipeline makes, per signing, P Kafka messages consumed by about G groups each and W
MongoDB writes in T transactions (the bench counts these from the services' metrics and the database's
operation counters). Here the same work is done with nothing in between: aiokafka with acks=all and
idempotence, produce + consume by G groups; PyMongo async inserts without and with transactions.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from bench import probes
from bench.stats import summary_ms

VALUE = b'{"type":"task.signed","payload":{"action_id":"' + b"x" * 900 + b'"}}'  # about a task.signed's size


async def kafka_work(
    bootstrap: str,
    messages: int,
    groups: int,
    window: int = 200,
    ready: asyncio.Event | None = None,
    go: asyncio.Event | None = None,
) -> dict:
    """Produce `messages` (acks=all, idempotent) and have `groups` consumer groups read them all.

    With `ready` and `go`, it says when its topic and groups are set up and waits for the word to start,
    so that the work can be timed beside other work without the set-up in it."""
    topic = f"bench.ceiling.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
    finally:
        await admin.close()
    consumers = [
        AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"{topic}.g{g}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        for g in range(groups)
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    for c in consumers:
        await c.start()
    try:

        async def drain(consumer: AIOKafkaConsumer, wanted: int = messages) -> None:
            seen = 0
            while seen < wanted:
                batch = await consumer.getmany(timeout_ms=200)
                seen += sum(len(records) for records in batch.values())
                if batch:
                    await consumer.commit()  # the pipeline commits after handling, too

        # Before the clock starts: the new topic's partitions have leaders and every group has joined
        # (a first fetch can otherwise wait for a leader or a rebalance, which is not the work measured).
        for partition in range(3):
            await producer.send_and_wait(topic, b"warm-up", partition=partition)
        await asyncio.wait_for(asyncio.gather(*(drain(c, 3) for c in consumers)), 60)
        if ready is not None and go is not None:
            ready.set()
            await go.wait()
        start = time.perf_counter()
        readers = [asyncio.create_task(drain(c)) for c in consumers]
        for offset in range(0, messages, window):
            futures = [
                await producer.send(topic, VALUE, key=uuid.uuid4().hex.encode())
                for _ in range(min(window, messages - offset))
            ]
            await asyncio.gather(*futures)
        await asyncio.wait_for(asyncio.gather(*readers), 300)
        elapsed = time.perf_counter() - start
        # One hop's latency on an idle topic: produce one message, read it back.
        hops = []
        for _ in range(20):
            t = time.perf_counter()
            await producer.send_and_wait(topic, VALUE, key=b"hop")
            got = 0
            while not got:
                got = sum(len(r) for r in (await consumers[0].getmany(timeout_ms=100)).values())
            hops.append(time.perf_counter() - t)
    finally:
        await producer.stop()
        for c in consumers:
            await c.stop()
    return {
        "messages": messages,
        "groups": groups,
        "seconds": round(elapsed, 3),
        "round_trips_per_s": round(messages * groups / elapsed, 1),
        "hop_latency": summary_ms(hops),
    }


async def mongo_work(
    uri: str, transactions: int, writes_per_transaction: int, use_transactions: bool, concurrency: int = 16
) -> dict:
    """`transactions` units of `writes_per_transaction` inserts, in a transaction each or not."""
    client = AsyncMongoClient(uri)
    db = client[f"bench_ceiling_{uuid.uuid4().hex[:8]}"]
    coll = db["writes"]
    await coll.insert_one({"_id": "warm"})
    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def unit(i: int) -> None:
        docs = [{"_id": f"{i}:{w}", "payload": "x" * 300} for w in range(writes_per_transaction)]
        async with sem:
            t = time.perf_counter()
            if use_transactions:
                async with client.start_session() as session:

                    async def work(s):
                        for doc in docs:
                            await coll.insert_one(doc, session=s)

                    await session.with_transaction(work)
            else:
                for doc in docs:
                    await coll.insert_one(doc)
            latencies.append(time.perf_counter() - t)

    try:
        start = time.perf_counter()
        await asyncio.gather(*(unit(i) for i in range(transactions)))
        elapsed = time.perf_counter() - start
    finally:
        await client.drop_database(db.name)
        await client.close()
    writes = transactions * writes_per_transaction
    return {
        "writes": writes,
        "transactions": transactions if use_transactions else 0,
        "seconds": round(elapsed, 3),
        "writes_per_s": round(writes / elapsed, 1),
        "unit_latency": summary_ms(latencies),
    }


async def _timed_cpu(pids: dict[str, int], work) -> tuple[object, float]:
    """Run `work`; also return the CPU seconds it cost the bench, Kafka and the database together."""
    before = probes.cpu_snapshot(pids)
    result = await work
    return result, round(sum(probes.cpu_delta(before, probes.cpu_snapshot(pids)).values()), 3)


async def _together(
    pids: dict[str, int], kafka, bootstrap: str, messages: int, groups: int, mongo
) -> tuple[float, float]:
    """Kafka's work and MongoDB's side by side, timed from when both can start (set-up left out)."""
    ready, go = asyncio.Event(), asyncio.Event()
    kafka_task = asyncio.create_task(kafka(bootstrap, messages, groups, ready=ready, go=go))
    await asyncio.wait_for(ready.wait(), 120)
    start = time.perf_counter()
    go.set()
    _, cpu = await _timed_cpu(pids, asyncio.gather(kafka_task, mongo))
    return time.perf_counter() - start, cpu


async def run(bootstrap: str, mongodb_uri: str, signings: int, per_signing: dict, pids: dict[str, int]) -> dict:
    """The same work as `signings` signings, alone per resource and then Kafka and MongoDB together."""
    messages = max(1, round(signings * per_signing["messages_published"]))
    groups = max(1, round(per_signing["deliveries_handled"] / max(per_signing["messages_published"], 1e-9)))
    transactions = max(1, round(signings * per_signing["transactions"]))
    writes_per_tx = max(1, round(per_signing["mongo_writes"] / max(per_signing["transactions"], 1e-9)))
    kafka, kafka_cpu = await _timed_cpu(pids, kafka_work(bootstrap, messages, groups))
    plain, plain_cpu = await _timed_cpu(pids, mongo_work(mongodb_uri, transactions, writes_per_tx, False))
    txn, txn_cpu = await _timed_cpu(pids, mongo_work(mongodb_uri, transactions, writes_per_tx, True))
    together, together_cpu = await _together(
        pids, kafka_work, bootstrap, messages, groups, mongo_work(mongodb_uri, transactions, writes_per_tx, True)
    )
    per = lambda cpu: round(cpu * 1000 / max(signings, 1), 1)  # noqa: E731
    return {
        "work": {
            "signings": signings,
            "kafka_messages": messages,
            "consumer_groups": groups,
            "mongo_transactions": transactions,
            "writes_per_transaction": writes_per_tx,
        },
        "kafka": kafka,
        "mongo_plain": plain,
        "mongo_transactions": txn,
        "together_seconds": round(together, 3),
        "signings_per_s": {
            "kafka_only": round(signings / kafka["seconds"], 1),
            "mongo_plain_only": round(signings / plain["seconds"], 1),
            "mongo_transactions_only": round(signings / txn["seconds"], 1),
            "kafka_and_mongo_transactions": round(signings / together, 1),
        },
        # CPU per signing's worth of raw work (bench + broker + database): comparable across box loads.
        "cpu_ms_per_signing": {
            "kafka_only": per(kafka_cpu),
            "mongo_plain_only": per(plain_cpu),
            "mongo_transactions_only": per(txn_cpu),
            "kafka_and_mongo_transactions": per(together_cpu),
        },
    }
