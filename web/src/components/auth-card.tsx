import type { ReactNode } from "react";
import { Brand } from "../shell.tsx";
import "./auth-card.css";

/** A page of its own with one centred card under the brand: signing in, or Postern not answering. */
export function AuthCard({ children }: { children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="auth-brand">
          <Brand />
        </div>
        {children}
      </div>
    </main>
  );
}
