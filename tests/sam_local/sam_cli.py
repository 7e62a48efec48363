"""SAM CLI whose `--docker-network host` puts the Lambda containers on the host's network, as it says.

`python tests/sam_local/sam_cli.py local invoke ... --docker-network host` is `sam local invoke ...`: SAM CLI's
own entry point, template handling, image build (the invoke image plus the RIE and the layers), container
lifecycle and output. What differs is the Docker request that creates a Lambda container (labelled
sam.cli.container.type=lambda), and only with `--docker-network host`:

- SAM CLI 1.170 creates the container on Docker's default network, then skips connecting it to a network
  named "host" (samcli/local/docker/container.py: `if self.network_id and self.network_id != "host"`;
  aws/aws-sam-cli#4236, whose fix, PR #7278, was not merged). On a dockerd without a bridge network (how
  `make sam-local` runs it) that container has nothing but its own loopback: SAM cannot reach the emulator in
  it and the function reaches nothing. Here it joins the host's network namespace; the Runtime Interface
  Emulator listens on 127.0.0.1 at the port SAM picked for it (instead of a published 8080), and its runtime
  API on a free 127.0.0.1 port (its default, 9001, would be shared by every container on the host network).
- SAM only sets the variables the template declares (`--env-vars`), besides the credentials and the region
  it takes from its own environment. AWS_ENDPOINT_URL is passed the same way here, so boto3 in the container
  talks to the emulated AWS this process names; and HTTP_PROXY/HTTPS_PROXY point at a closed 127.0.0.1 port
  (NO_PROXY: 127.0.0.1, localhost), so an HTTP(S) request for any other host (e.g. an S3 download URL that
  the emulated ECR hands out) is refused on this machine instead of leaving it.
"""

from __future__ import annotations

import itertools
import os
import socket
import sys
from typing import Any

from docker.models.containers import ContainerCollection  # type: ignore[import-untyped]

LAMBDA_LABEL = ("sam.cli.container.type", "lambda")
RIE_CONTAINER_PORT = "8080"  # samcli.local.docker.container.Container.RAPID_PORT_CONTAINER
CLOSED_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens on it, a request is refused at once


def asks_for_host_network(arguments: list[str]) -> bool:
    """Only then are the containers changed: without `--docker-network host` this is SAM CLI as it is."""
    return "--docker-network=host" in arguments or any(
        a == "--docker-network" and b == "host" for a, b in itertools.pairwise(arguments)
    )


def free_port() -> int:
    """A port for the emulator's runtime API: containers on the host's network share its ports."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def contained_environment() -> dict[str, str]:
    """What the container gets besides SAM's variables: the AWS endpoint, and no way out for HTTP(S)."""
    environment = {
        "HTTP_PROXY": CLOSED_PROXY,
        "HTTPS_PROXY": CLOSED_PROXY,
        "http_proxy": CLOSED_PROXY,
        "https_proxy": CLOSED_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    if os.environ.get("AWS_ENDPOINT_URL"):
        environment["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
    return environment


def on_host_network(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A Lambda container's create arguments, rewritten for the host's network (see the module's docstring)."""
    ports = kwargs.pop("ports", None) or {}
    interface, port = ports[RIE_CONTAINER_PORT]
    entrypoint = list(kwargs["entrypoint"])
    entrypoint += ["--runtime-interface-emulator-address", f"{interface}:{port}"]
    entrypoint += ["--runtime-api-address", f"127.0.0.1:{free_port()}"]
    return {
        **kwargs,
        "network_mode": "host",
        "entrypoint": entrypoint,
        "environment": {**(kwargs.get("environment") or {}), **contained_environment()},
    }


def install() -> None:
    """Wrap docker-py's ContainerCollection.create (what SAM's Container.create calls) in this process."""
    create = ContainerCollection.create

    def create_on_host(self: ContainerCollection, image: str, command: Any = None, **kwargs: Any) -> Any:
        labels = kwargs.get("labels") or {}
        if labels.get(LAMBDA_LABEL[0]) == LAMBDA_LABEL[1]:
            kwargs = on_host_network(kwargs)
        return create(self, image, command, **kwargs)

    ContainerCollection.create = create_on_host


def main() -> None:
    from samcli.cli.main import cli  # type: ignore[import-untyped]

    if asks_for_host_network(sys.argv[1:]):
        install()
    cli(prog_name="sam")


if __name__ == "__main__":
    main()
