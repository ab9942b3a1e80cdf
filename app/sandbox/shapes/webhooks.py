"""Delivery payloads: objects adapted where webhooks differ from REST."""

from __future__ import annotations

from typing import Any

from app.sandbox.shapes.accounts import JSON, node_id

_NOT_IN_WEBHOOKS = {"issue": ("closed_by",), "check_suite": ("repository",)}
# Review events carry the "simple" pull request, without these.
_NOT_IN_SIMPLE_PR = ("merged", "mergeable", "rebaseable", "mergeable_state", "merged_by",
                     "comments", "review_comments", "maintainer_can_modify", "commits",
                     "additions", "deletions", "changed_files")  # fmt: skip


def webhook(
    event: str,
    action: str | None,
    *,
    repository: JSON | None = None,
    sender: JSON | None = None,
    installation_id: int | None = None,
    **objects: Any,
) -> JSON:
    """A delivery payload, e.g. `webhook("issues", "assigned", repository=r, sender=u,
    installation_id=1, issue=i, assignee=a)`. `number` is added for pull_request events;
    `installation` given in `objects` (installation events) wins over `installation_id`."""
    payload: JSON = {} if action is None else {"action": action}
    if event == "pull_request" and "pull_request" in objects:
        payload["number"] = objects["pull_request"]["number"]
    for key, value in objects.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _NOT_IN_WEBHOOKS.get(key, ())}
        if key == "pull_request" and event.startswith("pull_request_review"):
            value = {k: v for k, v in value.items() if k not in _NOT_IN_SIMPLE_PR}
        if key == "review":
            value = {**value, "state": value["state"].lower()}
        payload[key] = value
    if repository is not None:
        payload["repository"] = repository
    if sender is not None:
        payload["sender"] = sender
    if installation_id is not None and "installation" not in objects:
        payload["installation"] = {"id": installation_id,
                                   "node_id": node_id("Installation", installation_id)}  # fmt: skip
    return payload
