"""Fixture repositories modelled on real applications: endpoints, calls and findings, exactly.

Each fixture under fixtures/ imitates how an open-source project is written: FastAPI full-stack
template + generated client; Express RealWorld + superagent agent; Flask app factory and
Flask-RESTful + Vue/axios + a requests/httpx job; OpenAPI + SvelteKit/Next/ky and a service class;
Angular services + Swagger 2.0; Next.js/Nuxt/SvelteKit file-based API routes; vue-element-admin
and ant-design-pro request modules; fetch wrappers layered over three modules. Look-alikes in
them (forms, links, router.push, redirects, static assets, third-party URLs) must not appear.
Fixture .py files start with `# fmt: off`: a formatter must not move the asserted lines.
"""

from __future__ import annotations

import pytest

from app.contracts import scan

from .helpers import load_fixture

FASTAPI_REACT_ENDPOINTS = {
    ("DELETE", "/api/v1/items/{}", "backend/app/api/routes/items.py", 38),
    ("GET", "/api/v1/items", "backend/app/api/routes/items.py", 14),
    ("GET", "/api/v1/items/{}", "backend/app/api/routes/items.py", 20),
    ("GET", "/api/v1/users", "backend/app/api/routes/users.py", 12),
    ("GET", "/api/v1/users/me", "backend/app/api/routes/users.py", 17),
    ("GET", "/api/v1/users/{}", "backend/app/api/routes/users.py", 27),
    ("GET", "/api/v1/users/{}/avatar", "backend/app/api/routes/users.py", 32),
    ("GET", "/api/v1/utils/health-check", "backend/app/api/routes/utils.py", 8),
    ("HEAD", "/api/v1/users/{}/avatar", "backend/app/api/routes/users.py", 32),
    ("PATCH", "/api/v1/users/me", "backend/app/api/routes/users.py", 22),
    ("POST", "/api/v1/items", "backend/app/api/routes/items.py", 28),
    ("POST", "/api/v1/login/access-token", "backend/app/api/routes/login.py", 8),
    ("POST", "/api/v1/password-recovery/{}", "backend/app/api/routes/login.py", 13),
    ("PUT", "/api/v1/items/{}", "backend/app/api/routes/items.py", 33),
}
FASTAPI_REACT_CALLS = {  # at the line of the URL in the generated client, and at the app's call
    ("DELETE", "/api/v1/users/me", "frontend/src/client/sdk.gen.ts", 53),
    ("GET", "/api/v1/items", "frontend/src/client/sdk.gen.ts", 15),
    ("GET", "/api/v1/items/{}", "frontend/src/client/sdk.gen.ts", 24),
    ("GET", "/api/v1/users/me", "frontend/src/client/sdk.gen.ts", 49),
    ("GET", "/api/v1/utils/health-check", "frontend/src/routes/health.tsx", 8),
    ("HEAD", "/api/v1/users/{}/avatar", "frontend/src/routes/health.tsx", 21),
    ("POST", "/api/v1/items", "frontend/src/client/sdk.gen.ts", 32),
    ("POST", "/api/v1/items/{}/archive", "frontend/src/client/sdk.gen.ts", 41),
    ("POST", "/api/v1/login/access-token", "frontend/src/client/sdk.gen.ts", 61),
    ("POST", "/api/v1/login/access-token", "frontend/src/hooks/useAuth.ts", 18),
}
FASTAPI_REACT_FINDINGS = {
    ("trailing-slash", "frontend/src/routes/health.tsx", 8),  # the route is /health-check/
    ("unknown-endpoint", "frontend/src/client/sdk.gen.ts", 41),
    ("method-not-allowed", "frontend/src/client/sdk.gen.ts", 53),
}

EXPRESS_REACT_ENDPOINTS = {
    ("DELETE", "/api/articles/{}", "server/routes/api/articles.js", 12),
    ("DELETE", "/api/articles/{}/comments/{}", "server/routes/api/comments.js", 7),
    ("DELETE", "/api/articles/{}/favorite", "server/routes/api/articles.js", 14),
    ("DELETE", "/api/profiles/{}/follow", "server/routes/api/profiles.js", 12),
    ("GET", "/api/articles", "server/routes/api/articles.js", 7),
    ("GET", "/api/articles/feed", "server/routes/api/articles.js", 8),
    ("GET", "/api/articles/{}", "server/routes/api/articles.js", 10),
    ("GET", "/api/articles/{}/comments", "server/routes/api/comments.js", 5),
    ("GET", "/api/profiles/{}", "server/routes/api/profiles.js", 8),
    ("GET", "/api/tags", "server/routes/api/tags.js", 3),
    ("GET", "/api/user", "server/routes/api/users.js", 7),
    ("POST", "/api/articles", "server/routes/api/articles.js", 9),
    ("POST", "/api/articles/{}/comments", "server/routes/api/comments.js", 6),
    ("POST", "/api/articles/{}/favorite", "server/routes/api/articles.js", 13),
    ("POST", "/api/profiles/{}/follow", "server/routes/api/profiles.js", 12),
    ("POST", "/api/users", "server/routes/api/users.js", 23),
    ("POST", "/api/users/login", "server/routes/api/users.js", 17),
    ("PUT", "/api/articles/{}", "server/routes/api/articles.js", 11),
    ("PUT", "/api/user", "server/routes/api/users.js", 13),
}
EXPRESS_REACT_CALLS = {
    ("DELETE", "/api/articles/{}", "client/src/agent.js", 51),
    ("DELETE", "/api/articles/{}/comments/{}", "client/src/agent.js", 70),
    ("DELETE", "/api/articles/{}/favorite", "client/src/agent.js", 59),
    ("DELETE", "/api/profiles/{}/follow", "client/src/agent.js", 81),
    ("GET", "/api/articles", "client/src/agent.js", 47),
    ("GET", "/api/articles", "client/src/agent.js", 49),
    ("GET", "/api/articles/feed", "client/src/agent.js", 55),
    ("GET", "/api/articles/{}", "client/src/agent.js", 57),
    ("GET", "/api/articles/{}/comments", "client/src/agent.js", 72),
    ("GET", "/api/profiles/{}", "client/src/agent.js", 79),
    ("GET", "/api/tags", "client/src/agent.js", 40),
    ("GET", "/api/user", "client/src/agent.js", 30),
    ("POST", "/api/articles", "client/src/agent.js", 63),
    ("POST", "/api/articles/{}/comments", "client/src/agent.js", 68),
    ("POST", "/api/articles/{}/favorite", "client/src/agent.js", 53),
    ("POST", "/api/profiles/{}/follow", "client/src/agent.js", 77),
    ("POST", "/api/profiles/{}/report", "client/src/agent.js", 83),
    ("POST", "/api/users", "client/src/agent.js", 34),
    ("POST", "/api/users/login", "client/src/agent.js", 32),
    ("PUT", "/api/articles/{}", "client/src/agent.js", 61),
    ("PUT", "/api/user", "client/src/agent.js", 36),
}
EXPRESS_REACT_FINDINGS = {
    ("unknown-endpoint", "client/src/agent.js", 83),
}

FLASK_VUE_ENDPOINTS = {
    ("DELETE", "/api/tokens", "app/api/tokens.py", 11),
    ("GET", "/admin/reports/audit", "app/admin/views.py", 20),
    ("GET", "/admin/reports/daily/{*}", "app/admin/views.py", 10),
    ("GET", "/admin/v1/flags", "app/admin/resources.py", 23),
    ("GET", "/admin/v1/flags/{}", "app/admin/resources.py", 24),
    ("GET", "/api/ping", "app/__init__.py", 21),
    ("GET", "/api/users", "app/api/users.py", 13),
    ("GET", "/api/users/{}", "app/api/users.py", 8),
    ("GET", "/api/users/{}/followers", "app/api/users.py", 28),
    ("GET", "/auth/login", "app/auth.py", 13),
    ("GET", "/auth/logout", "app/auth.py", 18),
    ("GET", "/auth/register", "app/auth.py", 8),
    ("POST", "/api/tokens", "app/api/tokens.py", 6),
    ("POST", "/api/users", "app/api/users.py", 18),
    ("POST", "/auth/login", "app/auth.py", 13),
    ("POST", "/auth/register", "app/auth.py", 8),
    ("PUT", "/admin/v1/flags/{}", "app/admin/resources.py", 24),
    ("PUT", "/api/users/{}", "app/api/users.py", 23),
}
FLASK_VUE_CALLS = {
    ("DELETE", "/api/users/{}", "web/src/services/users.js", 14),
    ("PUT", "/api/users/{}", "web/src/services/users.js", 11),
    ("GET", "/admin/v1/flags", "web/src/services/users.js", 22),
    ("GET", "/api/reports/daily/{}", "tools/sync.py", 37),
    ("GET", "/api/users", "web/src/services/users.js", 5),
    ("GET", "/api/users/{}", "tools/sync.py", 22),
    ("GET", "/api/users/{}", "web/src/services/users.js", 8),
    ("GET", "/api/users/{}/followers", "tools/sync.py", 25),
    ("GET", "/api/users/{}/followers", "web/src/services/users.js", 17),
    ("PATCH", "/admin/v1/flags/{}", "web/src/services/users.js", 24),
    ("PATCH", "/api/users/{}", "tools/sync.py", 28),
    ("POST", "/api/tokens", "tools/sync.py", 32),
    ("POST", "/api/tokens", "web/src/views/Login.vue", 17),
}
FLASK_VUE_FINDINGS = {
    ("method-not-allowed", "tools/sync.py", 28),
    ("unknown-endpoint", "tools/sync.py", 37),
    ("method-not-allowed", "web/src/services/users.js", 14),
    ("method-not-allowed", "web/src/services/users.js", 24),
}

OPENAPI_SVELTE_ENDPOINTS = {
    ("DELETE", "/api/articles/{}", "api/openapi.yaml", 66),
    ("GET", "/api/articles", "api/openapi.yaml", 39),
    ("GET", "/api/articles/{}", "api/openapi.yaml", 61),
    ("GET", "/api/articles/{}/comments", "api/openapi.yaml", 72),
    ("GET", "/api/profiles/{}", "api/openapi.yaml", 84),
    ("GET", "/api/user", "api/openapi.yaml", 22),
    ("POST", "/api/users/login", "api/openapi.yaml", 14),
    ("PUT", "/api/user", "api/openapi.yaml", 27),
}
OPENAPI_SVELTE_CALLS = {
    ("DELETE", "/api/articles/{}", "web/src/routes/article/[slug]/+page.server.js", 24),
    ("GET", "/api/articles", "dashboard/app/posts/page.tsx", 7),
    ("GET", "/api/articles/{}", "web/src/lib/client.ts", 43),
    ("GET", "/api/articles/{}", "web/src/routes/article/[slug]/+page.server.js", 7),
    ("GET", "/api/articles/{}/comments", "web/src/routes/article/[slug]/+page.server.js", 8),
    ("GET", "/api/articles", "web/src/lib/client.ts", 39),
    ("GET", "/api/profiles/{}", "web/src/routes/settings/+page.js", 8),
    ("GET", "/api/user", "web/src/routes/settings/+page.js", 7),
    ("GET", "/profiles/{}", "web/src/lib/generated/Api.ts", 14),
    ("POST", "/api/articles/{}/comments", "web/src/routes/article/[slug]/+page.server.js", 19),
    ("POST", "/api/articles/{}/favorite", "web/src/lib/http.ts", 9),
    ("POST", "/api/users/login", "web/src/lib/client.ts", 31),
    ("POST", "/profiles/{}/follow", "web/src/lib/generated/Api.ts", 21),
    ("PUT", "/api/articles/{}", "web/src/lib/client.ts", 47),
    ("PUT", "/api/user", "web/src/lib/http.ts", 7),
}
OPENAPI_SVELTE_FINDINGS = {
    ("method-not-allowed", "web/src/lib/client.ts", 47),
    ("unknown-endpoint", "web/src/lib/generated/Api.ts", 21),
    ("unknown-endpoint", "web/src/lib/http.ts", 9),
    ("method-not-allowed", "web/src/routes/article/[slug]/+page.server.js", 19),
}

ANGULAR_SWAGGER_ENDPOINTS = {
    ("GET", "/api/articles", "backend/swagger.json", 7),
    ("GET", "/api/articles/{}", "backend/swagger.json", 17),
    ("GET", "/api/tags", "backend/swagger.json", 33),
    ("POST", "/api/articles", "backend/swagger.json", 11),
    ("POST", "/api/profiles/{}/follow", "backend/swagger.json", 27),
    ("PUT", "/api/articles/{}", "backend/swagger.json", 21),
}
ANGULAR_SWAGGER_CALLS = {
    ("DELETE", "/api/articles/{}", "src/app/core/services/articles.service.ts", 23),
    ("DELETE", "/profiles/{}/follow", "src/app/core/services/profile.service.ts", 15),
    ("GET", "/api/articles/{}", "src/app/core/services/articles.service.ts", 19),
    ("GET", "/api/articles", "src/app/core/services/articles.service.ts", 15),
    ("GET", "/api/articles/feed", "src/app/core/services/articles.service.ts", 15),
    ("GET", "/tags", "src/app/core/services/profile.service.ts", 24),
    ("POST", "/api/articles", "src/app/core/services/articles.service.ts", 30),
    ("POST", "/profiles/{}/follow", "src/app/core/services/profile.service.ts", 11),
    ("PUT", "/api/articles/{}", "src/app/core/services/articles.service.ts", 28),
}
ANGULAR_SWAGGER_FINDINGS = {
    ("method-not-allowed", "src/app/core/services/articles.service.ts", 23),
    ("method-not-allowed", "src/app/core/services/profile.service.ts", 15),
}

NEXTJS_NUXT_ENDPOINTS = {
    ("*", "/api/health", "web/pages/api/health.ts", 3),
    ("DELETE", "/api/posts/{}", "web/app/api/posts/[id]/route.ts", 17),
    ("GET", "/api/cart/{}", "shop/server/api/cart/[id].get.ts", 1),
    ("GET", "/api/posts", "web/app/api/posts/route.ts", 6),
    ("GET", "/api/posts/{}", "web/app/api/posts/[id]/route.ts", 6),
    ("GET", "/api/todos", "kit/src/routes/api/todos/+server.ts", 4),
    ("PATCH", "/api/todos/{}", "kit/src/routes/api/todos/[id]/+server.ts", 3),
    ("POST", "/api/cart", "shop/server/api/cart/index.post.ts", 1),
    ("POST", "/api/posts", "web/app/api/posts/route.ts", 12),
    ("POST", "/api/todos", "kit/src/routes/api/todos/+server.ts", 6),
}
NEXTJS_NUXT_CALLS = {
    ("DELETE", "/api/cart/{}", "shop/composables/useCart.ts", 10),
    ("DELETE", "/api/posts/{}", "web/components/DeleteButton.tsx", 8),
    ("GET", "/api/cart/{}", "shop/composables/useCart.ts", 2),
    ("GET", "/api/cart/{}", "shop/pages/checkout.vue", 3),
    ("GET", "/api/health", "web/app/(dashboard)/posts/page.tsx", 11),
    ("GET", "/api/posts", "web/app/(dashboard)/posts/page.tsx", 8),
    ("GET", "/api/todos", "kit/src/routes/todos/+page.ts", 4),
    ("PATCH", "/api/todos/{}", "kit/src/routes/todos/+page.ts", 10),
    ("POST", "/api/cart", "shop/composables/useCart.ts", 5),
    ("POST", "/api/posts/{}/publish", "web/components/DeleteButton.tsx", 9),
}
NEXTJS_NUXT_FINDINGS = {
    ("method-not-allowed", "shop/composables/useCart.ts", 10),
    ("unknown-endpoint", "web/components/DeleteButton.tsx", 9),
}

ADMIN_DASHBOARDS_ENDPOINTS = {
    ("GET", "/api/currentUser", "docs/openapi.json", 22),
    ("GET", "/api/rule", "docs/openapi.json", 25),
    ("GET", "/vue-element-admin/article/detail", "docs/openapi.json", 19),
    ("GET", "/vue-element-admin/user/info", "docs/openapi.json", 10),
    ("POST", "/api/rule", "docs/openapi.json", 26),
    ("POST", "/vue-element-admin/user/login", "docs/openapi.json", 7),
    ("POST", "/vue-element-admin/user/logout", "docs/openapi.json", 16),
}
ADMIN_DASHBOARDS_CALLS = {
    ("DELETE", "/api/rule", "pro/src/services/ant-design-pro/api.ts", 11),
    ("GET", "/api/currentUser", "pro/src/services/ant-design-pro/api.ts", 4),
    ("GET", "/vue-element-admin/article/detail", "element-admin/src/api/user.js", 21),
    ("GET", "/vue-element-admin/user/info", "element-admin/src/api/user.js", 13),
    ("POST", "/vue-element-admin/user/login", "element-admin/src/api/user.js", 5),
    ("POST", "/vue-element-admin/user/login", "element-admin/src/views/login.vue", 17),
    ("POST", "/vue-element-admin/user/logout/{}", "element-admin/src/api/user.js", 29),
}
ADMIN_DASHBOARDS_FINDINGS = {
    ("unknown-endpoint", "element-admin/src/api/user.js", 29),
    ("method-not-allowed", "pro/src/services/ant-design-pro/api.ts", 11),
}

LAYERED_FETCH_ENDPOINTS = {
    ("GET", "/v1/me", "openapi.yml", 17),
    ("GET", "/v1/users", "openapi.yml", 9),
    ("GET", "/v1/users/{}", "openapi.yml", 14),
    ("POST", "/v1/users", "openapi.yml", 11),
}
LAYERED_FETCH_CALLS = {
    ("DELETE", "/v1/users/{}", "src/features/users.js", 6),
    ("GET", "/v1/me", "src/features/users.js", 7),
    ("GET", "/v1/users", "src/features/users.js", 4),
    ("GET", "/v1/users/{}", "src/api/http.js", 6),
    ("POST", "/v1/users", "src/features/users.js", 5),
}
LAYERED_FETCH_FINDINGS = {
    ("method-not-allowed", "src/features/users.js", 6),
}

CASES = [
    ("fastapi_react", FASTAPI_REACT_ENDPOINTS, FASTAPI_REACT_CALLS, FASTAPI_REACT_FINDINGS),
    ("express_react", EXPRESS_REACT_ENDPOINTS, EXPRESS_REACT_CALLS, EXPRESS_REACT_FINDINGS),
    ("flask_vue", FLASK_VUE_ENDPOINTS, FLASK_VUE_CALLS, FLASK_VUE_FINDINGS),
    ("openapi_svelte", OPENAPI_SVELTE_ENDPOINTS, OPENAPI_SVELTE_CALLS, OPENAPI_SVELTE_FINDINGS),
    ("nextjs_nuxt", NEXTJS_NUXT_ENDPOINTS, NEXTJS_NUXT_CALLS, NEXTJS_NUXT_FINDINGS),
    (
        "admin_dashboards",
        ADMIN_DASHBOARDS_ENDPOINTS,
        ADMIN_DASHBOARDS_CALLS,
        ADMIN_DASHBOARDS_FINDINGS,
    ),
    ("layered_fetch", LAYERED_FETCH_ENDPOINTS, LAYERED_FETCH_CALLS, LAYERED_FETCH_FINDINGS),
    ("angular_swagger", ANGULAR_SWAGGER_ENDPOINTS, ANGULAR_SWAGGER_CALLS, ANGULAR_SWAGGER_FINDINGS),
]


@pytest.mark.parametrize(
    ("name", "endpoints", "calls", "findings"), CASES, ids=[c[0] for c in CASES]
)
def test_fixture(name: str, endpoints: set, calls: set, findings: set) -> None:
    files, config = load_fixture(name)
    result = scan(files, config)
    assert {(e.method, e.path, e.file, e.line) for e in result.endpoints} == endpoints
    assert {(c.method, c.path, c.file, c.line) for c in result.calls} == calls
    got = {(f.code, f.path, f.line) for f in result.findings if f.code != "unused-endpoint"}
    assert got == findings
