"""The local Kafka's cluster id is one StorageTool accepts."""

from deploy.local.infra import _kafka_cluster_id


def test_a_generated_cluster_id_never_starts_with_a_dash_that_would_read_as_a_flag():
    ids = [_kafka_cluster_id() for _ in range(5000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)
