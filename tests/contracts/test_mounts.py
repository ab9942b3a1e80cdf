"""Pattern 5 of #10: routers mounted the other ways real apps do it, and Python client
wrappers (`self.request("GET", ...)`, `self._get(...)`, a session wrapper)."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

ROUTES_INDEX = b"""import { Router } from 'express';
import articles from './articles';

const api = Router();
api.use('/articles', articles);

export default Router().use('/api', api);
"""

ROUTES_ARTICLES = b"""import { Router } from 'express';
const router = Router();
router.get('/', list);
router.get('/:slug', one);
export default router;
"""

SERVER_CLASS = b"""import express from 'express';
import routes from './routes';
import { adminRouter } from './admin';

class Server {
  constructor() {
    this.app = express();
    this.mount();
  }

  mount() {
    this.app.use(routes);
    this.app.use('/admin', adminRouter);
  }
}

export default new Server().app;
"""

ADMIN = b"""import { Router } from 'express';
export const adminRouter = Router();
adminRouter.get('/stats', stats);
"""

FACTORY_APP = b"""from flask import Flask

from .views import create_blueprint


def create_app():
    app = Flask(__name__)
    app.register_blueprint(create_blueprint(), url_prefix="/reports")
    app.register_blueprint(make_health())
    return app


def make_health():
    from flask import Blueprint

    health = Blueprint("health", __name__)

    @health.route("/health")
    def ok():
        return "ok"

    return health
"""

FACTORY_VIEWS = b"""from flask import Blueprint


def create_blueprint():
    bp = Blueprint("reports", __name__)

    @bp.route("/daily", methods=["GET"])
    def daily():
        return {}

    return bp
"""

CLIENT_PY = b"""import requests


class ApiClient:
    def __init__(self, base_url="http://localhost:5000"):
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method, path, **kwargs):
        return self.session.request(method, self.base_url + path, **kwargs)

    def _get(self, path):
        return self.session.get(f"{self.base_url}{path}")

    def daily(self):
        return self.request("GET", "/reports/daily")

    def health(self):
        return self._get("/health")

    def stats(self):
        return self.request("POST", "/reports/daily")
"""


def test_mounts_on_constructor_calls_methods_and_factories() -> None:
    files = {
        "server/src/routes/index.js": ROUTES_INDEX,
        "server/src/routes/articles.js": ROUTES_ARTICLES,
        "server/src/server.js": SERVER_CLASS,
        "server/src/admin.js": ADMIN,
        "flaskapp/app/__init__.py": FACTORY_APP,
        "flaskapp/app/views.py": FACTORY_VIEWS,
    }
    result = scan(files, ContractsConfig())
    assert {(e.method, e.path, e.file, e.line) for e in result.endpoints} == {
        ("GET", "/api/articles", "server/src/routes/articles.js", 3),
        ("GET", "/api/articles/{}", "server/src/routes/articles.js", 4),
        ("GET", "/admin/stats", "server/src/admin.js", 3),
        ("GET", "/reports/daily", "flaskapp/app/views.py", 7),
        ("GET", "/health", "flaskapp/app/__init__.py", 18),
    }


def test_python_client_wrappers() -> None:
    files = {
        "flaskapp/app/__init__.py": FACTORY_APP,
        "flaskapp/app/views.py": FACTORY_VIEWS,
        "tools/client.py": CLIENT_PY,
    }
    result = scan(files, ContractsConfig(consumer=("tools/**",)))
    assert {(c.method, c.path, c.file, c.line) for c in result.calls} == {
        ("GET", "/reports/daily", "tools/client.py", 16),
        ("GET", "/health", "tools/client.py", 19),
        ("POST", "/reports/daily", "tools/client.py", 22),
    }
    assert [(f.code, f.line) for f in result.findings if f.severity == "error"] == [
        ("method-not-allowed", 22)
    ]
