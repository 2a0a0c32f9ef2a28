"""Signing configured with an RFC 3161 timestamp authority (SIGNING_SEAL_TSA_URL), against the real
broker and database: seals wait while the TSA is down, and are PAdES B-T once it answers."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from deploy.local.infra import free_port
from tests.integration.signing_api import signing_events_for
from tests.integration.staff_keys import a_tenant_with_staff_key
from tests.support.accepted import publish_accepted
from tests.support.pdf_tools import run
from tests.support.seals import signature_timestamp_of
from tests.support.signed_events import a_signature_png, a_task_signed, serving_signature
from tests.support.tsa import TSA_NAME, LoopbackTsa, asn1_certificate
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def tsa_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def signing_with_tsa(stack, tsa_port):
    """The signing service restarted with a TSA configured; stopped afterwards, so the next test that
    needs signing starts it as usual."""
    stack.stop("signing")
    proc = stack.start(
        "signing",
        extra_env={"SIGNING_SEAL_TSA_URL": f"http://127.0.0.1:{tsa_port}/tsa", "SIGNING_SEAL_TSA_TIMEOUT_SECONDS": "2"},
    )
    yield proc
    stack.stop("signing")


async def test_a_seal_waits_for_a_timestamp_authority_that_is_down_and_is_timestamped_once_it_answers(
    infra, signing_with_tsa, tsa_port, tmp_path
):
    signing = signing_with_tsa
    tenant_id, key = await a_tenant_with_staff_key(infra.kafka_bootstrap, signing.url, "/v1/evidence")
    auth = {"Authorization": f"Bearer {key}"}
    log_start = len(signing.log())
    png = a_signature_png()
    with serving_signature(png) as image_url:
        # given the TSA is down, when a task is signed
        signed = a_task_signed(tenant_id, image_url, png)
        await publish_accepted(infra.kafka_bootstrap, signed)

        # then sealing is retried as an outage, with a reason that names the TSA...
        def tsa_retries() -> list[str]:
            return [
                line
                for line in signing.log()[log_start:].splitlines()
                if "(outage, retrying)" in line
                and "TimestampAuthorityUnavailable" in line
                and f"127.0.0.1:{tsa_port}/tsa" in line
            ]

        async def retried_twice() -> list[str]:
            return tsa_retries() if len(tsa_retries()) >= 2 else []

        await eventually(retried_twice, timeout=90, what="two retries of the seal while the TSA is down")

        # ...while the evidence is recorded regardless, and no seal is announced without its timestamp
        async def types() -> set[str]:
            return {e["type"] for e in await signing_events_for(infra.kafka_bootstrap, signed.payload.action_id)}

        assert "signature.sealed" not in await eventually(
            lambda: _having(types, "evidence.recorded"), timeout=30, what="evidence.recorded"
        )

        # when the TSA comes up, then the certificate is sealed
        with LoopbackTsa(tsa_port) as tsa:

            async def sealed() -> list[dict]:
                return [
                    e
                    for e in await signing_events_for(infra.kafka_bootstrap, signed.payload.action_id)
                    if e["type"] == "signature.sealed"
                ]

            (event,) = await eventually(sealed, timeout=60, what="signature.sealed once the TSA answers")
            assert tsa.tokens_issued >= 1

    async with httpx.AsyncClient(base_url=signing.url) as client:
        record = (await client.get(f"/v1/evidence/{event['payload']['evidence_id']}", headers=auth)).json()
        pdf = (await client.get(record["seals"][0]["url"], headers=auth)).content
        report = (await client.post("/v1/verify", files={"file": ("c.pdf", pdf, "application/pdf")})).json()
        seal_cert_pem = (await client.get("/v1/seal-certificate")).content

    # and the sealed certificate is PAdES B-T: a sound signature timestamp issued by the test TSA
    assert report["verified"] and report["matches_stored"], report
    assert report["timestamped_by"] == f"Common Name: {TSA_NAME}" and report["timestamped_at"]
    # (pyHanko's validator runs an event loop of its own, so not on this one)
    embedded, status = await asyncio.to_thread(signature_timestamp_of, pdf, seal_cert_pem, tsa)
    assert [a["type"].native for a in embedded.signer_info["unsigned_attrs"]] == ["signature_time_stamp_token"]
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"
    ts = status.timestamp_validity
    assert ts is not None and ts.intact and ts.valid and ts.trusted
    assert ts.signing_cert.sha256 == asn1_certificate(tsa.certificate).sha256
    # and poppler's pdfsig agrees the seal is valid over the total document
    (tmp_path / "sealed.pdf").write_bytes(pdf)
    report = run("pdfsig", tmp_path / "sealed.pdf")
    assert "Signature is Valid" in report and "Total document signed" in report


async def _having(probe, wanted: str) -> set[str]:
    found = await probe()
    return found if wanted in found else set()
