"""GitHub's JSON shapes for the sandbox: pure builders, plain data in, dicts out.

Each builder returns the object as GitHub's REST API returns it; `webhook` assembles a delivery
and adapts embedded objects where webhook payloads differ (no `closed_by` on issues, lowercase
review states, the short pull request in review events). API URLs live under `base_url`
(e.g. "http://127.0.0.1:PORT"), browser URLs under `web_url` (default `base_url + "/web"`).
"""

from app.sandbox.shapes.accounts import (  # noqa: F401
    _REPO_URLS,
    DEFAULT_EVENTS,
    DEFAULT_PERMISSIONS,
    EPOCH,
    JSON,
    _reactions,
    app,
    full_repository,
    installation,
    label,
    node_id,
    repository,
    user,
    web_url_for,
)
from app.sandbox.shapes.checks import (  # noqa: F401
    _SUITE_IN_RUN,
    check_run,
    check_suite,
)
from app.sandbox.shapes.git import (  # noqa: F401
    access_token,
    error,
    git_blob,
    git_tree,
    hook,
)
from app.sandbox.shapes.issues import (  # noqa: F401
    comment,
    issue,
    issue_event,
)
from app.sandbox.shapes.pulls import (  # noqa: F401
    _branch,
    diff_entry,
    pull_request,
    pull_request_minimal,
    review,
)
from app.sandbox.shapes.statuses import (  # noqa: F401
    combined_status,
    commit_status,
    status_event,
)
from app.sandbox.shapes.webhooks import (  # noqa: F401
    _NOT_IN_SIMPLE_PR,
    _NOT_IN_WEBHOOKS,
    webhook,
)
