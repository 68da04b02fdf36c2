import type { Role } from "./api/types.ts";

/** Owners and admins change things; members read. The API enforces it; the UI only explains it. */
export const canManage = (role: Role | undefined) => role === "owner" || role === "admin";

export const roleLabels: Record<Role, string> = { owner: "Owner", admin: "Admin", member: "Member" };

export const roleDescriptions: Record<Role, string> = {
  owner: "Everything, including making other owners.",
  admin: "Apps, keys, email provider and members.",
  member: "Reads apps, the delivery log and the audit log.",
};
