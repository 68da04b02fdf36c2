const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text made safe to stand in HTML text or a quoted attribute: the one escaping that pages, email
 * templates and their built-in words share. Not "/" or "=" (as Mustache's default does), which would
 * turn every link into `https:&#x2F;&#x2F;…` and are harmless inside quotes.
 */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c]!);
