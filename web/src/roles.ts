import type { Role } from "./api/types.ts";

/** Owners and admins change things; members read. The API enforces it; the UI only explains it. */
export const canManage = (role: Role | undefined) => role === "owner" || role === "admin";

export const roleLabels: Record<Role, string> = { owner: "Owner", admin: "Admin", member: "Member" };

export const roleDescriptions: Record<Role, string> = {
  owner: "Everything, including members and roles",
  admin: "Apps, keys, email provider and members",
  member: "Read apps, delivery log and audit log",
};
