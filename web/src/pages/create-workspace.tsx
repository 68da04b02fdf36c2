import { type FormEvent, useState } from "react";
import { type ApiError, api, toApiError } from "../api/client.ts";
import { FormError } from "../components/feedback.tsx";
import { TextField } from "../components/field.tsx";
import { Card, PageHeader } from "../components/layout.tsx";
import { navigate } from "../router.tsx";
import { useMe, useSession } from "../session.tsx";

export function CreateWorkspacePage() {
  const me = useMe();
  const { refresh } = useSession();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const workspace = await api.post("/api/workspaces", { body: { name } });
      await refresh();
      navigate(`/w/${encodeURIComponent(workspace.id)}`);
    } catch (err) {
      setError(toApiError(err));
      setBusy(false);
    }
  };

  const nameError = error?.fieldErrors().name;
  return (
    <>
      <PageHeader
        title="Create a workspace"
        description={
          me.workspaces.length === 0
            ? "You are not in any workspace yet. Create one for your apps, or ask a teammate to invite you."
            : "A workspace holds apps and the people who manage them. You become its owner."
        }
      />
      <Card>
        <form className="form form-narrow" onSubmit={submit} noValidate>
          <TextField
            label="Workspace name"
            name="name"
            required
            autoFocus
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={nameError}
            placeholder="Acme Inc."
          />
          <FormError error={nameError ? undefined : error} />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy || !name.trim()}>
              {busy ? "Creating…" : "Create workspace"}
            </button>
          </div>
        </form>
      </Card>
    </>
  );
}
