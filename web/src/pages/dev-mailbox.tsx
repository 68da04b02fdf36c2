import { useState } from "react";
import { api } from "../api/client.ts";
import type { DevMessage } from "../api/types.ts";
import { EmptyState, ErrorNotice, Loading } from "../components/feedback.tsx";
import { PageHeader } from "../components/layout.tsx";
import { Tabs } from "../components/tabs.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../use-resource.ts";
import "./dev-mailbox.css";

const links = (text: string) => [...new Set(text.match(/https?:\/\/[^\s<>"')]+/g) ?? [])];

/** The emails Postern's built-in dev mailbox captured (the default sender in the embedded setup). */
export function DevMailboxPage() {
  const inbox = useResource("dev-inbox", () => api.get("/api/dev/inbox"), {
    pollMs: 3000,
  });
  const [selectedId, setSelectedId] = useState<string | undefined>();
  const messages = inbox.data?.messages ?? [];
  const selected = messages.find((m) => m.id === selectedId) ?? messages[0];

  return (
    <>
      <PageHeader
        title="Dev mailbox"
        description="Postern is running without an outgoing mail server, so every email it sends lands here instead. Nothing leaves this machine. New mail appears on its own."
      />
      {inbox.error && <ErrorNotice error={inbox.error} onRetry={() => void inbox.reload()} />}
      {inbox.loading && !inbox.data ? (
        <Loading label="Loading the dev mailbox…" />
      ) : messages.length === 0 ? (
        !inbox.error && (
          <EmptyState title="No emails yet">
            Ask for a sign-in code, or send an end-user login from one of your apps; it shows up here within
            seconds.
          </EmptyState>
        )
      ) : (
        <div className="mailbox">
          <ul className="mailbox-list" aria-label="Messages">
            {messages.map((m) => (
              <li key={m.id}>
                <button
                  type="button"
                  className="mailbox-item"
                  aria-current={m.id === selected?.id ? "true" : undefined}
                  onClick={() => setSelectedId(m.id)}
                >
                  <span className="mailbox-item-top">
                    <span className="mailbox-item-to">{m.to.join(", ")}</span>
                    <span className="mailbox-item-time">
                      <Time iso={m.receivedAt} />
                    </span>
                  </span>
                  <span className="mailbox-item-subject">{m.subject}</span>
                </button>
              </li>
            ))}
          </ul>
          {selected && <MessageView key={selected.id} message={selected} />}
        </div>
      )}
    </>
  );
}

function MessageView({ message }: { message: DevMessage }) {
  const [view, setView] = useState<"html" | "text">(message.html ? "html" : "text");
  const found = links(message.text);
  return (
    <article className="mailbox-message" aria-label={`Message: ${message.subject}`}>
      <h2 className="mailbox-subject">{message.subject}</h2>
      <dl className="mailbox-meta">
        <dt>From</dt>
        <dd>{message.from}</dd>
        <dt>To</dt>
        <dd>{message.to.join(", ")}</dd>
        <dt>Received</dt>
        <dd>
          <Time iso={message.receivedAt} format="absolute" />
        </dd>
      </dl>
      {found.length > 0 && (
        <div className="mailbox-links">
          <span className="mailbox-links-label">Links in this email</span>
          <ul>
            {found.map((href) => (
              <li key={href}>
                <a href={href}>{href}</a>
              </li>
            ))}
          </ul>
        </div>
      )}
      <Tabs<"html" | "text">
        label="Message format"
        tabs={[
          { key: "html", label: "HTML" },
          { key: "text", label: "Plain text" },
        ]}
        selected={view}
        onSelect={setView}
      >
        {view === "html" ? (
          // sandbox="" : the email's HTML runs no script, submits no form and cannot navigate this page.
          <iframe
            title={`HTML body of ${message.subject}`}
            className="mailbox-frame"
            sandbox=""
            srcDoc={message.html}
          />
        ) : (
          <pre className="mailbox-text">{message.text}</pre>
        )}
      </Tabs>
    </article>
  );
}
