/** Friends and friend requests (API.md "Friends"). */
import { type Api, ok } from "../api/client";

export async function overview(api: Api) {
  return ok(await api.GET("/v1/friends"));
}

export async function request(api: Api, nickname: string) {
  return ok(await api.POST("/v1/friends/requests", { body: { nickname } })).status;
}

export async function accept(api: Api, nickname: string) {
  await api.POST("/v1/friends/requests/{nickname}/accept", { params: { path: { nickname } } });
}

export async function reject(api: Api, nickname: string) {
  await api.POST("/v1/friends/requests/{nickname}/reject", { params: { path: { nickname } } });
}

export async function remove(api: Api, nickname: string) {
  await api.DELETE("/v1/friends/{nickname}", { params: { path: { nickname } } });
}

// Blocking (PUT/DELETE /v1/blocks/{user_id}, GET /v1/blocks) lands with its issue: a
// features/blocks.ts beside this one, and a "Block" button next to "Remove" in ui/friends.ts.
