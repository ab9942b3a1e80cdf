"""A class wrapping an axios instance, its `request` method bound and exported (#10, cause A4
of bench/corpus, the client openapi-ts-request generates against):
`export const request = defRequest.request.bind(defRequest)`, then
`request<API.City>(`/city/${param0}`, { method: 'GET' })` in another module."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

REQUEST = b"""import Axios, { type AxiosInstance } from "axios";

export class PureHttp {
  axiosInstance: AxiosInstance;

  constructor(config) {
    this.axiosInstance = Axios.create(config);
  }

  public request<T>(url: string, axiosConfig?: PureHttpRequestConfig): Promise<T> {
    const config = { url, withToken: true, ...axiosConfig };
    return new Promise((resolve, reject) => {
      this.axiosInstance.request(config).then(resolve).catch(reject);
    });
  }
}

const defRequest = new PureHttp({ timeout: 10000 });
export default defRequest;
export const request = defRequest.request.bind(defRequest)
"""

CITY = b"""import type { AxiosRequestConfig } from 'axios';
import { request } from '@/utils/request';

export async function getCityCity(params, options?: AxiosRequestConfig) {
  const { city: param0, ...queryParams } = params;
  return request<API.CityGetRes>(`/city/${param0}`, {
    method: 'GET',
    params: { ...queryParams },
  });
}

export async function deleteCityCity(params) {
  const { city: param0 } = params;
  return request<API.CityDeleteRes>(`/city/${param0}`, { method: 'DELETE' });
}
"""

BACKEND = b"""from fastapi import FastAPI

app = FastAPI()


@app.get("/city/{city}")
def get_city(city: str): ...
"""


def test_a_bound_request_method_of_a_wrapping_class_is_a_client() -> None:
    files = {
        "frontend/src/utils/request/index.ts": REQUEST,
        "frontend/src/services/city.ts": CITY,
        "backend/app.py": BACKEND,
    }
    result = scan(files, ContractsConfig())
    city = "frontend/src/services/city.ts"
    assert sorted((c.method, c.path, c.file, c.line) for c in result.calls) == [
        ("DELETE", "/city/{}", city, 14),
        ("GET", "/city/{}", city, 6),
    ]
    assert [(f.code, f.path, f.line) for f in result.findings if f.severity == "error"] == [
        ("method-not-allowed", city, 14)
    ]
