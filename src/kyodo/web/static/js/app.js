// Every page: htmx sends the CSRF token on its requests.
import { csrfToken } from "./api.js";

document.body.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRF-Token"] = csrfToken();
});
