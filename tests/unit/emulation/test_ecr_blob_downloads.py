"""`documented_behaviour.EcrBlobDownloads`: GetDownloadUrlForLayer as the ECR API reference describes it,
and the blobs behind its URLs, served without a network."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from urllib.error import HTTPError

import pytest
from botocore.exceptions import ClientError
from deploy_pipeline.aws import ecr as pipeline_ecr

from ecs_migrate_deploy.emulation import Emulator
from ecs_migrate_deploy.emulation.seams.documented_behaviour import EcrBlobDownloads
from tests.support.emulation import small_spec


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(small_spec(image_labels={"v2": {"com.example.release": "2"}})) as emulator:
        yield emulator


def config_digest(emu: Emulator, tag: str) -> str:
    image = emu.client("ecr").batch_get_image(repositoryName=emu.world.repository_name, imageIds=[{"imageTag": tag}])
    return str(json.loads(image["images"][0]["imageManifest"])["config"]["digest"])


def test_a_pushed_config_blob_is_served_and_hashes_to_the_digest_its_manifest_names(emu: Emulator) -> None:
    digest = config_digest(emu, "v2")

    answer = emu.client("ecr").get_download_url_for_layer(repositoryName=emu.world.repository_name, layerDigest=digest)
    blob = pipeline_ecr.download_blob(answer["downloadUrl"])

    assert answer["layerDigest"] == digest
    assert answer["downloadUrl"].startswith("https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/")
    assert "X-Amz-Expires=3600" in answer["downloadUrl"]
    assert "sha256:" + hashlib.sha256(blob).hexdigest() == digest
    assert json.loads(blob)["config"]["Labels"] == {"com.example.release": "2"}


def test_a_layer_no_image_references_or_never_uploaded_is_not_found(emu: Emulator) -> None:
    ecr = emu.client("ecr")
    manifest = json.loads(
        ecr.batch_get_image(repositoryName=emu.world.repository_name, imageIds=[{"imageTag": "v2"}])["images"][0][
            "imageManifest"
        ]
    )
    never_uploaded = manifest["layers"][0]["digest"]  # the world names its layers but pushes only configs

    for digest in ("sha256:" + "0" * 64, never_uploaded):
        with pytest.raises(ClientError) as raised:
            ecr.get_download_url_for_layer(repositoryName=emu.world.repository_name, layerDigest=digest)
        assert raised.value.response["Error"]["Code"] == "LayersNotFoundException"


def test_a_url_it_did_not_hand_out_and_a_refused_download_answer_403(emu: Emulator) -> None:
    url = emu.client("ecr").get_download_url_for_layer(
        repositoryName=emu.world.repository_name, layerDigest=config_digest(emu, "v1")
    )["downloadUrl"]

    with pytest.raises(HTTPError) as forged:
        pipeline_ecr.download_blob(url + "x")
    emu.seams.ecr_blobs.refuse_downloads = True
    with pytest.raises(HTTPError) as refused:
        pipeline_ecr.download_blob(url)

    assert forged.value.code == refused.value.code == 403


def test_uninstalling_puts_the_https_get_and_moto_back() -> None:
    original = pipeline_ecr.download_blob
    seam = EcrBlobDownloads()

    with seam:
        assert pipeline_ecr.download_blob == seam.download

    assert pipeline_ecr.download_blob is original
