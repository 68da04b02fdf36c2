// SendGrid through its fake: see email-api-spec.ts for what every HTTP email API kind must show.
import { startSendgridVendor } from "../support/email-apis.ts";
import { describeEmailApiKind } from "./email-api-spec.ts";

describeEmailApiKind("SendGrid", startSendgridVendor);
