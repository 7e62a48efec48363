"""samconfig.toml as `sam deploy --config-env ENV` reads it: the stack name and its parameter overrides.

SAM's configuration file holds one table per environment and command, `[ENV.COMMAND.parameters]`,
with `[ENV.global.parameters]` under every command ("SAM CLI configuration file", AWS SAM Developer
Guide). `parameter_overrides` is either one string of `Key=Value` pairs, quoted like a shell would
(`sam deploy --guided` writes `"RepositoryName=\\"acme/app\\" TagPrefix=\\"v\\""`), or a list of
`Key=Value` strings.
"""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

SAMCONFIG = Path("samconfig.toml")


class SamConfigError(Exception):
    """The file, environment or value cannot be read; the message is one line."""


def deploy_parameters(config_env: str, config_file: Path = SAMCONFIG) -> dict[str, Any]:
    """`[ENV.global.parameters]` overlaid by `[ENV.deploy.parameters]`, as `sam deploy` sees them."""
    try:
        config = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SamConfigError(f"no {config_file} in this directory") from None
    except tomllib.TOMLDecodeError as exc:
        raise SamConfigError(f"{config_file} is not valid TOML: {exc}") from None
    tables = config.get(config_env)
    if not isinstance(tables, dict):
        known = ", ".join(sorted(k for k, v in config.items() if isinstance(v, dict))) or "none"
        raise SamConfigError(f"{config_file} has no environment [{config_env}] (it has: {known})")
    merged: dict[str, Any] = {}
    for command in ("global", "deploy"):
        merged.update((tables.get(command) or {}).get("parameters") or {})
    return merged


def parameter_overrides(config_env: str, config_file: Path = SAMCONFIG) -> dict[str, str]:
    """The stack parameters `sam deploy --config-env ENV` would pass, by name."""
    raw = deploy_parameters(config_env, config_file).get("parameter_overrides") or []
    try:
        pairs = shlex.split(raw) if isinstance(raw, str) else [str(item) for item in raw]
    except ValueError as exc:
        raise SamConfigError(f"parameter_overrides in {config_file} [{config_env}] cannot be split: {exc}") from None
    parameters: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SamConfigError(f"parameter_overrides in {config_file} [{config_env}]: {pair!r} is not Key=Value")
        parameters[key] = value
    return parameters
