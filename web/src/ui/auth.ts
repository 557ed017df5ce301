/** The signed-out view: register (then log in) or log in. */
import type { Api } from "../api/client";
import { h } from "../dom";
import { login, register } from "../features/auth";

export function authView(api: Api, onSignedIn: () => void): HTMLElement {
  const status = h("p", { class: "status", "data-testid": "auth-status" });
  const field = (id: string, label: string, type = "text") =>
    h("label", {}, label, h("input", { id, name: id, type, required: true, "data-testid": id }));

  const registerForm = h(
    "form",
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const form = new FormData(event.target as HTMLFormElement);
        const [email, password, nickname] = ["register-email", "register-password", "register-nickname"].map(
          (k) => String(form.get(k)),
        ) as [string, string, string];
        try {
          await register(api, email, password, nickname);
          await login(api, email, password);
          onSignedIn();
        } catch (error) {
          status.textContent = String(error instanceof Error ? error.message : error);
        }
      },
    },
    h("h2", {}, "Register"),
    field("register-email", "Email", "email"),
    field("register-password", "Password", "password"),
    field("register-nickname", "Nickname"),
    h("button", { type: "submit", "data-testid": "register-submit" }, "Register"),
  );

  const loginForm = h(
    "form",
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const form = new FormData(event.target as HTMLFormElement);
        try {
          await login(api, String(form.get("login-email")), String(form.get("login-password")));
          onSignedIn();
        } catch (error) {
          status.textContent = String(error instanceof Error ? error.message : error);
        }
      },
    },
    h("h2", {}, "Log in"),
    field("login-email", "Email", "email"),
    field("login-password", "Password", "password"),
    h("button", { type: "submit", "data-testid": "login-submit" }, "Log in"),
  );

  return h("main", { class: "auth" }, h("h1", {}, "Messenger"), registerForm, loginForm, status);
}
