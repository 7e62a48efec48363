"""Named errors. The class name becomes the Lambda's errorType, which the ASL matches in Catch/Retry.

Messages are read by people at 2 a.m.: one plain sentence of what failed, then the evidence.
They never contain a secret or a connection string.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class InvalidInput(PipelineError):
    """The execution input is not a deployable request; nothing was touched."""


class ConfigurationError(PipelineError):
    """The stack's parameters, or the resources they name, do not fit together."""


class ImageNotFound(InvalidInput):
    """The requested tag or digest does not exist in the repository."""


class NotPromoted(InvalidInput):
    """The image has no Succeeded deployment in the stack this one must be promoted from (RequireSucceededIn)."""


class InvalidImageLabel(InvalidInput):
    """The image carries an ecs-migrate-deploy label whose value is not in the documented format."""


class ServiceNotFound(ConfigurationError):
    """A configured ECS service does not exist or is not ACTIVE."""


class DeploymentInProgress(PipelineError):
    """Another execution holds a service's lock past the wait budget."""


class DeploymentStopped(PipelineError):
    """An operator asked this execution to stop (`ecs-migrate-deploy stop`); it stops like a failed phase."""


class SnapshotFailed(PipelineError):
    """The pre-deployment snapshot could not be created or ended in a failed state."""


class SnapshotTimedOut(SnapshotFailed):
    """The snapshot did not become available before its timeout."""


class MigrationFailed(PipelineError):
    """The migration task exited non-zero or stopped without running."""


class MigrationTimedOut(MigrationFailed):
    """The migration task ran past its timeout and was stopped."""


class MigrationTaskStillRunning(PipelineError):
    """A migration task of this deployment has not stopped yet; the lock stays until it has (ASL retries)."""


class SchemaVerificationFailed(PipelineError):
    """The database does not show the state the release needs."""


class DatabaseUnreachable(PipelineError):
    """The verifier could not connect to the database."""


class RolloutFailed(PipelineError):
    """An ECS deployment failed (circuit breaker) or was rolled back by ECS."""


class RolloutTimedOut(RolloutFailed):
    """An ECS deployment did not complete before its timeout."""


class RollbackFailed(PipelineError):
    """Putting the services back on their recorded task definitions failed."""


class TransientAwsError(PipelineError):
    """An AWS call was throttled or hit a 5xx after boto3's own retries; the ASL retries it."""


class AwsCallFailed(PipelineError):
    """An AWS call failed for a reason retrying will not fix (permissions, validation, state)."""


class EventAlreadyArrived(PipelineError):
    """The AWS event a wait registers for arrived before the wait did: the check runs at once.

    Raised by AwaitEvent inside a waitForTaskToken state, whose Catch goes to the phase's check."""
