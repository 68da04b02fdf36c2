import type net from "node:net";
import type { GetAccountCommandOutput, SESv2Client } from "@aws-sdk/client-sesv2";
import nodemailer from "nodemailer";
import { clean, connectionFailure, type Endpoint, guardedAgent, retryAfter } from "../../../mail/https.ts";
import { nodemailerMessage, type OutgoingEmail, type SendResult } from "../../../mail/sender.ts";
import { type ClassifiedError, classified } from "../../../mail/smtp-errors.ts";
import { failedStep, type TestStep, testEmailStep, timed } from "../../../mail/test-steps.ts";
import { DeliveryError, deliveryErrorOf, type Transport } from "../../../mail/transport.ts";
import type { OutboundPolicy } from "../../../security/outbound-guard.ts";
import { replyFailure } from "../email-api/replies.ts";
import { interpretSesReply, replyLine, type SesFixValues, type SesReply } from "./replies.ts";

/** Connect, TLS and the answer together; SES answers SendEmail in well under a second when it is well. */
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_MESSAGE_CHARS = 300;

export interface SesTransportOptions extends SesFixValues {
  /** SES's regional endpoint, or the operator's POSTERN_SES_API_URL for every region. */
  apiUrl: string | undefined;
  /** Keys, or undefined for the AWS SDK's default provider chain of the Postern process. */
  keys: { accessKeyId: string; secretAccessKey: string } | undefined;
  policy: OutboundPolicy;
  /** Requests in flight at once from this process. */
  maxConcurrent: number;
  onConnection?: ((socket: net.Socket) => void) | undefined;
  /** The process's clock, for Retry-After given as a date. */
  now: () => Date;
  /** The fix for a failed step (the kind's `explain`). */
  explain: (error: ClassifiedError) => string | undefined;
}

/** What the SDK's errors carry (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/handling-exceptions.html). */
interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { headers?: Record<string, string> };
}

/**
 * SendEmail with `Content.Raw` (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html): nodemailer
 * composes the message exactly as the SMTP transports do, so Auto-Submitted, Content-Language and Reply-To
 * are the same on every transport (SES's Simple content has no place for the first two).
 */
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
async function mime(email: OutgoingEmail): Promise<Uint8Array> {
  return (await composer.sendMail(nodemailerMessage(email))).message as Buffer;
}

type SesSdk = typeof import("@aws-sdk/client-sesv2");
let sdk: Promise<SesSdk> | undefined;
/** The AWS SDK loads with the first SES provider a process uses, not at start (a tenth of a second). */
function sesSdk(): Promise<SesSdk> {
  sdk ??= import("@aws-sdk/client-sesv2");
  return sdk;
}

/** Amazon SES v2 behind the transport contract: one signed HTTPS request per email, through the vendor's SDK. */
export function sesTransport(options: SesTransportOptions): Transport {
  const url = new URL(options.apiUrl ?? `https://email.${options.region}.amazonaws.com`);
  const endpoint: Endpoint = {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port || 443),
    operator: options.apiUrl !== undefined,
  };
  const agent = guardedAgent(endpoint, options.policy, options.maxConcurrent, options.onConnection);
  // The SDK warns on Node 20 about versions published after January 2027; the version pinned in the
  // lockfile is the one running, so the operator has nothing to act on in every process's stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  let created: Promise<SESv2Client> | undefined;
  const clientOf = () => {
    created ??= sesSdk().then(
      ({ SESv2Client }) =>
        new SESv2Client({
          region: options.region,
          ...(options.apiUrl ? { endpoint: options.apiUrl } : {}),
          // Without keys the SDK's default chain finds the process's own (environment, profile, container or instance role).
          ...(options.keys ? { credentials: options.keys } : {}),
          // Postern's worker retries, on its own schedule and across processes: the SDK's own retries would hide
          // a throttling reply from the sender's lane and multiply the load on an SES outage.
          maxAttempts: 1,
          requestHandler: {
            httpsAgent: agent,
            requestTimeout: REQUEST_TIMEOUT_MS,
            connectionTimeout: CONNECT_TIMEOUT_MS,
          },
        }),
    );
    return created;
  };

  /** Any failure of a call, classified: SES's answer, the credentials lookup, or no answer at all. */
  function failureOf(err: unknown): DeliveryError {
    const e = err as SdkError;
    const status = e.$metadata?.httpStatusCode;
    if (status === undefined) {
      if (e.name === "CredentialsProviderError") {
        return new DeliveryError(
          classified(
            "auth",
            "The Postern process has no AWS credentials of its own (no role, profile or AWS_* variables). The operator must give it some, or enter an access key.",
          ),
        );
      }
      return new DeliveryError(connectionFailure(err, endpoint, "Amazon SES"));
    }
    const reply: SesReply = {
      status,
      code: clean(e.name ?? "", 80),
      message: clean(e.message ?? "", MAX_MESSAGE_CHARS),
      requestId: e.$metadata?.requestId ? clean(e.$metadata.requestId, 80) : undefined,
      retryAfterSeconds: retryAfter(e.$response?.headers?.["retry-after"], options.now()),
    };
    return replyFailure(interpretSesReply(reply, options), reply, replyLine(reply));
  }

  async function send(email: OutgoingEmail): Promise<SendResult> {
    const [data, client, { SendEmailCommand }] = await Promise.all([mime(email), clientOf(), sesSdk()]);
    const sent = await client
      .send(
        new SendEmailCommand({
          FromEmailAddress: email.from.address,
          Destination: { ToAddresses: [email.to] },
          Content: { Raw: { Data: data } },
          ...(options.configurationSet ? { ConfigurationSetName: options.configurationSet } : {}),
        }),
      )
      .catch((err: unknown) => {
        throw failureOf(err);
      });
    const id = clean(sent.MessageId ?? "", 120);
    return {
      messageId: email.messageId,
      smtpReply: `200 OK (MessageId ${id}${sent.$metadata.requestId ? `, request-id ${clean(sent.$metadata.requestId, 80)}` : ""})`,
      note: `Accepted by SES in ${options.region}: not yet delivered; bounces and complaints go to SES's notifications for ${options.senderEmail}.`,
    };
  }

  return {
    send,
    async probe({ email }) {
      const [client, commands] = await Promise.all([clientOf(), sesSdk()]);
      const account = await timed(() => client.send(new commands.GetAccountCommand({})));
      const steps: TestStep[] = [];
      if (account.error) {
        const error = failureOf(account.error).classified;
        if (!deniedOnlyThisCall(account.error)) {
          return failedStep("authenticate", error, account.durationMs, options.explain(error), [
            "permission",
            "send",
          ]);
        }
        steps.push({
          name: "authenticate",
          outcome: "skipped",
          durationMs: account.durationMs,
          detail:
            "The credentials may not call ses:GetAccount, which sending does not need: Postern cannot tell whether they work without sending. Send a test email to prove them.",
        });
      } else {
        steps.push(accountStep(account.value!, account.durationMs, options.region));
        if (steps[0]!.outcome === "failed") return [...steps, skipped("permission"), skipped("send")];
      }
      steps.push(await identityStep(client, commands, options, failureOf));
      if (!email) {
        steps.push({
          ...skipped("send"),
          detail: "Nothing was sent: SES has no dry run. Send a test email to prove delivery.",
        });
        return steps;
      }
      return [
        ...steps,
        ...(await testEmailStep(
          () => send(email),
          "SES",
          (err) => deliveryErrorOf(err).classified,
          options.explain,
        )),
      ];
    },
    async close() {
      (await created)?.destroy();
      agent.destroy();
    },
  };
}

const skipped = (name: TestStep["name"]): TestStep => ({ name, outcome: "skipped", durationMs: 0 });

/** A working key that lacks the read permission: IAM's AccessDeniedException, not a refused key. */
const deniedOnlyThisCall = (err: unknown) => (err as SdkError).name === "AccessDeniedException";

/** What GetAccount says about the account in this region (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html). */
function accountStep(account: GetAccountCommandOutput, durationMs: number, region: string): TestStep {
  const quota = account.SendQuota;
  const limits = quota
    ? ` It has sent ${quota.SentLast24Hours ?? 0} of ${quota.Max24HourSend ?? "?"} emails in the last 24 hours, at most ${quota.MaxSendRate ?? "?"} a second.`
    : "";
  if (account.SendingEnabled === false || account.EnforcementStatus === "SHUTDOWN") {
    return {
      name: "authenticate",
      outcome: "failed",
      durationMs,
      errorClass: "auth",
      detail: `The credentials work, but sending is ${account.EnforcementStatus === "SHUTDOWN" ? "shut down" : "paused"} for this account in ${region} (enforcement status ${account.EnforcementStatus ?? "unknown"}).${limits}`,
      hint: "Open the SES console → Account dashboard in this region: AWS explains why sending stopped and how to resume it.",
    };
  }
  const sandbox = account.ProductionAccessEnabled !== true;
  return {
    name: "authenticate",
    outcome: "ok",
    durationMs,
    detail: `The credentials work. The account ${sandbox ? "is in the SES sandbox" : "has production access"} in ${region}${account.EnforcementStatus && account.EnforcementStatus !== "HEALTHY" ? ` (enforcement status ${account.EnforcementStatus})` : ""}.${limits}`,
    ...(sandbox
      ? {
          hint: "In the sandbox, SES sends only to verified addresses, at most 200 a day: request production access in the SES console → Account dashboard before real users log in (https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html).",
        }
      : {}),
  };
}

/** Whether SES may send From the sender: the address itself, or its domain, verified in this region. */
async function identityStep(
  client: SESv2Client,
  { GetEmailIdentityCommand }: SesSdk,
  options: SesTransportOptions,
  failureOf: (err: unknown) => DeliveryError,
): Promise<TestStep> {
  const started = performance.now();
  const domain = options.senderEmail.slice(options.senderEmail.lastIndexOf("@") + 1);
  const durationMs = () => Math.round(performance.now() - started);
  for (const identity of [options.senderEmail, domain]) {
    try {
      const found = await client.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
      if (found.VerifiedForSendingStatus) {
        return {
          name: "permission",
          outcome: "ok",
          durationMs: durationMs(),
          detail: `SES may send From ${options.senderEmail}: ${identity === domain ? `the domain ${domain}` : "the address"} is verified in ${options.region}.`,
        };
      }
      return {
        name: "permission",
        outcome: "failed",
        durationMs: durationMs(),
        errorClass: "auth",
        detail: `${identity === domain ? `The domain ${domain}` : options.senderEmail} is an identity in ${options.region}, but not verified yet (DKIM ${found.DkimAttributes?.Status ?? "status unknown"}).`,
        hint:
          identity === domain
            ? "Publish the DKIM CNAME records SES shows under Configuration → Identities → the domain; verification follows within 72 hours."
            : "Open the link in the verification email AWS sent to the address, or verify its domain instead.",
      };
    } catch (err) {
      if ((err as SdkError).name === "NotFoundException") continue;
      if (deniedOnlyThisCall(err)) {
        return {
          name: "permission",
          outcome: "skipped",
          durationMs: durationMs(),
          detail: "The credentials may not call ses:GetEmailIdentity: send a test email to prove the sender.",
        };
      }
      const error = failureOf(err).classified;
      return failedStep("permission", error, durationMs(), options.explain(error))[0]!;
    }
  }
  return {
    name: "permission",
    outcome: "failed",
    durationMs: durationMs(),
    errorClass: "auth",
    detail: `Neither ${options.senderEmail} nor ${domain} is an identity of this account in ${options.region}.`,
    hint: "Create the identity in the SES console → Configuration → Identities of this region (a domain with DKIM is best), then test again (https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html).",
  };
}
