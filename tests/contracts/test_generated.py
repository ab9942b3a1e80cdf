"""Pattern 4 of #10: clients generated from OpenAPI. A call's line is the line where its URL
is written; where the app calls a generated method, the call is also at that app line."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

SPEC = b"""openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /users/login:
    post: {responses: {'200': {description: ok}}}
  /articles/{slug}:
    get: {responses: {'200': {description: ok}}}
"""

# swagger-typescript-api
STA_API = b"""import { HttpClient, RequestParams } from './http-client';

export class Api<SecurityDataType extends unknown> extends HttpClient<SecurityDataType> {
  users = {
    login: (data: LoginUser, params: RequestParams = {}) =>
      this.request<UserResponse, GenericErrorModel>({
        path: `/users/login`,
        method: "POST",
        body: data,
        ...params,
      }),
  };
}
"""
STA_APP = b"""import { Api } from './generated/Api';

const api = new Api({ baseUrl: '' });

export async function signIn(email: string, password: string) {
  return api.users.login({ user: { email, password } });
}
"""

# openapi-typescript-codegen
CODEGEN = b"""import { OpenAPI } from '../core/OpenAPI';
import { request as __request } from '../core/request';

export class ArticlesService {
  public static getArticle(slug: string): CancelablePromise<Article> {
    return __request(OpenAPI, {
      method: 'GET',
      url: '/articles/{slug}',
      path: { slug: slug },
    });
  }
}
"""
CODEGEN_APP = b"""import { ArticlesService } from './client/services/ArticlesService';

export const load = async (slug) => {
  const article = await ArticlesService.getArticle(slug);
  return article;
};
"""

# openapi-generator, typescript-fetch
FETCH_GEN = b"""import * as runtime from '../runtime';

export class UserApi extends runtime.BaseAPI {
    async loginRaw(requestParameters, initOverrides) {
        const response = await this.request({
            path: `/users/login`,
            method: 'POST',
            headers: headerParameters,
        }, initOverrides);
        return new runtime.JSONApiResponse(response);
    }

    async login(requestParameters, initOverrides) {
        const response = await this.loginRaw(requestParameters, initOverrides);
        return await response.value();
    }
}
"""
FETCH_APP = b"""import { UserApi } from './openapi/apis/UserApi';

const users = new UserApi();

export function submit(form) {
  return users.login({ body: form });
}
"""


def test_generated_clients_at_the_url_line_and_the_app_call_sites() -> None:
    files = {
        "api/openapi.yaml": SPEC,
        "web/src/generated/Api.ts": STA_API,
        "web/src/auth.ts": STA_APP,
        "spa/src/client/services/ArticlesService.ts": CODEGEN,
        "spa/src/article.js": CODEGEN_APP,
        "ng/src/openapi/apis/UserApi.ts": FETCH_GEN,
        "ng/src/login.ts": FETCH_APP,
    }
    result = scan(files, ContractsConfig())
    assert {(c.method, c.path, c.file, c.line) for c in result.calls} == {
        ("POST", "/users/login", "web/src/generated/Api.ts", 7),
        ("POST", "/users/login", "web/src/auth.ts", 6),
        ("GET", "/articles/{}", "spa/src/client/services/ArticlesService.ts", 8),
        ("GET", "/articles/{}", "spa/src/article.js", 4),
        ("POST", "/users/login", "ng/src/openapi/apis/UserApi.ts", 6),
        ("POST", "/users/login", "ng/src/login.ts", 6),
    }
    assert [f for f in result.findings if f.code != "unused-endpoint"] == []


def test_drift_in_a_generated_client_is_reported_at_the_app_call_site_too() -> None:
    files = {
        "api/openapi.yaml": SPEC.replace(b"/users/login", b"/users/signin"),
        "web/src/generated/Api.ts": STA_API,
        "web/src/auth.ts": STA_APP,
    }
    result = scan(files, ContractsConfig())
    assert sorted((f.code, f.path, f.line) for f in result.findings if f.severity == "error") == [
        ("unknown-endpoint", "web/src/auth.ts", 6),
        ("unknown-endpoint", "web/src/generated/Api.ts", 7),
    ]
