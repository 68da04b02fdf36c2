import { useEffect, useId, useState } from "react";
import { type ApiError, api, toApiError } from "../api/client.ts";
import type { Member, Role, WorkspaceSummary } from "../api/types.ts";
import { ConfirmDialog } from "../components/confirm-dialog.tsx";
import { Badge, DraftNotice, ErrorNotice, FormError, Loading } from "../components/feedback.tsx";
import { SelectField, SubmitActions, TextField } from "../components/field.tsx";
import { Card, PageHeader } from "../components/layout.tsx";
import { Time } from "../components/time.tsx";
import { useDraftState } from "../drafts.ts";
import { canManage, roleDescriptions, roleLabels } from "../roles.ts";
import { navigate } from "../router.tsx";
import { useMe, useSession } from "../session.tsx";
import { useFormSubmit } from "../use-form-submit.ts";
import { useResource } from "../use-resource.ts";
import "./members.css";

const roleOptions = (["owner", "admin", "member"] as const).map((r) => ({ value: r, label: roleLabels[r] }));

export function MembersPage({ workspace }: { workspace: WorkspaceSummary }) {
  return (
    <>
      <PageHeader
        title="Members & plan"
        description={`Who can manage ${workspace.name}, and what it has unlocked.`}
      />
      <div className="stack">
        <FeaturesCard workspaceId={workspace.id} />
        {/* Keyed by workspace so their state starts afresh when the workspace changes; distinct as siblings. */}
        <MembersCard key={`members-${workspace.id}`} workspace={workspace} />
        {workspace.role === "owner" && (
          <WorkspaceCard key={`workspace-${workspace.id}`} workspace={workspace} />
        )}
      </div>
    </>
  );
}

function FeaturesCard({ workspaceId }: { workspaceId: string }) {
  const detail = useResource(`workspace:${workspaceId}`, () =>
    api.get("/api/workspaces/{workspaceId}", { path: { workspaceId } }),
  );
  const unlocked = detail.data?.features["custom-email-provider"] === true;
  return (
    <Card title="What is unlocked" id="features">
      {detail.error && <ErrorNotice error={detail.error} onRetry={() => void detail.reload()} />}
      {detail.loading && !detail.data ? (
        <Loading rows={1} />
      ) : (
        detail.data && (
          <div className="feature-row">
            <div className="feature-head">
              <span className="feature-name">Custom Email Provider</span>
              {unlocked ? <Badge tone="success">Unlocked</Badge> : <Badge tone="neutral">Locked</Badge>}
            </div>
            <p className="feature-text">
              {unlocked ? (
                <>
                  Each app can send its login emails through your own sending service, from your own address
                  and name: an SMTP server with a password, Microsoft 365 or Google Workspace with OAuth,
                  Amazon SES, Mailgun, SendGrid, Postmark, Resend or a signed webhook, with fallbacks in
                  order. Set it up in an app's <em>Email provider</em> settings.
                </>
              ) : (
                <>
                  This premium feature is locked, so every app's login emails come from Postern's default
                  sender. The <em>Email provider</em> settings of each app stay visible, but a custom provider
                  cannot be saved, tested or used. The operator of this Postern server unlocks it for the
                  workspace (<code>postern features enable {workspaceId}</code>).
                </>
              )}
            </p>
          </div>
        )
      )}
    </Card>
  );
}

function MembersCard({ workspace }: { workspace: WorkspaceSummary }) {
  const me = useMe();
  const { refresh } = useSession();
  const members = useResource(`members:${workspace.id}`, () =>
    api.get("/api/workspaces/{workspaceId}/members", { path: { workspaceId: workspace.id } }),
  );
  const manage = canManage(workspace.role);
  const [rowError, setRowError] = useState<{ accountId: string; error: ApiError }>();
  const [removing, setRemoving] = useState<Member>();
  const [busy, setBusy] = useState(false);

  const changeRole = async (member: Member, role: Role) => {
    setRowError(undefined);
    try {
      const result = await api.patch("/api/workspaces/{workspaceId}/members/{accountId}", {
        path: { workspaceId: workspace.id, accountId: member.accountId },
        body: { role },
      });
      members.set(result);
      if (member.accountId === me.account.id) await refresh();
    } catch (err) {
      setRowError({ accountId: member.accountId, error: toApiError(err) });
    }
  };

  const remove = async (member: Member) => {
    setBusy(true);
    setRowError(undefined);
    try {
      await api.delete("/api/workspaces/{workspaceId}/members/{accountId}", {
        path: { workspaceId: workspace.id, accountId: member.accountId },
      });
      setRemoving(undefined);
      if (member.accountId === me.account.id) {
        await refresh();
        navigate("/");
        return;
      }
      await members.reload();
    } catch (err) {
      setRowError({ accountId: member.accountId, error: toApiError(err) });
      setRemoving(undefined);
    } finally {
      setBusy(false);
    }
  };

  const leaving = removing?.accountId === me.account.id;
  // A sole owner cannot leave (the server refuses it): say so before anything is confirmed.
  const owners = members.data?.members.filter((m) => m.role === "owner").length ?? 0;
  const soleOwnerLeaving = leaving && removing?.role === "owner" && owners <= 1;
  return (
    <Card
      title="Members"
      id="members"
      description={
        manage
          ? "Invite teammates by email: they sign in with that address, no password."
          : "Owners and admins invite people and change roles."
      }
    >
      {manage && <InviteForm workspace={workspace} onInvited={members.set} />}
      {members.error && <ErrorNotice error={members.error} onRetry={() => void members.reload()} />}
      {members.loading && !members.data ? (
        <Loading rows={2} />
      ) : (
        members.data && (
          <div className="table-wrap">
            <table className="table table-responsive">
              <caption className="visually-hidden">Members of {workspace.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Joined</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {members.data.members.map((m) => {
                  const self = m.accountId === me.account.id;
                  const error = rowError?.accountId === m.accountId ? rowError.error : undefined;
                  return (
                    <tr key={m.accountId}>
                      <td data-label="Email" className="cell-email">
                        <span>
                          <EmailAddress email={m.email} />
                          {self && <span className="muted"> (you)</span>}
                        </span>
                        {error && (
                          <div className="field-error" role="alert">
                            {error.message}
                          </div>
                        )}
                      </td>
                      <td data-label="Role">
                        {manage ? (
                          <RoleSelect member={m} onChange={(role) => void changeRole(m, role)} />
                        ) : (
                          roleLabels[m.role]
                        )}
                      </td>
                      <td data-label="Joined">
                        <Time iso={m.joinedAt} />
                      </td>
                      <td className="cell-actions">
                        {(manage || self) && (
                          <button
                            type="button"
                            className="btn btn-ghost btn-sm btn-danger-text"
                            onClick={() => setRemoving(m)}
                            aria-label={self ? "Leave workspace" : `Remove ${m.email}`}
                          >
                            {self ? "Leave" : "Remove"}
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )
      )}
      <ConfirmDialog
        open={soleOwnerLeaving}
        title={`You are the only owner of ${workspace.name}`}
        onCancel={() => setRemoving(undefined)}
      >
        A workspace needs an owner. Make another member an owner first, then leave; or delete the workspace
        below if nobody needs it any more.
      </ConfirmDialog>
      <ConfirmDialog
        open={removing !== undefined && !soleOwnerLeaving}
        title={leaving ? `Leave ${workspace.name}?` : `Remove ${removing?.email ?? ""}?`}
        confirmLabel={busy ? "Working…" : leaving ? "Leave workspace" : "Remove member"}
        busy={busy}
        onCancel={() => setRemoving(undefined)}
        onConfirm={() => removing && void remove(removing)}
      >
        {leaving
          ? "You lose access to its apps until someone invites you again."
          : "They lose access to this workspace's apps at once. You can invite them again later."}
      </ConfirmDialog>
    </Card>
  );
}

/** An address that may wrap before its @ rather than in the middle of a word. */
function EmailAddress({ email }: { email: string }) {
  const at = email.lastIndexOf("@");
  if (at <= 0) return <>{email}</>;
  return (
    <>
      {email.slice(0, at)}
      <wbr />
      {email.slice(at)}
    </>
  );
}

function RoleSelect({ member, onChange }: { member: Member; onChange(role: Role): void }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id} className="visually-hidden">
        Role of {member.email}
      </label>
      <select
        id={id}
        className="input select input-sm"
        value={member.role}
        onChange={(e) => onChange(e.target.value as Role)}
      >
        {(["owner", "admin", "member"] as const).map((r) => (
          <option key={r} value={r}>
            {roleLabels[r]}
          </option>
        ))}
      </select>
    </>
  );
}

function InviteForm({
  workspace,
  onInvited,
}: {
  workspace: WorkspaceSummary;
  onInvited(result: { members: Member[] }): void;
}) {
  const email = useDraftState("invite.email", "");
  const role = useDraftState<Role>("invite.role", "member");
  const [invited, setInvited] = useState<string>();
  // The confirmation is news about one moment; it should not linger beside later changes.
  useEffect(() => {
    if (!invited) return;
    const timer = window.setTimeout(() => setInvited(undefined), 6000);
    return () => window.clearTimeout(timer);
  }, [invited]);

  const form = useFormSubmit({
    check: () => ({
      email: email.value.trim() ? undefined : "Enter the address your teammate signs in with.",
    }),
    send: () => {
      setInvited(undefined);
      return api.post("/api/workspaces/{workspaceId}/members", {
        path: { workspaceId: workspace.id },
        body: { email: email.value, role: role.value },
      });
    },
    onDone: (result) => {
      onInvited(result);
      setInvited(email.value.trim());
      email.clear("");
      role.clear("member");
    },
    inlineFields: ["email", "role"],
  });

  const error = form.formLevelError;
  return (
    <form className="invite-form" onSubmit={form.onSubmit} noValidate ref={form.formRef}>
      <DraftNotice restored={email.restored || role.restored} />
      <div className="invite-fields">
        <TextField
          label="Email"
          type="email"
          autoComplete="off"
          value={email.value}
          onChange={(e) => email.setValue(e.target.value)}
          error={form.fieldErrors.email}
          placeholder="teammate@company.com"
        />
        <SelectField
          label="Role"
          value={role.value}
          onChange={(e) => role.setValue(e.target.value as Role)}
          error={form.fieldErrors.role}
          hint={roleDescriptions[role.value]}
          options={roleOptions.filter((o) => o.value !== "owner" || workspace.role === "owner")}
        />
        <div className="invite-submit">
          <button type="submit" className="btn btn-primary" disabled={form.busy}>
            {form.busy ? "Inviting…" : "Invite"}
          </button>
        </div>
      </div>
      <div className={error ? "form-error" : "form-success"} role={error ? "alert" : "status"}>
        {error ? error.message : invited ? `${invited} can now sign in and open ${workspace.name}.` : ""}
      </div>
    </form>
  );
}

/** Owners rename the workspace, or delete it with everything in it after typing its name. */
function WorkspaceCard({ workspace }: { workspace: WorkspaceSummary }) {
  const { refresh } = useSession();
  const name = useDraftState("workspace.name", workspace.name);
  const [deleting, setDeleting] = useState(false);
  const [typedName, setTypedName] = useState("");
  const [busy, setBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<ApiError>();
  const rename = useFormSubmit({
    check: () => ({ name: name.value.trim() ? undefined : "Give the workspace a name." }),
    send: async () => {
      await api.patch("/api/workspaces/{workspaceId}", {
        path: { workspaceId: workspace.id },
        body: { name: name.value },
      });
      await refresh();
      name.clear(name.value.trim());
    },
    inlineFields: ["name"],
  });

  const remove = async () => {
    setBusy(true);
    setDeleteError(undefined);
    try {
      await api.delete("/api/workspaces/{workspaceId}", { path: { workspaceId: workspace.id } });
      await refresh();
      navigate("/");
    } catch (err) {
      setDeleteError(toApiError(err));
      setBusy(false);
    }
  };

  return (
    <Card title="Workspace" id="workspace-settings" description="Only owners see this.">
      <DraftNotice restored={name.restored} />
      <form onSubmit={rename.onSubmit} noValidate className="form" ref={rename.formRef}>
        <TextField
          label="Workspace name"
          name="name"
          required
          value={name.value}
          onChange={(e) => {
            name.setValue(e.target.value);
            rename.edited();
          }}
          error={rename.fieldErrors.name}
          hint="Shown in the workspace switcher and to everyone you invite."
        />
        <SubmitActions
          label="Rename"
          busy={rename.busy}
          disabled={name.value.trim() === workspace.name}
          status={rename.saved ? "Renamed" : ""}
          buttonClassName="btn btn-secondary"
          statusClassName="form-success"
        />
        <FormError error={rename.formLevelError} />
      </form>
      <div className="danger-zone">
        <div>
          <div className="danger-zone-title">Delete this workspace</div>
          <p className="muted">
            Its apps, their keys, email providers, templates, end users and delivery log, its members and its
            audit log are removed for good. Members keep their accounts.
          </p>
        </div>
        <button type="button" className="btn btn-danger" onClick={() => setDeleting(true)}>
          Delete workspace
        </button>
      </div>
      <ConfirmDialog
        open={deleting}
        title={`Delete ${workspace.name}?`}
        confirmLabel={busy ? "Deleting…" : "Delete workspace"}
        busy={busy}
        confirmDisabled={typedName.trim() !== workspace.name}
        onCancel={() => {
          setDeleting(false);
          setTypedName("");
        }}
        onConfirm={() => void remove()}
      >
        <p>Everything in it is removed at once and cannot be brought back. Type its name to confirm.</p>
        <TextField
          label={`Type “${workspace.name}” to confirm`}
          name="confirm-name"
          autoComplete="off"
          value={typedName}
          onChange={(e) => setTypedName(e.target.value)}
        />
        <FormError error={deleteError} />
      </ConfirmDialog>
    </Card>
  );
}
