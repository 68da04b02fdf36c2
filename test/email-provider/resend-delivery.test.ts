// Resend through its fake: see email-api-spec.ts for what every HTTP email API kind must show.
import { startResendVendor } from "../support/email-apis.ts";
import { describeEmailApiKind } from "./email-api-spec.ts";

describeEmailApiKind("Resend", startResendVendor);
