// Microsoft Graph error responses for sendMail. Shape from https://learn.microsoft.com/graph/errors:
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}. Codes and texts from
// https://learn.microsoft.com/graph/api/user-sendmail and real responses quoted in public
// bug reports; the 413 body and the texts for Exchange's sending limits are not
// documented anywhere found, so those are marked as the fake's own.

export interface GraphError {
  status: number;
  code: string;
  message: string;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
}

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; "request-id": string; "client-request-id": string };
  };
}

export const graphErrors = {
  /** No Authorization header. */
  tokenMissing: (): GraphError => ({
    status: 401,
    code: "InvalidAuthenticationToken",
    message: "Access token is empty.",
  }),
  /** Not a JWT (merrycodes/Office-E5#6). */
  tokenMalformed: (): GraphError => ({
    status: 401,
    code: "InvalidAuthenticationToken",
    message: "CompactToken parsing failed with error code: 80049217",
  }),
  /** s1t5/mail-archiver#267; older: "Access token has expired or is not yet valid." */
  tokenExpired: (): GraphError => ({
    status: 401,
    code: "InvalidAuthenticationToken",
    message: "Lifetime validation failed, the token is expired.",
  }),
  tokenAudience: (): GraphError => ({
    status: 401,
    code: "InvalidAuthenticationToken",
    message: "Access token validation failure. Invalid audience.",
  }),
  /** Bad signature, unknown issuer or tenant, revoked. */
  tokenInvalid: (): GraphError => ({
    status: 401,
    code: "InvalidAuthenticationToken",
    message: "Access token validation failure.",
  }),
  /** No Mail.Send in roles and no RBAC-for-Applications assignment covering the mailbox. */
  accessDenied: (): GraphError => ({
    status: 403,
    code: "ErrorAccessDenied",
    message: "Access is denied. Check credentials and try again.",
  }),
  /** https://learn.microsoft.com/graph/auth-limit-mailbox-access (current text as seen in 2024 logs). */
  accessPolicyDenied: (): GraphError => ({
    status: 403,
    code: "ErrorAccessDenied",
    message:
      "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.",
  }),
  /** https://learn.microsoft.com/graph/outlook-send-mail-from-other-user */
  sendAsDenied: (): GraphError => ({
    status: 403,
    code: "ErrorSendAsDenied",
    message:
      "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.",
  }),
  /** InnoGE/laravel-msgraph-mail#16. */
  invalidUser: (user: string): GraphError => ({
    status: 404,
    code: "ErrorInvalidUser",
    message: `The requested user '${user}' is invalid.`,
  }),
  resourceNotFound: (): GraphError => ({
    status: 404,
    code: "ResourceNotFound",
    message: "Resource could not be discovered.",
  }),
  /** Unlicensed, guest, on-premises or soft-deleted mailbox (O365/python-o365#438 and later logs). */
  mailboxNotEnabled: (): GraphError => ({
    status: 404,
    code: "MailboxNotEnabledForRESTAPI",
    message: "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
  }),
  meWithAppToken: (): GraphError => ({
    status: 400,
    code: "BadRequest",
    message: "/me request is only valid with delegated authentication flow.",
  }),
  unknownSegment: (segment: string): GraphError => ({
    status: 400,
    code: "BadRequest",
    message: `Resource not found for the segment '${segment}'.`,
  }),
  invalidJson: (): GraphError => ({
    status: 400,
    code: "BadRequest",
    message:
      "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
  }),
  /** https://learn.microsoft.com/graph/api/user-sendmail (MIME form). */
  invalidBase64Mime: (): GraphError => ({
    status: 400,
    code: "ErrorMimeContentInvalidBase64String",
    message: "Invalid base64 string for MIME content.",
  }),
  invalidMime: (): GraphError => ({
    status: 400,
    code: "ErrorMimeContentInvalid",
    message: "The MIME content is invalid.",
  }),
  unsupportedContentType: (type: string): GraphError => ({
    status: 415,
    code: "UnsupportedMediaType",
    message: `Content type '${type}' is not supported.`,
  }),
  invalidRecipients: (): GraphError => ({
    status: 400,
    code: "ErrorInvalidRecipients",
    message: "At least one recipient is not valid.",
  }),
  missingMessage: (): GraphError => ({
    status: 400,
    code: "ErrorInvalidParameter",
    message: "The value of the parameter 'Message' is empty.",
  }),
  /** GNOME/evolution-ews camel-m365-folder.c quotes these two. */
  invalidHeaderName: (name: string): GraphError => ({
    status: 400,
    code: "InvalidInternetMessageHeader",
    message: `The internet message header name '${name}' should start with 'x-' or 'X-'.`,
  }),
  tooManyHeaders: (): GraphError => ({
    status: 400,
    code: "InvalidInternetMessageHeaderCollection",
    message: "Maximum number of headers in one message should be less than or equal to 5.",
  }),
  /** Graph refuses requests over 4 MB (MS Q&A 1824204; microsoftgraph/microsoft-graph-docs#9834); the body is the fake's. */
  requestTooLarge: (limit: number): GraphError => ({
    status: 413,
    code: "RequestEntityTooLarge",
    message: `The request body exceeds the maximum of ${limit} bytes. Use an upload session for large attachments.`,
  }),
  /** Status unverified (a decompiled Exchange enum); Exchange's default maximum is 35 MB. */
  messageTooLarge: (limit: number): GraphError => ({
    status: 400,
    code: "ErrorMessageSizeExceeded",
    message: `The message exceeds the maximum supported size of ${limit} bytes.`,
  }),
  /** magodo/terraform-provider-outlook#21, alcionai/corso#3695. */
  concurrencyThrottled: (retryAfter: number): GraphError => ({
    status: 429,
    code: "ApplicationThrottled",
    message: "Application is over its MailboxConcurrency limit.",
    retryAfter,
  }),
  /** Outlook service limit of 10,000 requests per 10 minutes per app and mailbox (https://learn.microsoft.com/graph/throttling-limits). */
  requestRateThrottled: (retryAfter: number): GraphError => ({
    status: 429,
    code: "ApplicationThrottled",
    message: "Application is over its IncomingBytes or request limit.",
    retryAfter,
  }),
  /** Exchange's 30 messages per minute; Graph's own answer is undocumented (the fake's text). */
  messageRateThrottled: (retryAfter: number): GraphError => ({
    status: 429,
    code: "ApplicationThrottled",
    message: "Mailbox is over its limit of messages submitted per minute.",
    retryAfter,
  }),
  /** Exchange's 10,000 recipients per rolling 24 hours; Graph's own answer is undocumented (the fake's text). */
  recipientRateThrottled: (retryAfter: number): GraphError => ({
    status: 429,
    code: "ApplicationThrottled",
    message: "Mailbox is over its limit of recipients per day.",
    retryAfter,
  }),
  /** https://learn.microsoft.com/graph/errors: "may be specified in a Retry-After header". */
  serviceUnavailable: (retryAfter: number): GraphError => ({
    status: 503,
    code: "serviceNotAvailable",
    message:
      "The service is temporarily unavailable for maintenance or is overloaded. You may repeat the request after a delay.",
    retryAfter,
  }),
};

/** "2024-05-01T12:00:00", the innerError date format (no fraction, no zone). */
export function graphErrorBody(
  err: GraphError,
  requestId: string,
  clientRequestId: string,
  now: Date,
): GraphErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      innerError: {
        date: now.toISOString().slice(0, 19),
        "request-id": requestId,
        "client-request-id": clientRequestId,
      },
    },
  };
}
