"""Functions that build a URL from their arguments and send nothing themselves (#10, causes B
and D of bench/corpus): orval's `getGetUserUrl(id)` next to the `fetch` that uses it, and a
helper imported from another module (`appendQueryString(baseURL, queryString)`)."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

ORVAL = b"""export const getGetUserUrl = (id: string,) => {


  return `http://localhost:3333/users/${id}`
}

export const getUser = async (id: string, options?: RequestInit) => {
  const res = await fetch(getGetUserUrl(id),
  {
    ...options,
    method: 'GET'
  })
  return res.json()
}

export const getRemoveUserUrl = ({ userId }: { userId: string }) =>
  `http://localhost:3333/users/${userId}/remove`

export const removeUser = async (userId: string) =>
  fetch(getRemoveUserUrl({ userId }), { method: 'POST' })
"""

FUNCTIONS = b"""export const appendQueryString = (baseURL, queryString) => {
    if (!queryString) {
        return baseURL;
    }
    return `${baseURL}?${queryString}`;
};
"""

STORE = b"""import axios from 'axios';
import { appendQueryString } from '@/utils/functions';

const baseURL = '/api/books';

export async function getBooks(queryString = '') {
    const url = appendQueryString(baseURL, queryString);
    return axios.get(url);
}
"""

SERVER = b"""const app = require('express')();
app.get('/users/:id', one);
app.post('/users/:id/remove', remove);
app.get('/api/books', books);
"""


def test_url_functions_local_and_imported() -> None:
    files = {
        "web/src/http/users.ts": ORVAL,
        "web/src/utils/functions.js": FUNCTIONS,
        "web/src/store/books.js": STORE,
        "server/index.js": SERVER,
    }
    result = scan(files, ContractsConfig())
    assert sorted((c.method, c.path, c.file, c.line) for c in result.calls) == [
        ("GET", "/api/books", "web/src/store/books.js", 8),
        ("GET", "/users/{}", "web/src/http/users.ts", 8),
        ("POST", "/users/{}/remove", "web/src/http/users.ts", 20),
    ]
    assert [f for f in result.findings if f.severity != "notice"] == []
    assert not [f for f in result.findings if f.code == "unresolved-call"]


def test_a_renamed_route_is_an_error_where_the_built_url_is_sent() -> None:
    base = {"web/src/http/users.ts": ORVAL, "server/index.js": SERVER}
    head = {**base, "server/index.js": SERVER.replace(b"/users/:id'", b"/people/:id'")}
    result = scan(head, ContractsConfig(), base_files=base)
    errors = [(f.code, f.method, f.path, f.line) for f in result.findings if f.severity == "error"]
    assert errors == [("removed-endpoint", "GET", "web/src/http/users.ts", 8)]
