"""Flask-RESTful providers (#10, cause F1 of bench/corpus): `Api(...)` and `add_resource`, the
methods read from the Resource class wherever it is defined, the `Api` declared in another
module or passed to a function, blueprint prefixes, paths built by `.format` and f-strings."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

USER_INIT = b"""from flask import Blueprint
from flask_restful import Api

user_bp = Blueprint('user_bp', __name__)
user_api = Api(user_bp)

from app.user import controllers
"""

USER_RESOURCES = b"""from flask_restful import Resource


class Base(Resource):
    def delete(self, user_id):
        return '', 204


class User(Base):
    def get(self, user_id):
        return {}

    def put(self, user_id):
        return {}


class Session(Resource):
    def post(self):
        return {}
"""

USER_CONTROLLERS = b"""from app import app
from app.user import user_bp, user_api
from app.user.resources import User, Session

user_api.add_resource(User, '/users/<int:user_id>', endpoint='user')
user_api.add_resource(Session, '/session', '/login')
"""

APP_INIT = b"""from flask import Flask

app = Flask(__name__)


def create_app():
    from app.user import user_bp
    app.register_blueprint(user_bp, url_prefix='/api')
    return app
"""

LIBRARY_INIT = b"""from flask import Flask
from flask_restful import Api

from library.routes import create_routes

api = Api(prefix='/v1')
create_routes(api)


def create_app():
    app = Flask(__name__)
    api.init_app(app)
    return app
"""

LIBRARY_ROUTES = b"""from flask_restful import Resource

from library.resources import BookAPI, BookListAPI


class MeAPI(Resource):
    def get(self):
        return {}


def create_routes(api):
    route = '/auth'
    api.add_resource(MeAPI, '{}/me'.format(route))

    route = '/books'
    api.add_resource(BookListAPI, route)
    api.add_resource(BookAPI, f'{route}/<int:id>')
"""

LIBRARY_RESOURCES = b"""from flask_restful import Resource


class BookListAPI(Resource):
    def get(self):
        return []

    def post(self):
        return {}, 201


class BookAPI(Resource):
    def get(self, id):
        return {}

    def patch(self, id):
        return {}
"""

WEB = b"""import axios from 'axios';

export const me = () => axios.get('/v1/auth/me');
export const books = () => axios.get('/v1/books');
export const addBook = (b) => axios.post('/v1/books', b);
export const editBook = (id, b) => axios.patch(`/v1/books/${id}`, b);
export const dropBook = (id) => axios.delete(`/v1/books/${id}`);
export const user = (id) => axios.get(`/api/users/${id}`);
export const login = (c) => axios.post('/api/login', c);
export const logout = () => axios.delete('/api/session');
"""

AIOHTTP = b"""from aiohttp import web

app = web.Application()
resource = app.router.add_resource('/road/{id}', name='road')
resource.add_route('GET', handler)
"""


def _files() -> dict[str, bytes]:
    return {
        "api/app/__init__.py": APP_INIT,
        "api/app/user/__init__.py": USER_INIT,
        "api/app/user/resources.py": USER_RESOURCES,
        "api/app/user/controllers.py": USER_CONTROLLERS,
        "api/library/__init__.py": LIBRARY_INIT,
        "api/library/routes.py": LIBRARY_ROUTES,
        "api/library/resources.py": LIBRARY_RESOURCES,
        "api/other.py": AIOHTTP,
        "web/src/api.js": WEB,
    }


def test_resources_methods_api_in_other_modules_prefixes_and_formatted_paths() -> None:
    result = scan(_files(), ContractsConfig())
    controllers, routes = "api/app/user/controllers.py", "api/library/routes.py"
    assert {(e.method, e.path, e.file, e.line) for e in result.endpoints} == {
        # User inherits Base.delete; Session answers two paths
        ("GET", "/api/users/{}", controllers, 5),
        ("PUT", "/api/users/{}", controllers, 5),
        ("DELETE", "/api/users/{}", controllers, 5),
        ("POST", "/api/session", controllers, 6),
        ("POST", "/api/login", controllers, 6),
        # `route` is the value assigned just before each call; the Api's prefix applies
        ("GET", "/v1/auth/me", routes, 13),
        ("GET", "/v1/books", routes, 16),
        ("POST", "/v1/books", routes, 16),
        ("GET", "/v1/books/{}", routes, 17),
        ("PATCH", "/v1/books/{}", routes, 17),
    }
    errors = [(f.code, f.path, f.line) for f in result.findings if f.severity == "error"]
    # DELETE /v1/books/{} and DELETE /api/session are not among the Resource's methods
    assert errors == [
        ("method-not-allowed", "web/src/api.js", 7),
        ("method-not-allowed", "web/src/api.js", 10),
    ]


def test_renamed_resource_path_is_an_error_at_the_calling_line() -> None:
    base = _files()
    head = dict(base)
    head["api/library/routes.py"] = LIBRARY_ROUTES.replace(b"route = '/books'", b"route = '/tomes'")
    result = scan(head, ContractsConfig(), base_files=base)
    errors = {(f.code, f.method, f.path, f.line) for f in result.findings if f.severity == "error"}
    assert errors == {
        ("removed-endpoint", "GET", "web/src/api.js", 4),
        ("removed-endpoint", "POST", "web/src/api.js", 5),
        ("removed-endpoint", "PATCH", "web/src/api.js", 6),
        ("unknown-endpoint", "DELETE", "web/src/api.js", 7),  # was method-not-allowed
        ("method-not-allowed", "DELETE", "web/src/api.js", 10),  # already there in base
    }
