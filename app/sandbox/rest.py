"""The sandbox's REST API: the endpoints Baton uses, answering as GitHub does, errors included."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app.sandbox import shapes
from app.sandbox.actions import Actions, Invalid, NotFound
from app.sandbox.render import Render
from app.sandbox.state import CheckRun, Issue, Repo, User, World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DOCS = "https://docs.github.com/rest"
INSTALLATION = web.RequestKey("installation_id", int)
USER = web.RequestKey("user_login", str)  # set for a person's own token


def error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response(
        {"message": message, "documentation_url": DOCS, "status": str(status), **extra},
        status=status,
    )


def paginate(request: web.Request, items: list[Any], key: str | None = None) -> web.Response:
    """GitHub's page/per_page pagination with a Link header."""
    try:
        per_page = max(1, min(100, int(request.query.get("per_page", "30"))))
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        return error(422, "Validation Failed")
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    url = request.url
    if page < last:
        links.append(f'<{url.update_query(page=page + 1, per_page=per_page)}>; rel="next"')
        links.append(f'<{url.update_query(page=last, per_page=per_page)}>; rel="last"')
    if page > 1:
        links.append(f'<{url.update_query(page=1, per_page=per_page)}>; rel="first"')
        links.append(f'<{url.update_query(page=page - 1, per_page=per_page)}>; rel="prev"')
    body: Any = {"total_count": len(items), key: chunk} if key else chunk
    headers = {"Link": ", ".join(links)} if links else {}
    return web.json_response(body, headers=headers)


REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


class Rest:
    def __init__(self, world: World, actions: Actions, render: Render, bot: User) -> None:
        self.world, self.actions, self.render, self.bot = world, actions, render, bot

    def routes(self) -> list[tuple[str, str, Handler]]:
        r = "/repos/{owner}/{repo}"
        return [
            ("GET", "/app", self.get_app),
            ("GET", "/app/installations", self.list_installations),
            ("POST", "/app/installations/{id}/access_tokens", self.create_token),
            ("GET", "/installation/repositories", self.list_repos),
            ("GET", "/user", self.get_user),
            ("GET", r, self.get_repo),
            ("GET", r + "/contents/{path:.+}", self.get_contents),
            ("GET", r + "/issues", self.list_issues),
            ("GET", r + "/issues/{number:\\d+}", self.get_issue),
            ("PATCH", r + "/issues/{number:\\d+}", self.update_issue),
            ("GET", r + "/issues/{number:\\d+}/comments", self.list_comments),
            ("POST", r + "/issues/{number:\\d+}/comments", self.create_comment),
            ("PATCH", r + "/issues/comments/{id:\\d+}", self.update_comment),
            ("POST", r + "/issues/comments/{id:\\d+}/reactions", self.react),
            ("GET", r + "/issues/{number:\\d+}/events", self.list_events),
            ("POST", r + "/issues/{number:\\d+}/labels", self.add_labels),
            ("DELETE", r + "/issues/{number:\\d+}/labels/{name}", self.remove_label),
            ("POST", r + "/issues/{number:\\d+}/assignees", self.add_assignees),
            ("DELETE", r + "/issues/{number:\\d+}/assignees", self.remove_assignees),
            ("GET", r + "/labels", self.list_labels),
            ("POST", r + "/labels", self.create_label),
            ("GET", r + "/collaborators/{user}/permission", self.permission),
            ("GET", r + "/pulls", self.list_pulls),
            ("GET", r + "/pulls/{number:\\d+}", self.get_pull),
            ("GET", r + "/pulls/{number:\\d+}/files", self.list_pull_files),
            ("GET", r + "/pulls/{number:\\d+}/reviews", self.list_reviews),
            ("GET", r + "/commits/{ref}/check-runs", self.list_check_runs),
            ("GET", r + "/commits/{ref}/status", self.combined_status),
            ("POST", r + "/statuses/{sha}", self.create_status),
            ("POST", r + "/check-runs", self.create_check_run),
            ("PATCH", r + "/check-runs/{id:\\d+}", self.update_check_run),
            ("GET", r + "/git/trees/{sha}", self.get_tree),
            ("GET", r + "/git/blobs/{sha}", self.get_blob),
        ]

    # --- helpers ------------------------------------------------------------------------
    def repo(self, request: web.Request) -> Repo:
        """The repository, if the token reaches it: an installation's own, or (a person's
        token) any: the sandbox's repositories are public."""
        name = f"{request.match_info['owner']}/{request.match_info['repo']}"
        repo = self.world.repos.get(name)
        if repo is None or (
            USER not in request and repo.installation_id != request.get(INSTALLATION)
        ):
            raise NotFound(name)
        return repo

    def actor(self, request: web.Request) -> User:
        """Who acts: the person whose token it is, else the App's bot."""
        login = request.get(USER)
        return self.world.users[login] if login else self.bot

    @staticmethod
    def app_only(request: web.Request) -> None:
        if USER in request:
            raise web.HTTPForbidden(reason="You must authenticate via a GitHub App.")

    def issue(self, request: web.Request, repo: Repo, *, pr: bool | None = None) -> Issue:
        issue = self.actions.issue(repo, int(request.match_info["number"]))
        if pr is True and not issue.is_pr:
            raise NotFound("pull request")
        return issue

    @staticmethod
    async def body(request: web.Request) -> dict[str, Any]:
        if not request.body_exists:
            return {}
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise Invalid("Problems parsing JSON") from exc
        if not isinstance(data, dict):
            raise Invalid("Problems parsing JSON")
        return data

    # --- app and installations ----------------------------------------------------------
    async def get_app(self, request: web.Request) -> web.Response:
        return web.json_response(self.render.app())

    async def list_installations(self, request: web.Request) -> web.Response:
        items = [self.render.installation(i) for i in self.world.installations.values()]
        return paginate(request, items)

    async def create_token(self, request: web.Request) -> web.Response:
        inst = self.world.installations.get(int(request.match_info["id"]))
        if inst is None:
            return error(404, "Not Found")
        token = "ghs_" + secrets.token_hex(18)
        expires = self.world.clock.now() + self.world.token_ttl
        self.world.tokens[token] = (inst.id, expires)
        return web.json_response(
            {
                "token": token,
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "permissions": {"issues": "write", "pull_requests": "write", "checks": "write"},
                "repository_selection": "selected",
            },
            status=201,
        )

    async def get_user(self, request: web.Request) -> web.Response:
        if USER not in request:
            return error(403, "Resource not accessible by integration")
        return web.json_response(self.render.user(self.actor(request)))

    async def list_repos(self, request: web.Request) -> web.Response:
        if INSTALLATION not in request:
            return error(403, "Resource not accessible by personal access token")
        inst = self.world.installations[request[INSTALLATION]]
        items = [self.render.repository(self.world.repos[name]) for name in inst.repos]
        return paginate(request, items, "repositories")

    # --- repository contents and git data -----------------------------------------------
    async def get_repo(self, request: web.Request) -> web.Response:
        return web.json_response(self.render.repository(self.repo(request)))

    def _files_at(self, repo: Repo, ref: str) -> dict[str, bytes]:
        sha = repo.branches.get(ref.removeprefix("refs/heads/"), ref)
        if sha not in repo.commits:
            raise NotFound(ref)
        return repo.commits[sha]

    async def get_contents(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        files = self._files_at(repo, request.query.get("ref", repo.default_branch))
        path = request.match_info["path"].strip("/")
        if path not in files:
            raise NotFound(path)
        return web.json_response(self.render.content(repo, path, files[path]))

    async def get_tree(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        files = self._files_at(repo, request.match_info["sha"])
        recursive = request.query.get("recursive") not in (None, "", "0", "false")
        return web.json_response(
            self.render.tree(repo, request.match_info["sha"], files, recursive)
        )

    async def get_blob(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        sha = request.match_info["sha"]
        if sha not in repo.blobs:
            raise NotFound(sha)
        return web.json_response(self.render.blob(repo, sha, repo.blobs[sha]))

    # --- issues -------------------------------------------------------------------------
    async def list_issues(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        state = request.query.get("state", "open")
        wanted = {s for s in request.query.get("labels", "").lower().split(",") if s}
        assignee = request.query.get("assignee")

        def assigned(i: Issue) -> bool:  # `none`: nobody; `*`: anybody; else that login
            logins = {a.login.lower() for a in i.assignees}
            if assignee is None:
                return True
            if assignee in ("none", "*"):
                return bool(logins) == (assignee == "*")
            return assignee.lower() in logins

        items = [
            self.render.issue(repo, i)
            for i in sorted(repo.issues.values(), key=lambda i: -i.number)
            if state in ("all", i.state)
            and wanted <= {lb.name.lower() for lb in i.labels}
            and assigned(i)
        ]
        return paginate(request, items)

    async def get_issue(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        return web.json_response(self.render.issue(repo, self.issue(request, repo)))

    async def update_issue(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        issue = self.issue(request, repo)
        data = await self.body(request)
        if data.get("state") not in (None, "open", "closed"):
            raise Invalid("state")
        if data.get("state_reason") not in (None, "completed", "not_planned", "reopened"):
            raise Invalid("state_reason")
        self.actions.edit_issue(repo, issue, self.actor(request), **data)
        return web.json_response(self.render.issue(repo, issue))

    async def list_comments(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        issue = self.issue(request, repo)
        since = request.query.get("since", "")  # ISO 8601 UTC: compares as text
        items = [
            self.render.comment(repo, c)
            for c in repo.comments.values()
            if c.issue_number == issue.number and c.updated_at >= since
        ]
        return paginate(request, items)

    async def create_comment(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        issue = self.issue(request, repo)
        body = (await self.body(request)).get("body")
        if not isinstance(body, str) or not body:
            raise Invalid("body")
        if len(body) > 65536:
            raise Invalid("body is too long (maximum is 65536 characters)")
        actor = self.actor(request)
        comment = self.actions.comment(repo, issue, actor, body, via_app=actor is self.bot)
        return web.json_response(self.render.comment(repo, comment), status=201)

    async def update_comment(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        comment = repo.comments.get(int(request.match_info["id"]))
        if comment is None:
            raise NotFound("comment")
        body = (await self.body(request)).get("body")
        if not isinstance(body, str) or not body or len(body) > 65536:
            raise Invalid("body")
        if comment.user != self.actor(request):
            return error(403, "Resource not accessible by integration")
        self.actions.edit_comment(repo, comment, self.actor(request), body)
        return web.json_response(self.render.comment(repo, comment))

    async def react(self, request: web.Request) -> web.Response:
        """One reaction per person and content: 201 when new, 200 with the one it has."""
        repo = self.repo(request)
        comment = repo.comments.get(int(request.match_info["id"]))
        if comment is None:
            raise NotFound("comment")
        content = (await self.body(request)).get("content")
        if content not in REACTIONS:
            raise Invalid("content")
        found = [r for r in comment.reactions if r[1:] == (self.bot.login, content)]
        status = 200 if found else 201
        if not found:
            found = [(self.world.next_id(), self.bot.login, content)]
            comment.reactions.append(found[0])
        return web.json_response(
            {
                "id": found[0][0],
                "node_id": f"REA_{found[0][0]}",
                "user": self.render.user(self.bot),
                "content": content,
                "created_at": self.world.clock.iso(),
            },
            status=status,
        )

    async def list_events(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        issue = self.issue(request, repo)
        items = [self.render.event(repo, e) for e in repo.events if e.issue_number == issue.number]
        if repo.late_event_listings > 0:
            repo.late_event_listings -= 1
            items = items[:-1]
        return paginate(request, items)

    async def add_labels(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        issue = self.issue(request, repo)
        names = (await self.body(request)).get("labels")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise Invalid("labels")
        self.actions.add_labels(repo, issue, self.actor(request), names)
        return web.json_response([self.render.label(repo, lb) for lb in issue.labels])

    async def remove_label(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        issue = self.issue(request, repo)
        self.actions.remove_label(repo, issue, self.actor(request), request.match_info["name"])
        return web.json_response([self.render.label(repo, lb) for lb in issue.labels])

    async def _assignees(self, request: web.Request) -> tuple[Repo, Issue, list[str]]:
        repo = self.repo(request)
        issue = self.issue(request, repo)
        logins = (await self.body(request)).get("assignees")
        if not isinstance(logins, list) or not all(isinstance(x, str) for x in logins):
            raise Invalid("assignees")
        return repo, issue, logins

    async def add_assignees(self, request: web.Request) -> web.Response:
        repo, issue, logins = await self._assignees(request)
        self.actions.assign(repo, issue, self.actor(request), logins)
        return web.json_response(self.render.issue(repo, issue), status=201)

    async def remove_assignees(self, request: web.Request) -> web.Response:
        repo, issue, logins = await self._assignees(request)
        self.actions.unassign(repo, issue, self.actor(request), logins)
        return web.json_response(self.render.issue(repo, issue))

    async def list_labels(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        return paginate(request, [self.render.label(repo, lb) for lb in repo.labels.values()])

    async def create_label(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        data = await self.body(request)
        name, color = data.get("name"), data.get("color", "ededed")
        if not isinstance(name, str) or not name or not isinstance(color, str):
            raise Invalid("name")
        label = self.actions.create_label(repo, name, color, data.get("description"))
        return web.json_response(self.render.label(repo, label), status=201)

    async def permission(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        user = self.world.users.get(request.match_info["user"])
        if user is None:
            raise NotFound("user")
        return web.json_response(self.render.permission(repo, user))

    # --- pull requests ------------------------------------------------------------------
    async def list_pulls(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        state = request.query.get("state", "open")
        items = [
            self.render.pull(repo, i)
            for i in sorted(repo.issues.values(), key=lambda i: -i.number)
            if i.is_pr and state in ("all", i.state)
        ]
        return paginate(request, items)

    async def get_pull(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        return web.json_response(self.render.pull(repo, self.issue(request, repo, pr=True)))

    async def list_pull_files(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        pr = self.issue(request, repo, pr=True)
        base, head = repo.commits[pr.base_sha], repo.commits[pr.head_sha]
        items = [
            self.render.pull_file(repo, path, base.get(path), head.get(path))
            for path in sorted(set(base) | set(head))
            if base.get(path) != head.get(path)
        ]
        return paginate(request, items)

    async def list_reviews(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        pr = self.issue(request, repo, pr=True)
        items = [self.render.review(repo, rv) for rv in repo.reviews if rv.pr_number == pr.number]
        return paginate(request, items)

    # --- check runs ---------------------------------------------------------------------
    async def list_check_runs(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        ref = request.match_info["ref"]
        sha = repo.branches.get(ref, ref)
        name = request.query.get("check_name")
        runs = [
            r
            for r in sorted(repo.check_runs.values(), key=lambda r: -r.id)
            if r.head_sha == sha and (name is None or r.name == name)
        ]
        if request.query.get("filter", "latest") == "latest":  # the newest per app and name
            newest: dict[tuple[int, str], CheckRun] = {}
            for r in runs:  # newest first
                newest.setdefault((r.app_id, r.name), r)
            runs = list(newest.values())
        return paginate(request, [self.render.check_run(repo, r) for r in runs], "check_runs")

    def _apply_check(self, run: CheckRun, data: dict[str, Any]) -> None:
        if "status" in data:
            if data["status"] not in ("queued", "in_progress", "completed"):
                raise Invalid("status")
            run.status = data["status"]
        if data.get("conclusion") is not None:
            run.conclusion, run.status = data["conclusion"], "completed"
        if run.status == "completed" and run.conclusion is None:
            raise Invalid("conclusion is required when status is completed")
        for name in ("external_id", "details_url", "completed_at", "started_at"):
            if name in data:
                setattr(run, name, data[name])
        output = data.get("output")
        if output is not None:
            if not isinstance(output, dict) or not {"title", "summary"} <= set(output):
                raise Invalid("output requires title and summary")
            if len(str(output.get("summary", ""))) > 65535:
                raise Invalid("output.summary is too long (maximum is 65535 characters)")
            annotations = output.get("annotations") or []
            if len(annotations) > 50:
                raise Invalid("output.annotations: at most 50 per request")
            run.annotations.extend(annotations)
            run.output = {k: v for k, v in output.items() if k != "annotations"}

    async def create_check_run(self, request: web.Request) -> web.Response:
        self.app_only(request)
        repo = self.repo(request)
        data = await self.body(request)
        if not isinstance(data.get("name"), str) or not isinstance(data.get("head_sha"), str):
            raise Invalid("name and head_sha are required")
        if data["head_sha"] not in repo.commits:
            raise Invalid("No commit found for SHA: " + data["head_sha"])
        now = self.world.clock.iso()
        run = CheckRun(
            self.world.next_id(),
            data["name"],
            data["head_sha"],
            "queued",
            None,
            self.render.app_id,
            now,
        )
        self._apply_check(run, data)
        self.actions.save_check_run(repo, run, self.bot, None)
        return web.json_response(self.render.check_run(repo, run), status=201)

    # --- commit statuses ----------------------------------------------------------------
    async def combined_status(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        ref = request.match_info["ref"]
        sha = repo.branches.get(ref, ref)
        if sha not in repo.commits:
            raise NotFound(ref)
        try:
            per_page = max(1, min(100, int(request.query.get("per_page", "30"))))
            page = max(1, int(request.query.get("page", "1")))
        except ValueError as exc:
            raise Invalid("per_page") from exc
        latest = self.render.latest_statuses(repo, sha)
        shown = [self.render.commit_status(repo, s) for s in latest]
        body = shapes.combined_status(self.render.repository(repo), sha, shown)
        body["statuses"] = body["statuses"][(page - 1) * per_page : page * per_page]
        return web.json_response(body)

    async def create_status(self, request: web.Request) -> web.Response:
        repo = self.repo(request)
        data = await self.body(request)
        context = data.get("context", "default")
        if not isinstance(context, str):
            raise Invalid("context")
        status = self.actions.set_status(
            repo, self.bot, request.match_info["sha"], str(data.get("state")), context,
            data.get("description"), data.get("target_url"),
        )  # fmt: skip
        return web.json_response(self.render.commit_status(repo, status), status=201)

    async def update_check_run(self, request: web.Request) -> web.Response:
        self.app_only(request)
        repo = self.repo(request)
        run = repo.check_runs.get(int(request.match_info["id"]))
        if run is None:
            raise NotFound("check run")
        if run.app_id != self.render.app_id:
            return error(403, "Invalid app_id - a check run can only be modified by its app")
        was = run.status
        self._apply_check(run, await self.body(request))
        self.actions.save_check_run(repo, run, self.bot, was)
        return web.json_response(self.render.check_run(repo, run))

