"""Operator CLI, local rehearsal and emulation harness for ecs-migrate-deploy (not in the Lambda bundle)."""
