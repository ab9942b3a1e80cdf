"""A Django frontend calling the API with `requests` (#10, causes D1 and D2 of bench/corpus):
URLs from `django.conf.settings` (the module `DJANGO_SETTINGS_MODULE` names), and wrapper
functions whose path is a settings constant plus a parameter, reported where the URL is
written."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

MANAGE = b"""import os
import sys

if __name__ == "__main__":
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_ui.settings')
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""

SETTINGS = b"""DEBUG = True
API_URL = 'http://127.0.0.1:5555/api/subnets'
API_URL_SINGLE = 'http://127.0.0.1:5555/api/subnet'
"""

# Another `settings.py` nearer by name only: not the one DJANGO_SETTINGS_MODULE names.
DECOY = b"""API_URL = 'http://127.0.0.1:5555/api/decoy'
"""

REQUEST_JSON = b"""from django.conf import settings
import requests


def post_new_route(ip_addr):
    return requests.post(settings.API_URL, json={'ip': ip_addr})


def delete_route(ident):
    return requests.delete(settings.API_URL_SINGLE + "/" + ident)


def get_one_route(ident):
    return requests.get(
        settings.API_URL_SINGLE + "/" + ident)


def fetch(path):
    return requests.get(settings.API_URL_SINGLE + path)
"""

VIEWS = b"""from django.conf import settings
import requests
import route_manager.request_json as rq_json


def dashboard(request):
    routes = requests.get(settings.API_URL)
    rq_json.delete_route(request.POST['id'])
    return routes
"""

BACKEND = b"""from flask import Flask, Blueprint
from flask_restful import Api, Resource

app = Flask(__name__)
bp = Blueprint('api', __name__)
api = Api(bp)


class Subnets(Resource):
    def get(self):
        return []

    def post(self):
        return {}


class Subnet(Resource):
    def get(self, subnet_id):
        return {}


api.add_resource(Subnets, '/subnets')
api.add_resource(Subnet, '/subnet/<subnet_id>')
app.register_blueprint(bp, url_prefix='/api')
"""


CONFIG = ContractsConfig(provider=("backend/**",), consumer=("frontend/**",))


def _files() -> dict[str, bytes]:
    return {
        "frontend/manage.py": MANAGE,
        "frontend/site_ui/settings.py": SETTINGS,
        "frontend/route_manager/settings.py": DECOY,
        "frontend/route_manager/request_json.py": REQUEST_JSON,
        "frontend/site_ui/views.py": VIEWS,
        "backend/app.py": BACKEND,
    }


def test_settings_values_and_wrapper_lines() -> None:
    result = scan(_files(), CONFIG)
    rq, views = "frontend/route_manager/request_json.py", "frontend/site_ui/views.py"
    assert sorted((c.method, c.path, c.file, c.line) for c in result.calls) == [
        ("DELETE", "/api/subnet/{}", rq, 10),  # where the URL is written
        ("GET", "/api/subnet/{}", rq, 15),  # the URL's line, not the call's
        ("GET", "/api/subnets", views, 7),
        ("POST", "/api/subnets", rq, 6),
    ]
    # `fetch(path)` passes its path through: reported only where it is called (nowhere)
    errors = sorted(
        (f.code, f.method, f.path, f.line) for f in result.findings if f.severity == "error"
    )
    assert errors == [
        ("method-not-allowed", "DELETE", rq, 10),
    ]
    assert not [f for f in result.findings if f.code == "unresolved-call"]


def test_without_a_settings_module_named_the_nearest_settings_is_read() -> None:
    files = _files()
    del files["frontend/manage.py"]
    del files["frontend/route_manager/settings.py"]
    result = scan(files, CONFIG)
    assert ("GET", "/api/subnets", "frontend/site_ui/views.py", 7) in {
        (c.method, c.path, c.file, c.line) for c in result.calls
    }
