import { useState } from "react";
import { api } from "../api/client.ts";
import { FormError } from "../components/feedback.tsx";
import { NameField } from "../components/field.tsx";
import { Card, PageHeader } from "../components/layout.tsx";
import { navigate } from "../router.tsx";
import { useMe, useSession } from "../session.tsx";
import { useFormSubmit } from "../use-form-submit.ts";

export function CreateWorkspacePage() {
  const me = useMe();
  const { refresh } = useSession();
  const [name, setName] = useState("");
  const form = useFormSubmit({
    send: async () => {
      const workspace = await api.post("/api/workspaces", { body: { name } });
      await refresh();
      return workspace;
    },
    onDone: (workspace) => navigate(`/w/${encodeURIComponent(workspace.id)}`),
    inlineFields: ["name"],
  });

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
        <form className="form form-narrow" onSubmit={form.onSubmit} noValidate ref={form.formRef}>
          <NameField
            label="Workspace name"
            autoFocus
            value={name}
            onChange={setName}
            error={form.fieldErrors.name}
            placeholder="Acme Inc."
          />
          <FormError error={form.formLevelError} />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={form.busy || !name.trim()}>
              {form.busy ? "Creating…" : "Create workspace"}
            </button>
          </div>
        </form>
      </Card>
    </>
  );
}
