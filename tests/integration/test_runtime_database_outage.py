"""While the database is away (a restart, a failover), a request that needs it is answered 503 with Retry-After,
as problem details for APIs and as a page in the browser's language for the portal, and logged as an outage,
not as an unhandled error; once the database is back, the same request is answered as before."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx

from deploy.local import infra as local_infra
from deploy.local.infra import free_port
from services.runtime.config import DEV_SECRET
from tests.support.stack import Stack

# A request gives up on an unreachable database after 2 s instead of the driver's 30 s default
SHORT_SELECTION = "&serverSelectionTimeoutMS=2000"


def unhandled(log: str) -> list[str]:
    lines = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = {"level": "ERROR" if "Traceback" in line else ""}
        if record.get("level") in ("ERROR", "CRITICAL") and record.get("logger") == "uvicorn.error":
            lines.append(line[:500])
    return lines


def test_requests_during_a_database_outage_get_503_with_retry_after_and_succeed_once_it_is_back(tmp_path):
    with open(tmp_path / "infra.log", "ab") as log:
        own = local_infra.start(tmp_path / "infra", free_port(), free_port(), log_file=log)
        stack = Stack(infra=own, workdir=tmp_path)
        try:
            env = {"MONGODB_URI": own.mongodb_uri + SHORT_SELECTION}
            timeline = stack.start("timeline", env, timeout=120)
            portal = stack.start("portal", env, timeout=120)
            head = f"{timeline.url}/internal/v1/tasks/t-1/timeline/head"
            internal = {"X-Internal-Token": DEV_SECRET}
            # the page of open actions with a session cookie: the portal looks the session up in its database
            actions = f"{portal.url}/"
            cookie = {"Cookie": "akkoord_session=some-session-the-database-does-not-know"}
            with httpx.Client(timeout=30) as client:
                # (a task the database does not know: 404, once the database has been asked)
                assert client.get(head, params={"tenant_id": "x"}, headers=internal).status_code == 404

                # when the database goes away
                database = next(p for p in own.processes if p.name == "mongodb")
                database.stop()

                # then the API answers 503 problem details with Retry-After
                r = client.get(head, params={"tenant_id": "x"}, headers=internal)
                assert r.status_code == 503, r.text
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.headers["retry-after"] == "5"
                assert "database" in r.json()["detail"]
                # and a portal page says so in the browser's language
                for language, words in (("en", "Briefly unavailable"), ("nl", "Even niet bereikbaar")):
                    r = client.get(actions, headers={**cookie, "Accept": "text/html", "Accept-Language": language})
                    assert r.status_code == 503, r.text
                    assert r.headers["retry-after"] == "5"
                    assert words in r.text
                # and neither logged an unhandled error
                assert unhandled(timeline.log()) == [] and unhandled(portal.log()) == []

                # when the database is back, on its port and data, the same requests are answered as before
                port = urlsplit(own.mongodb_uri).port
                own.processes[own.processes.index(database)] = local_infra.start_mongo(
                    tmp_path / "infra" / "mongodb", port, log
                )
                r = client.get(head, params={"tenant_id": "x"}, headers=internal)
                assert r.status_code == 404, r.text
                r = client.get(actions, headers={**cookie, "Accept": "text/html"})
                assert r.status_code == 401, r.text  # an unknown session: signed out
        finally:
            stack.stop_all()
            own.stop()
