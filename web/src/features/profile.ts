/** The own profile and other users' (API.md "Users"). */
import { type Api, ApiError, ok } from "../api/client";
import { upload } from "./uploads";

export async function me(api: Api) {
  return ok(await api.GET("/v1/users/me"));
}

/**
 * The own profile, waiting for it just after registering: it is created from the
 * `user.registered` event (eventually consistent), so GET /v1/users/me answers
 * 404 profile_not_ready for a moment, and others cannot find the nickname until then.
 */
export async function meWhenReady(api: Api, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await me(api);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "profile_not_ready") || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

export async function user(api: Api, userId: string) {
  return ok(await api.GET("/v1/users/{user_id}", { params: { path: { user_id: userId } } }));
}

export async function updateProfile(api: Api, patch: { description?: string | null }) {
  return ok(await api.PATCH("/v1/users/me", { body: patch }));
}

export async function setAvatar(api: Api, file: File) {
  const avatar_upload_id = await upload(api, file, "avatar");
  return ok(await api.PATCH("/v1/users/me", { body: { avatar_upload_id } }));
}

export async function search(api: Api, q: string) {
  return ok(await api.GET("/v1/users/search", { params: { query: { q, limit: 10 } } })).items;
}

/** Nicknames by user id, fetched once per id (messages and chats carry only ids). */
export class Directory {
  private names = new Map<string, Promise<string>>();
  constructor(private readonly api: Api) {}

  remember(userId: string, nickname: string): void {
    this.names.set(userId, Promise.resolve(nickname));
  }

  nickname(userId: string): Promise<string> {
    let found = this.names.get(userId);
    if (!found) {
      found = user(this.api, userId)
        .then((p) => p.nickname)
        .catch(() => "deleted account");
      this.names.set(userId, found);
    }
    return found;
  }
}
