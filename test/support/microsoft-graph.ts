// The Microsoft 365 fakes with Microsoft Graph: the identity and Exchange fakes of microsoft.ts, plus the
// Graph sendMail fake, where the app may send as the mailbox through RBAC for Applications (no Entra
// consent, so its tokens carry no Mail.Send role), and the Postern settings that point at all of them.
import { type GraphFake, type GraphLimits, startGraphFake } from "../fakes/graph.ts";
import { CLIENT_ID, MAILBOX, type MicrosoftFakes, startMicrosoftFakes, TENANT_ID } from "./microsoft.ts";

export interface GraphFakes extends MicrosoftFakes {
  graph: GraphFake;
}

export async function startGraphFakes(
  options: { limits?: Partial<GraphLimits>; env?: Record<string, string> } = {},
): Promise<GraphFakes> {
  const ms = await startMicrosoftFakes();
  const graph = await startGraphFake({
    identity: ms.identity,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  graph.addMailbox(TENANT_ID, { address: MAILBOX });
  graph.assignMailSend(TENANT_ID, CLIENT_ID, [MAILBOX]);
  return {
    ...ms,
    graph,
    env: { ...ms.env, POSTERN_MICROSOFT_GRAPH_URL: graph.url, ...options.env },
    providerBody: (overrides = {}) => ms.providerBody({ transport: "graph", ...overrides }),
    async close() {
      await graph.close();
      await ms.close();
    },
  };
}
