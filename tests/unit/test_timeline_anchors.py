"""The chain held against the heads signing anchored: a consistently rewritten chain still shows."""

from __future__ import annotations

from services.timeline import chain


def a_chain(*summaries: str) -> list[dict]:
    docs, prev = [], chain.GENESIS
    for seq, summary in enumerate(summaries, start=1):
        doc = chain.seal(
            {
                "id": f"e{seq}",
                "tenant_id": "t",
                "task_id": "task",
                "audience": "staff",
                "kind": "note",
                "summary": summary,
            },
            seq,
            prev,
        )
        docs.append(doc)
        prev = doc["hash"]
    return docs


def test_a_chain_that_holds_the_anchored_head_matches():
    docs = a_chain("created", "requested", "signed")
    anchor = {"audience": "staff", "seq": 2, "hash": docs[1]["hash"]}
    anchors = [{"evidence_id": "ev1", "sealed": True, "anchor": anchor}]
    assert chain.compare_anchors({"staff": docs, "portal": []}, anchors) == {
        "checked": 1,
        "mismatched": [],
        "unanchored": [],
    }


def test_a_chain_rewritten_with_every_hash_recomputed_verifies_alone_but_not_against_the_anchor():
    original = a_chain("created", "requested", "signed")
    anchors = [
        {"evidence_id": "ev1", "sealed": True, "anchor": {"audience": "staff", "seq": 2, "hash": original[1]["hash"]}}
    ]
    rewritten = a_chain("created", "requested by someone else", "signed")
    assert chain.verify(rewritten, rewritten[-1]["hash"]).valid
    result = chain.compare_anchors({"staff": rewritten}, anchors)
    assert result["mismatched"] == [
        {
            "evidence_id": "ev1",
            "audience": "staff",
            "seq": 2,
            "anchored": original[1]["hash"],
            "found": rewritten[1]["hash"],
        }
    ]


def test_an_anchor_past_the_end_of_the_chain_is_a_mismatch_and_a_seal_without_one_is_named():
    docs = a_chain("created")
    anchors = [
        {"evidence_id": "ev1", "sealed": True, "anchor": {"audience": "staff", "seq": 5, "hash": "ab" * 32}},
        {"evidence_id": "ev2", "sealed": True, "anchor": None},
        {"evidence_id": "ev3", "sealed": False, "anchor": None},
    ]  # not sealed yet: nothing to say
    result = chain.compare_anchors({"staff": docs}, anchors)
    assert [m["found"] for m in result["mismatched"]] == [None] and result["unanchored"] == ["ev2"]
