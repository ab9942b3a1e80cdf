"""Provider routes of cause F of bench/corpus (#10): the methods of Next.js `pages/api` handlers
read from how they test `req.method`, catch-all file routes, Express's `app.get('*')`."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

USER = b"""import { withMethods } from "@/lib/api-middlewares/with-methods"

async function handler(req, res) {
  if (req.method === "PATCH") {
    return res.end()
  }
}

export default withMethods(["PATCH"], handler)
"""

POSTS = b"""export default async function handler(req, res) {
  const session = await getSession(req)
  if (!session) {
    return res.status(403).end()
  }
  switch (req.method) {
    case 'GET':
      return res.json([])
    case "POST":
      return res.status(201).json({})
    default:
      res.setHeader('Allow', 'GET, POST')
      return res.status(405).end()
  }
}
"""

UPLOAD = b"""export default function handler(req, res) {
  if (req.method !== 'POST') {
    return res.status(405).end()
  }
  return res.json({ ok: true })
}
"""

TAGS = b"""export default function handler(req, res) {
  if (['GET', 'HEAD'].includes(req.method)) {
    return res.json([])
  }
  res.status(405).end()
}
"""

# Each of these may answer more than it tests: any method.
FALLS_THROUGH = b"""export default function handler(req, res) {
  if (req.method === 'GET') {
    return res.json([])
  }
  return res.json(create(req.body))
}
"""

ELSE = b"""export default function handler(req, res) {
  if (req.method === 'GET') {
    res.json([])
  } else {
    res.json(create(req.body))
  }
}
"""

TERNARY = b"""export default function handler(req, res) {
  return req.method === 'GET' ? res.json([]) : res.json(create(req.body))
}
"""

DISPATCH = b"""const handlers = { GET: list, POST: create }
export default function handler(req, res) {
  if (req.method === 'DELETE') return res.status(405).end()
  return handlers[req.method](req, res)
}
"""

NEXTAUTH = b"""import NextAuth from "next-auth"
export default NextAuth(authOptions)
"""

CLIENT = b"""export const rename = (id, name) =>
  fetch(`/api/users/${id}`, { method: 'PATCH', body: name })
export const drop = (id) => fetch(`/api/users/${id}`, { method: 'DELETE' })
export const posts = () => fetch('/api/posts')
export const purge = () => fetch('/api/posts', { method: 'DELETE' })
export const upload = () => fetch('/api/upload', { method: 'PUT' })
export const tags = () => fetch('/api/tags', { method: 'HEAD' })
export const session = () => fetch('/api/auth/session')
export const other = () => fetch('/api/fall-through', { method: 'POST' })
"""


def test_pages_api_methods_from_method_tests_and_guards() -> None:
    files = {
        "pages/api/users/[userId].ts": USER,
        "pages/api/posts/index.ts": POSTS,
        "pages/api/upload.ts": UPLOAD,
        "pages/api/tags.js": TAGS,
        "pages/api/fall-through.ts": FALLS_THROUGH,
        "pages/api/else.ts": ELSE,
        "pages/api/ternary.ts": TERNARY,
        "pages/api/dispatch.ts": DISPATCH,
        "pages/api/auth/[...nextauth].ts": NEXTAUTH,
        "components/client.tsx": CLIENT,
    }
    result = scan(files, ContractsConfig())
    assert sorted((e.method, e.path, e.file, e.line) for e in result.endpoints) == [
        ("*", "/api/auth/{*}", "pages/api/auth/[...nextauth].ts", 2),  # not `{{*}}`
        ("*", "/api/dispatch", "pages/api/dispatch.ts", 2),
        ("*", "/api/else", "pages/api/else.ts", 1),
        ("*", "/api/fall-through", "pages/api/fall-through.ts", 1),
        ("*", "/api/ternary", "pages/api/ternary.ts", 1),
        ("GET", "/api/posts", "pages/api/posts/index.ts", 7),
        ("GET", "/api/tags", "pages/api/tags.js", 2),
        ("HEAD", "/api/tags", "pages/api/tags.js", 2),
        ("PATCH", "/api/users/{}", "pages/api/users/[userId].ts", 4),  # the test's line
        ("POST", "/api/posts", "pages/api/posts/index.ts", 9),
        ("POST", "/api/upload", "pages/api/upload.ts", 2),
    ]
    errors = sorted(
        (f.code, f.method, f.path, f.line) for f in result.findings if f.severity == "error"
    )
    assert errors == [
        ("method-not-allowed", "DELETE", "components/client.tsx", 3),
        ("method-not-allowed", "DELETE", "components/client.tsx", 5),
        ("method-not-allowed", "PUT", "components/client.tsx", 6),
    ]


def test_renamed_pages_api_file_is_an_error_where_a_catch_all_method_hid_it() -> None:
    base = {
        "pages/api/users/[userId].ts": USER,
        "pages/api/users/stripe.ts": USER.replace(b"PATCH", b"GET"),
        "components/billing.tsx": b"export const go = () => fetch('/api/users/stripe')\n",
    }
    head = dict(base)
    head["pages/api/users/stripe-renamed.ts"] = head.pop("pages/api/users/stripe.ts")
    result = scan(head, ContractsConfig(), base_files=base)
    # GET /api/users/stripe no longer reaches PATCH /api/users/[userId]
    assert [(f.code, f.path, f.line) for f in result.findings if f.severity == "error"] == [
        ("removed-endpoint", "components/billing.tsx", 1)
    ]


SERVER = b"""const express = require('express')
const app = express()

app.get('/api/products', list)
app.post('/api/products', create)

if (process.env.NODE_ENV === 'production') {
  app.get('*', (req, res) => res.sendFile('index.html'))
}
app.all('*', (req, res) => res.status(404).end())
"""

SHOP = b"""import axios from 'axios'
export const products = () => axios.get('/api/products')
export const orders = () => axios.get('/api/orders')
export const pay = () => axios.put('/api/products')
"""


def test_express_catch_all_is_reported_and_answers_no_api_call() -> None:
    result = scan({"backend/server.js": SERVER, "frontend/src/shop.js": SHOP}, ContractsConfig())
    assert sorted((e.method, e.path, e.file, e.line) for e in result.endpoints) == [
        ("*", "/{*}", "backend/server.js", 10),
        ("GET", "/api/products", "backend/server.js", 4),
        ("GET", "/{*}", "backend/server.js", 8),
        ("POST", "/api/products", "backend/server.js", 5),
    ]
    errors = sorted(
        (f.code, f.method, f.path, f.line) for f in result.findings if f.severity == "error"
    )
    # the fallback page and the 404 handler do not serve /api/orders, nor PUT /api/products
    assert errors == [
        ("method-not-allowed", "PUT", "frontend/src/shop.js", 4),
        ("unknown-endpoint", "GET", "frontend/src/shop.js", 3),
    ]
    assert not [f for f in result.findings if f.code == "unused-endpoint" and "{*}" in f.endpoint]


def test_a_catch_all_that_is_the_only_route_serves_every_call() -> None:
    server = b"""const app = require('express')()
app.all('*', proxy)
"""
    result = scan({"backend/server.js": server, "frontend/src/shop.js": SHOP}, ContractsConfig())
    assert [f for f in result.findings if f.severity == "error"] == []


def test_a_file_based_catch_all_at_the_root_is_a_handler_of_its_own() -> None:
    files = {
        "app/[...path]/route.ts": b"export async function GET(request) { return proxy(request) }\n",
        "app/api/items/route.ts": b"export async function GET() { return Response.json([]) }\n",
        "components/list.tsx": b"export const load = () => fetch('/reports/2024')\n",
    }
    result = scan(files, ContractsConfig())
    assert ("GET", "/{*}") in {(e.method, e.path) for e in result.endpoints}
    assert [f for f in result.findings if f.severity == "error"] == []


DOCS_FORM = b"""export default async function handler(req, res) {
  const { query, method } = req
  switch (method) {
    case 'GET':
      return res.status(200).json({ id: query.id })
    case 'PUT':
      return res.status(200).json({ id: query.id })
    default:
      res.setHeader('Allow', ['GET', 'PUT'])
      res.status(405).end(`Method ${method} Not Allowed`)
  }
}
"""

ALIASED = b"""export default function handler(req, res) {
  const verb = req.method
  if (verb === 'DELETE') {
    return res.status(204).end()
  }
  return res.status(405).end()
}
"""

SHADOWED = b"""export default function handler(req, res) {
  const { method } = req.body
  if (method === 'GET') {
    return res.json(run(req.body))
  }
  return res.json(other(req.body))
}
"""


def test_the_method_read_into_a_variable() -> None:
    files = {
        "pages/api/user/[id].ts": DOCS_FORM,
        "pages/api/items/[id].js": ALIASED,
        "pages/api/rpc.js": SHADOWED,
    }
    result = scan(files, ContractsConfig())
    assert sorted((e.method, e.path, e.line) for e in result.endpoints) == [
        ("*", "/api/rpc", 1),  # falls through to another answer
        ("DELETE", "/api/items/{}", 3),
        ("GET", "/api/user/{}", 4),
        ("PUT", "/api/user/{}", 6),
    ]


def test_a_list_of_method_names_guards_only_when_given_to_a_call_about_methods() -> None:
    files = {
        "pages/api/a.ts": b"""export default function handler(req, res) {
  return res.json(pick(['GET'], req.method))
}
""",
        "pages/api/b.ts": b"""export default function handler(req, res) {
  console.log(req.method)
  return res.json(labels(['GET', 'POST']))
}
""",
    }
    result = scan(files, ContractsConfig())
    # `a` passes the method on (any method); `b` holds method names for something else
    assert sorted((e.method, e.path) for e in result.endpoints) == [
        ("*", "/api/a"),
        ("*", "/api/b"),
    ]
