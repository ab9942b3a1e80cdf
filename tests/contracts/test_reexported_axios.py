"""An object re-exporting axios's methods, and one request whose URL and method come from the
same condition (#10, causes A2 and C of bench/corpus):
`export default { get: axios.get, ..., wrapper: axios }`, then in another module
`http.wrapper({ url: id ? `${base}/${id}` : base, method: id ? 'PUT' : 'POST' })`."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

HTTP = b"""import axios from 'axios';

axios.defaults.baseURL = 'http://localhost:5000/api';

export default {
    get: axios.get,
    post: axios.post,
    put: axios.put,
    delete: axios.delete,
    wrapper: axios,
};
"""

AUTHORS = b"""import http from '@/services/http';

const baseURL = 'authors';

export default {
    actions: {
        async getAuthor(ctx, id) {
            return http.get(`${baseURL}/${id}`);
        },
        async saveAuthor(ctx, payload) {
            const { id } = payload;
            const url = id ? `${baseURL}/${id}` : baseURL;
            const method = id ? 'PUT' : 'POST';
            return http.wrapper({
                url,
                method,
                data: payload,
            });
        },
        async deleteAuthor(ctx, id) {
            await http.delete(`${baseURL}/${id}`);
        },
        async login(ctx, credentials) {
            return http.post('auth/login', credentials);
        },
        async guess(ctx, payload) {
            return http.wrapper({ url: `${baseURL}/${payload.id}`, method: payload.verb });
        },
    },
};
"""

BACKEND = b"""from flask import Flask

app = Flask(__name__)


@app.route('/api/authors', methods=['POST'])
def create(): ...


@app.route('/api/authors/<int:id>', methods=['GET', 'PUT'])
def one(id): ...


@app.post('/api/auth/login')
def login(): ...
"""


def test_reexported_methods_and_paired_alternatives() -> None:
    files = {
        "ui/src/services/http.js": HTTP,
        "ui/src/store/authors.js": AUTHORS,
        "app/views.py": BACKEND,
    }
    result = scan(files, ContractsConfig())
    authors = "ui/src/store/authors.js"
    assert sorted((c.method, c.path, c.file, c.line) for c in result.calls) == [
        ("*", "/api/authors/{}", authors, 27),  # a method Baton cannot know is any method
        ("DELETE", "/api/authors/{}", authors, 21),
        ("GET", "/api/authors/{}", authors, 8),
        ("POST", "/api/auth/login", authors, 24),  # the base set on axios.defaults
        ("POST", "/api/authors", authors, 15),  # the url's line; POST goes with the base alone
        ("PUT", "/api/authors/{}", authors, 15),  # and PUT with `${baseURL}/${id}`
    ]
    errors = sorted(
        (f.code, f.method, f.path, f.line) for f in result.findings if f.severity == "error"
    )
    # DELETE is not served; never `PUT /api/authors` nor `POST /api/authors/{}`
    assert errors == [("method-not-allowed", "DELETE", authors, 21)]


def test_a_method_not_chosen_with_the_url_is_any_method() -> None:
    store = b"""import http from '@/services/http';

export async function upsert(payload) {
    let method = 'POST';
    if (payload.id) method = 'PUT';
    return http.wrapper({ url: 'authors', method });
}

export async function toggle(flag, id) {
    const url = id ? `authors/${id}` : 'authors';
    return http.wrapper({ url, method: flag ? 'PUT' : 'DELETE' });
}
"""
    files = {"ui/src/services/http.js": HTTP, "ui/src/store/s.js": store, "app/views.py": BACKEND}
    result = scan(files, ContractsConfig())
    assert sorted((c.method, c.path, c.line) for c in result.calls) == [
        ("*", "/api/authors", 6),
        ("*", "/api/authors", 11),
        ("*", "/api/authors/{}", 11),
    ]
    assert [f for f in result.findings if f.severity == "error"] == []
