"""An axios instance made in a base class's constructor, used by subclasses in other modules
(#10, cause A3 of bench/corpus):
`class Pokemon extends fetchApi { ... this.api.get('/pokemon') }`."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

FETCH_API = b"""import axios, { AxiosInstance } from 'axios';

export default class fetchApi {
  api: AxiosInstance;

  constructor() {
    this.api = axios.create({
      withCredentials: true,
      baseURL: `${process.env.REACT_APP_SERVER_URL}/v1`,
    });
  }
}
"""

POKEMON = b"""import fetchApi from './fetchApi';

export default class Pokemon extends fetchApi {
  async list() {
    const response = await this.api.get('/pokemon');
    return response.data;
  }

  async remove(id: number) {
    await this.api.delete(`/pokemon/${id}`);
  }
}
"""

# A subclass of a class of the same file: the base's members are there at extraction.
LOCAL = b"""import axios from 'axios';

class Base {
  constructor() {
    this.http = axios.create({ baseURL: '/v1' });
  }
}

export class Types extends Base {
  all() {
    return this.http.get('/types');
  }
}
"""

SERVER = b"""const express = require('express');
const app = express();
const router = express.Router();
router.get('/pokemon', list);
router.delete('/pokemon/:id', remove);
app.use('/v1', router);
"""


def test_subclasses_use_the_instance_their_base_class_makes() -> None:
    files = {
        "frontend/src/api/fetchApi.tsx": FETCH_API,
        "frontend/src/api/fetchPokemon.tsx": POKEMON,
        "frontend/src/api/types.js": LOCAL,
        "backend/server.js": SERVER,
    }
    result = scan(files, ContractsConfig())
    pokemon = "frontend/src/api/fetchPokemon.tsx"
    assert sorted((c.method, c.path, c.file, c.line) for c in result.calls) == [
        ("DELETE", "/v1/pokemon/{}", pokemon, 10),
        ("GET", "/v1/pokemon", pokemon, 5),
        ("GET", "/v1/types", "frontend/src/api/types.js", 11),
    ]
    assert [(f.code, f.path, f.line) for f in result.findings if f.severity == "error"] == [
        ("unknown-endpoint", "frontend/src/api/types.js", 11)
    ]
