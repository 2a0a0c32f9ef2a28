"""The seal's private key stays inside signing: in no response, no log line; and a production start with
the development key refuses to run. The signing service as a process, on the real broker and database."""

from __future__ import annotations

import subprocess
import sys

import httpx
from pymongo import MongoClient

from deploy.local.infra import free_port
from services.signing.adapters.keys import generate_development_key
from tests.integration.signing_api import signing_events_for
from tests.integration.staff_keys import a_tenant_with_staff_key
from tests.support.accepted import publish_accepted
from tests.support.signed_events import a_signature_png, a_task_signed, serving_signature
from tests.support.waiting import eventually


def secret_parts(key_pem: bytes) -> list[str]:
    """What would betray the key if it leaked: its PEM armour and every full line of its base64 body."""
    body = [line for line in key_pem.decode().splitlines() if line and not line.startswith("-----")]
    return ["PRIVATE KEY", *[line for line in body if len(line) >= 40]]


def leaks(text: str | bytes, key_pem: bytes) -> list[str]:
    text = text.decode("latin-1") if isinstance(text, bytes) else text
    return [part for part in secret_parts(key_pem) if part in text]


async def test_the_seal_key_appears_in_no_response_and_no_log_line(infra, stack):
    signing = stack.start("signing")
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
    auth = {"Authorization": f"Bearer {key}"}
    png = a_signature_png()
    with serving_signature(png) as image_url:
        # given a task signed and its certificate sealed
        signed = a_task_signed(tenant_id, image_url, png)
        await publish_accepted(infra.kafka_bootstrap, signed)

        async def sealed() -> list[dict]:
            return [
                e
                for e in await signing_events_for(infra.kafka_bootstrap, signed.payload.action_id)
                if e["type"] == "signature.sealed"
            ]

        (event,) = await eventually(sealed, timeout=60, what="signature.sealed")

    # and the development key signing keeps in its database
    with MongoClient(infra.mongodb_uri) as client:
        stored = client["akkoord_signing"]["seal_keys"].find_one({"_id": "development"})
    key_pem = stored["key_pem"].encode()
    assert len(secret_parts(key_pem)) >= 3  # the check below has something to find

    # when anyone reads what signing serves
    responses = {}
    async with httpx.AsyncClient(base_url=signing.url) as client:
        for path in ("/healthz", "/readyz", "/v1/seal-certificate"):
            responses[path] = await client.get(path)
        for path in ("/openapi.json", "/asyncapi.json", "/metrics", "/docs"):  # the operations port
            responses[path] = await client.get(f"{signing.ops_url}{path}")
        record = await client.get(f"/v1/evidence/{event['payload']['evidence_id']}", headers=auth)
        responses["evidence"], responses["evidence list"] = record, await client.get("/v1/evidence", headers=auth)
        sealed_pdf = responses["sealed pdf"] = await client.get(record.json()["seals"][0]["url"], headers=auth)
        responses["verify"] = await client.post("/v1/verify", files={"file": ("c.pdf", sealed_pdf.content)})
        responses["verify garbage"] = await client.post("/v1/verify", files={"file": ("x.pdf", b"%PDF-1.7 junk")})

    # then the certificate is public, the key is not: not in any response, not in the log
    assert all(r.status_code == 200 for r in responses.values()), {p: r.status_code for p, r in responses.items()}
    assert b"BEGIN CERTIFICATE" in responses["/v1/seal-certificate"].content
    assert {path: found for path, r in responses.items() if (found := leaks(r.content, key_pem))} == {}
    assert signing.log()  # there is a log to look through
    assert leaks(signing.log(), key_pem) == []


def test_a_production_start_with_the_development_key_refuses_to_run(infra, stack, tmp_path):
    # given the development key handed over as if it were production key material
    key = generate_development_key()
    (tmp_path / "seal.key").write_bytes(key.key_pem)
    (tmp_path / "seal.crt").write_bytes(key.cert_pem)
    env = stack.env(
        "signing",
        {
            "AKKOORD_ENV": "production",
            "AKKOORD_INTERNAL_TOKEN": "production-grade-internal-token-" + "z" * 16,
            "SIGNING_SEAL_KEY_PATH": str(tmp_path / "seal.key"),
            "SIGNING_SEAL_CERT_PATH": str(tmp_path / "seal.crt"),
            "SIGNING_PORT": str(free_port()),
            "SIGNING_OPS_PORT": str(free_port()),
            "SIGNING_DATABASE": "akkoord_signing_production_start",
        },
    )

    # when the service starts, then it exits instead of serving, says why, and shows no key
    done = subprocess.run(
        [sys.executable, "-m", "services.signing"], env=env, capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "refusing to seal with the development key outside development" in output
    assert leaks(output, key.key_pem) == []


def test_a_production_start_without_key_material_refuses_to_run(stack):
    env = stack.env(
        "signing",
        {
            "AKKOORD_ENV": "production",
            "AKKOORD_INTERNAL_TOKEN": "production-grade-internal-token-" + "z" * 16,
            "SIGNING_PORT": str(free_port()),
            "SIGNING_OPS_PORT": str(free_port()),
        },
    )
    done = subprocess.run(
        [sys.executable, "-m", "services.signing"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "SIGNING_SEAL_PKCS12_PATH" in done.stdout + done.stderr
