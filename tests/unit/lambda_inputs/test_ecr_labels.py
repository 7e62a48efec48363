"""`deploy_pipeline.aws.ecr.image_labels` reads `config.Labels` of an image by digest, through
BatchGetImage and GetDownloadUrlForLayer, whatever the manifest type; every failure is LabelsUnreadable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from deploy_pipeline.aws import ecr

from ecs_migrate_deploy.emulation import Emulator
from ecs_migrate_deploy.emulation.world import MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE
from tests.support.emulation import small_spec

LABELS = {"io.github.ecs-migrate-deploy.expected-migration": "20250310083000_order_status", "com.example.team": "a"}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(small_spec()) as emulator:
        yield emulator


def media_type(emu: Emulator, digest: str) -> str:
    image = emu.client("ecr").batch_get_image(
        repositoryName=emu.world.repository_name,
        imageIds=[{"imageDigest": digest}],
        acceptedMediaTypes=ecr.ACCEPTED_MEDIA_TYPES,
    )["images"][0]
    return str(image["imageManifestMediaType"])


@pytest.mark.parametrize(
    ("layout", "pushed_type"),
    [("docker", MANIFEST_MEDIA_TYPE), ("oci", OCI_MANIFEST_MEDIA_TYPE), ("index", OCI_INDEX_MEDIA_TYPE)],
)
def test_the_labels_of_each_manifest_type(emu: Emulator, layout: Any, pushed_type: str) -> None:
    # The world's index lists an attestation manifest (unknown/unknown, no labels) first, as buildx
    # does: the labels come from the first platform's manifest.
    digest = emu.world.push_image("v3", labels=LABELS, layout=layout)

    assert media_type(emu, digest) == pushed_type
    assert ecr.image_labels(emu.world.repository_name, digest) == LABELS


def test_an_image_without_labels_has_none(emu: Emulator) -> None:
    assert ecr.image_labels(emu.world.repository_name, emu.world.digests["v1"]) == {}


def test_a_refused_download_is_unreadable_and_names_no_url(emu: Emulator) -> None:
    digest = emu.world.push_image("v3", labels=LABELS)
    emu.seams.ecr_blobs.refuse_downloads = True

    with pytest.raises(ecr.LabelsUnreadable) as raised:
        ecr.image_labels(emu.world.repository_name, digest)

    assert str(raised.value) == "the config blob could not be downloaded: HTTP 403 Forbidden"
    assert "amazonaws.com" not in str(raised.value)


def test_a_refused_api_call_is_unreadable(emu: Emulator) -> None:
    with pytest.raises(ecr.LabelsUnreadable, match=r"BatchGetImage failed \(RepositoryNotFoundException\)"):
        ecr.image_labels("acme/other", emu.world.digests["v1"])


def test_a_blob_that_does_not_hash_to_its_digest_is_unreadable(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = emu.world.push_image("v3", labels=LABELS)
    monkeypatch.setattr(ecr, "download_blob", lambda url: b'{"config": {"Labels": {"forged": "yes"}}}')

    with pytest.raises(ecr.LabelsUnreadable, match="does not hash to"):
        ecr.image_labels(emu.world.repository_name, digest)


def test_the_https_get_refuses_anything_but_https() -> None:
    for url in ("http://example.com/blob", "file:///etc/passwd"):
        with pytest.raises(OSError, match="not https"):
            ecr._https_get(url)
