/**
 * Files go straight to object storage (API.md "Media uploads"): ask for a presigned POST, send
 * the form to it (fields first, the file last), then name the upload id in a message or profile.
 */
import { type Api, ok } from "../api/client";

export async function upload(api: Api, file: File, purpose: "attachment" | "avatar") {
  const created = ok(
    await api.POST("/v1/uploads", {
      body: {
        purpose,
        content_type: file.type || "application/octet-stream",
        size: file.size,
        filename: file.name,
      },
    }),
  );
  const form = new FormData();
  for (const [name, value] of Object.entries(created.upload.fields)) form.append(name, value);
  form.append("file", file);
  const stored = await fetch(created.upload.url, { method: "POST", body: form });
  if (!stored.ok) throw new Error(`upload refused by storage: ${stored.status}`);
  return created.upload_id;
}
