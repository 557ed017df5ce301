/** Register, log in, log out (API.md "Auth"). */
import { type Api, ok, session } from "../api/client";

export async function register(api: Api, email: string, password: string, nickname: string) {
  return ok(await api.POST("/v1/auth/register", { body: { email, password, nickname } }));
}

export async function login(api: Api, email: string, password: string) {
  const result = ok(await api.POST("/v1/auth/login", { body: { email, password } }));
  session.save(result);
  return result;
}

export async function logout(api: Api): Promise<void> {
  try {
    await api.POST("/v1/auth/logout");
  } finally {
    session.clear();
  }
}

// --- Lands with its issue (accounts and sessions) -------------------------------------------
// Email verification: POST /v1/auth/email/verify {token} (the token is in the local mailbox,
// GET /_local/mail?to=...), POST /v1/auth/email/verify/resend; show `email_verified` from
// GET /v1/users/me.
// Refresh: POST /v1/auth/refresh {refresh_token} before `expires_at`, then session.save(...);
// a 401 invalid_token means the session is over (log in again).
// Sessions: GET /v1/auth/sessions, DELETE /v1/auth/sessions/{id}; a `session.revoked` frame
// on the WebSocket logs this tab out.
