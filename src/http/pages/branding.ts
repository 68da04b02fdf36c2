import type { App } from "../../apps/apps.ts";
import type { Branding } from "./layout.ts";

/** What the pages an app's end users see show of the app. */
export function brandingOf(app: App): Branding {
  return { name: app.name, logoUrl: app.logoUrl, accentColor: app.accentColor };
}
