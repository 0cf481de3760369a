// Calls to Kyodo's API from the page: same-origin cookie, the CSRF token echoed in a header.
import { t } from "./i18n.js";
import { sessionEnded } from "./session.js";

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)kyodo_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export async function request(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (response.status === 401) {
    // Not the API's developer wording: the person's session ended; the page says so once.
    sessionEnded();
    throw new ApiError(401, { ...(data || {}), detail: t("session_ended") });
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const getJSON = (url) => request("GET", url);
export const postJSON = (url, body) => request("POST", url, body);
export const putJSON = (url, body) => request("PUT", url, body);
