"""Pattern 2 of #10: clients reached indirectly, recognised by what they are bound to."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

SERVER = b"""const express = require('express');
const app = express();
app.get('/api/tags', h);
app.get('/api/articles/:slug', h);
app.delete('/api/articles/:slug', h);
app.get('/api/profiles/:username', h);
app.post('/api/users/login', h);
app.get('/api/user', h);
"""

AGENT = b"""import superagentPromise from 'superagent-promise';
import _superagent from 'superagent';

const superagent = superagentPromise(_superagent, global.Promise);
const API_ROOT = 'https://api.example.org/api';
const responseBody = res => res.body;

const requests = {
  del: url => superagent.del(`${API_ROOT}${url}`).then(responseBody),
  get: url => superagent.get(`${API_ROOT}${url}`).then(responseBody),
};

export const Tags = { getAll: () => requests.get('/tags') };
export const Articles = {
  get: slug => requests.get(`/articles/${slug}`),
  del: slug => requests.del(`/articles/${slug}`),
};
"""

MAIN_JS = b"""import Vue from 'vue';
import axios from 'axios';
import VueAxios from 'vue-axios';
import App from './App.vue';

Vue.use(VueAxios, axios);
axios.defaults.baseURL = 'https://api.example.org/api';
new Vue({ render: h => h(App) }).$mount('#app');
"""

PROFILE_VUE = b"""<template><div>{{ profile.username }}</div></template>
<script>
import Vue from 'vue';
export default {
  methods: {
    load(name) {
      return Vue.axios.get(`/profiles/${name}`);
    },
    login(user) {
      return this.$http.post('/users/login', { user });
    },
    me() {
      return this.axios.get('/user');
    },
  },
};
</script>
"""

HTTP_JS = b"""import axios from 'axios';
export default axios.create({ baseURL: 'https://api.example.org/api' });
"""

USE_HTTP_JS = b"""import http from './http';
const body = (x) => (r) => r.data[x];

export const tags = () => http.get('/tags').then(body('tags'));
export const user = () => http.get('/user').then(body('user'));
"""

SERVICE_JS = b"""import axios from 'axios';

class ApiService {
  constructor(client) {
    this.client = client;
  }

  article(slug) {
    return this.client.get(`/articles/${slug}`);
  }
}

export const api = new ApiService(axios.create({ baseURL: '/api' }));
"""


def test_clients_through_adapters_plugins_instances_and_constructors() -> None:
    files = {
        "server/app.js": SERVER,
        "web/src/agent.js": AGENT,
        "vue/src/main.js": MAIN_JS,
        "vue/src/views/Profile.vue": PROFILE_VUE,
        "lib/src/http.js": HTTP_JS,
        "lib/src/users.js": USE_HTTP_JS,
        "svc/src/service.js": SERVICE_JS,
    }
    result = scan(files, ContractsConfig())
    assert {(c.method, c.path, c.file, c.line) for c in result.calls} == {
        ("GET", "/api/tags", "web/src/agent.js", 13),
        ("GET", "/api/articles/{}", "web/src/agent.js", 15),
        ("DELETE", "/api/articles/{}", "web/src/agent.js", 16),
        ("GET", "/api/profiles/{}", "vue/src/views/Profile.vue", 7),
        ("POST", "/api/users/login", "vue/src/views/Profile.vue", 10),
        ("GET", "/api/user", "vue/src/views/Profile.vue", 13),
        ("GET", "/api/tags", "lib/src/users.js", 4),
        ("GET", "/api/user", "lib/src/users.js", 5),
        ("GET", "/api/articles/{}", "svc/src/service.js", 9),
    }
    # resolved calls chained with `.then(f(x))` give no "could not work out the URL" notice
    assert [(f.code, f.path, f.line) for f in result.findings if f.code != "unused-endpoint"] == []


def test_base_classes_and_client_methods_kept_in_objects() -> None:
    files = {
        "server/app.js": SERVER,
        "web/src/api/base.ts": b"""import axios, { AxiosInstance } from 'axios';
export default class BaseApi {
  api: AxiosInstance;
  constructor() {
    this.api = axios.create({ baseURL: '/api' });
  }
}
""",
        "web/src/api/tags.ts": b"""import BaseApi from './base';
export default class TagsApi extends BaseApi {
  async all() {
    return this.api.get('/tags');
  }
}
""",
        "web/src/services/http.js": b"""import axios from 'axios';
axios.defaults.baseURL = 'http://localhost:3000/api';
export default { get: axios.get, post: axios.post };
""",
        "web/src/store/users.js": b"""import http from '@/services/http';
const base = 'users';
export const login = (creds) => http.post(`${base}/login`, creds);
export const me = () => http.get('user');
""",
    }
    result = scan(files, ContractsConfig())
    assert {(c.method, c.path, c.file, c.line) for c in result.calls} == {
        ("GET", "/api/tags", "web/src/api/tags.ts", 4),
        ("POST", "/api/users/login", "web/src/store/users.js", 3),
        ("GET", "/api/user", "web/src/store/users.js", 4),
    }
