"""Git data, tokens, errors and the hook of a ping."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from app.sandbox.shapes.accounts import DEFAULT_EVENTS, EPOCH, JSON


def git_tree(repo: JSON, sha: str, entries: Sequence[Mapping[str, Any]], *,
             truncated: bool = False) -> JSON:  # fmt: skip
    """`GET /repos/{owner}/{repo}/git/trees/{sha}`; each entry has path, mode, type
    ("blob" or "tree"), sha and, for blobs, size."""
    tree = []
    for entry in entries:
        kind = entry["type"]
        item = {"path": entry["path"], "mode": entry["mode"], "type": kind, "sha": entry["sha"]}
        if kind == "blob":
            item["size"] = entry["size"]
        item["url"] = f"{repo['url']}/git/{kind}s/{entry['sha']}"
        tree.append(item)
    return {"sha": sha, "url": f"{repo['url']}/git/trees/{sha}", "tree": tree,
            "truncated": truncated}  # fmt: skip


def git_blob(repo: JSON, sha: str, content: bytes) -> JSON:
    """`GET /repos/{owner}/{repo}/git/blobs/{sha}`: base64 in 60-column lines, as GitHub."""
    encoded = base64.b64encode(content).decode()
    lines = [encoded[i : i + 60] for i in range(0, len(encoded), 60)]
    return {
        "sha": sha,
        "node_id": base64.b64encode(f"04:Blob{repo['id']}:{sha}".encode()).decode(),
        "size": len(content),
        "url": f"{repo['url']}/git/blobs/{sha}",
        "content": "".join(line + "\n" for line in lines),
        "encoding": "base64",
    }


def access_token(token: str, expires_at: str, installation: JSON) -> JSON:
    """`POST /app/installations/{id}/access_tokens` (201)."""
    return {
        "token": token,
        "expires_at": expires_at,
        "permissions": dict(installation["permissions"]),
        "repository_selection": installation["repository_selection"],
    }


def error(status: int, message: str, *, errors: Sequence[Mapping[str, Any]] = (),
          docs: str = "https://docs.github.com/rest") -> JSON:  # fmt: skip
    """An error body: `error(404, "Not Found")`, or 422 "Validation Failed" with `errors`
    like `{"resource": "Issue", "field": "title", "code": "missing_field"}`."""
    shape: JSON = {"message": message, "documentation_url": docs, "status": str(status)}
    if errors:
        shape["errors"] = [dict(e) for e in errors]
    return shape


def hook(id: int, app_id: int, url: str, *, base_url: str, created_at: str = EPOCH,
         events: Sequence[str] = DEFAULT_EVENTS) -> JSON:  # fmt: skip
    """The App's webhook as the `ping` delivery describes it."""
    api = f"{base_url.rstrip('/')}/app/hook"
    return {
        "type": "App",
        "id": id,
        "name": "web",
        "active": True,
        "events": list(events),
        "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
        "updated_at": created_at,
        "created_at": created_at,
        "app_id": app_id,
        "deliveries_url": f"{api}/deliveries",
        "url": f"{api}/config",
        "ping_url": f"{api}/pings",
    }


# Keys of REST objects that webhook payloads leave out.
